"""``R`` on the session list: choose the repository the Repo scope shows, among those the
indexed sessions belong to (most sessions first)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from opensession.localdb.store import SessionRow


def repositories(rows: Iterable[SessionRow]) -> list[tuple[str, int]]:
    """Each local repository with its number of sessions, most first (then by path). A
    repository known only by its remote URL (its checkout is not on this machine) is left out:
    the Repo scope is about folders here."""
    counts = Counter(row.repo_root for row in rows if row.repo_root and "://" not in row.repo_root)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _sessions(count: int) -> str:
    return f"{count} session" if count == 1 else f"{count} sessions"


class RepoPicker(ModalScreen[str | None]):
    """The repositories as a list; ``Enter`` picks one (dismissed with its path), ``Esc``
    leaves the scope as it was (dismissed with None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", tooltip="Keep the scope as it was"),
    ]
    DEFAULT_CSS = """
    RepoPicker { align: center middle; }
    RepoPicker > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    RepoPicker OptionList { height: auto; max-height: 18; border: none; }
    """

    def __init__(self, repos: list[tuple[str, int]], current: str | None) -> None:
        super().__init__()
        self.repos = repos
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Show the sessions of which repository? (Enter picks, Esc cancels)")
            yield OptionList(
                *(
                    Option(f"{Path(path).name} · {_sessions(count)} · {path}", id=path)
                    for path, count in self.repos
                ),
                id="repos",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [path for path, _count in self.repos]
        if self.current in ids:
            options.highlighted = ids.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
