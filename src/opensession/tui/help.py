"""The help screen: every key of every view, read from the views' own bindings so it cannot
fall out of date."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer, Static


def help_sections() -> list[tuple[str, list[type[DOMNode]]]]:
    """(title, classes whose bindings it lists) of each part of the help, in order."""
    from opensession.tui.app import OpenSessionApp
    from opensession.tui.detail import SessionDetailScreen
    from opensession.tui.handoff_view import HandoffScreen
    from opensession.tui.publish_view import PublishScreen
    from opensession.tui.session_list import SearchBar, SessionsScreen, SessionTable
    from opensession.tui.settings_view import SettingField, SettingsScreen

    return [
        ("Everywhere", [OpenSessionApp]),
        ("Sessions", [SessionsScreen, SessionTable]),
        ("Search box", [SearchBar]),
        ("Session detail", [SessionDetailScreen]),
        ("Handoff", [HandoffScreen]),
        ("Publish", [PublishScreen]),
        ("Settings", [SettingsScreen, SettingField]),
        ("Help", [HelpScreen]),
    ]


def described_keys(owner: type[DOMNode]) -> list[tuple[list[str], str]]:
    """(keys, what they do) of each binding ``owner`` declares itself with a description
    (system ones left out): the tooltip, else the description."""
    described: list[tuple[list[str], str]] = []
    for binding in Binding.make_bindings(owner.__dict__.get("BINDINGS", [])):
        if not binding.description or binding.system:
            continue
        what = binding.tooltip or binding.description
        # "j,down" declares two bindings of one action: one line of the help.
        if described and described[-1][1] == what:
            described[-1][0].append(binding.key)
        else:
            described.append(([binding.key], what))
    return described


def key_label(keys: list[str]) -> str:
    """How keys (``j``, ``down``, ``question_mark``) are written in the help: ``j/Down``."""
    names = {"question_mark": "?", "slash": "/", "escape": "Esc", "space": "Space"}
    return "/".join(names.get(key, key.capitalize() if len(key) > 1 else key) for key in keys)


class HelpScreen(Screen[None]):
    """Every key, grouped by the view it works in."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close the help"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.help_text(), id="help-text")
        yield Footer()

    @staticmethod
    def help_text() -> Content:
        """Every section's keys, one per line: the keys, then what they do."""
        lines: list[Content] = []
        for title, owners in help_sections():
            lines.append(Content.styled(title, "bold $accent"))
            for owner in owners:
                for keys, what in described_keys(owner):
                    label = Content.styled(f"  {key_label(keys):<16}", "bold")
                    lines.append(Content.assemble(label, what))
            lines.append(Content(""))
        return Content("\n").join(lines)
