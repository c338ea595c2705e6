"""``OpenSessionApp``: the terminal UI's shell, with its tabs Sessions (1), Handoff (2) and
Settings (3), the help (``?``) and going back (``q``, ``Esc``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from opensession.localdb.startup import refresh_discovery_on_start
from opensession.localdb.store import find_repo_root
from opensession.tui.help import HelpScreen
from opensession.tui.session_list import SessionsScreen
from opensession.tui.settings_view import SettingsScreen


class OpenSessionApp(App[None]):
    """Every indexed session (only those of ``scope_repo`` when given, until ``Tab`` widens the
    scope), refreshed from the tools' logs unless ``OPS_TUI_REFRESH_DISCOVERY_ON_START`` is
    off in ``environ`` (the process's environment by default)."""

    CSS_PATH = "app.tcss"
    TITLE = "opensession"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_sessions", "Sessions", show=False, tooltip="The Sessions tab"),
        Binding(
            "2", "show_handoff", "Handoff", show=False, tooltip="The Handoff tab, on the picked"
        ),
        Binding("3", "show_settings", "Settings", show=False, tooltip="The Settings tab"),
        Binding("question_mark", "help", "Help", tooltip="This help"),
        Binding("q", "back", "Back/quit", tooltip="Back, or quit from the session list"),
        Binding("escape", "back", "Back", show=False, tooltip="Back"),
    ]

    def __init__(
        self, scope_repo: Path | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        super().__init__()
        self.scope_repo = scope_repo
        # The Repo scope (Tab) of a plain `opensession` is the repository around the cwd.
        repo = scope_repo if scope_repo is not None else find_repo_root(Path.cwd())
        self.sessions = SessionsScreen(
            repo=repo,
            scope="repo" if scope_repo is not None else "local",
            refresh_on_start=refresh_discovery_on_start(os.environ if environ is None else environ),
        )

    def get_default_screen(self) -> SessionsScreen:
        return self.sessions

    def _back_to_sessions(self) -> None:
        for _ in range(len(self.screen_stack) - 1):
            self.pop_screen()

    def action_show_sessions(self) -> None:
        self._back_to_sessions()

    def action_show_handoff(self) -> None:
        self._back_to_sessions()
        self.sessions.action_handoff()

    def action_show_settings(self) -> None:
        if isinstance(self.screen, SettingsScreen):
            return
        self._back_to_sessions()
        self.push_screen(SettingsScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
        else:
            self.exit()

    def on_settings_screen_saved(self, event: SettingsScreen.Saved) -> None:
        if event.paths_changed:
            self.sessions.load_sessions(refresh=True)
