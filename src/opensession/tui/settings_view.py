"""The Settings tab: the server and API key (checked against the server before they are saved,
as ``opensession account connect`` does) and the extra folders searched for sessions."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from opensession.config.settings import (
    ConfigError,
    Settings,
    load_settings,
    mask_api_key,
    normalize_server_url,
    with_value,
)
from opensession.tui.tabs import TabBar


class SettingField(Input):
    """An input of the settings form."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Save", tooltip="Save the settings (in a field)"),
        Binding("escape", "leave", "Done", tooltip="Leave the field (keys work again)"),
    ]

    def action_leave(self) -> None:
        self.screen.query_one("#settings").focus()


class SettingsScreen(Screen[None]):
    """The settings form; saving checks a new server or API key first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "edit", "Edit", tooltip="Edit the first field"),
        Binding("s,ctrl+s", "save", "Save", tooltip="Save (a new server or key is checked first)"),
        Binding("tab", "app.focus_next", "Next field", show=False, tooltip="Next field"),
        Binding(
            "shift+tab", "app.focus_previous", "Previous", show=False, tooltip="Previous field"
        ),
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the sessions"),
    ]

    class Saved(Message):
        """The settings were saved; ``paths_changed`` when the watch paths are new."""

        def __init__(self, paths_changed: bool) -> None:
            super().__init__()
            self.paths_changed = paths_changed

    def __init__(self) -> None:
        super().__init__()
        self.settings = Settings()

    def compose(self) -> ComposeResult:
        yield TabBar("Settings", id="tabs")
        with VerticalScroll(id="settings"):
            yield Label("Server URL (server.url)", classes="setting-label")
            yield SettingField(placeholder="https://opensession.example.com", id="server-url")
            yield Label("API key (server.api_key)", classes="setting-label")
            yield SettingField(password=True, id="api-key")
            yield Label(
                "Watch paths (watchers.custom_paths), comma-separated", classes="setting-label"
            )
            yield SettingField(placeholder="~/work/sessions, ~/other/logs", id="watch-paths")
            yield Static(id="settings-message")
        yield Footer()

    def on_mount(self) -> None:
        try:
            self.settings = load_settings()
        except ConfigError as exc:
            self._say(str(exc), error=True)
        self.query_one("#server-url", Input).value = self.settings.server_url
        self._show_key()
        paths = ", ".join(str(path) for path in self.settings.custom_paths)
        self.query_one("#watch-paths", Input).value = paths
        # No field has the focus at first, so that 1/2/3, ? and q work as on every tab.
        self.query_one("#settings").focus()

    def action_edit(self) -> None:
        self.query_one("#server-url", Input).focus()

    def _show_key(self) -> None:
        """Leave the key field empty: the saved key is only hinted at, masked."""
        key = self.query_one("#api-key", Input)
        key.value = ""
        masked = mask_api_key(self.settings.api_key)
        key.placeholder = (
            f"{masked} (type a new key to replace it)" if masked else "osk_… (issued on the server)"
        )

    def _say(self, message: str, *, error: bool = False) -> None:
        shown = self.query_one("#settings-message", Static)
        shown.update(" ".join(message.split()))
        shown.set_class(error, "error")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        """Save the form; a new server URL or API key is checked against the server first."""
        url = normalize_server_url(self.query_one("#server-url", Input).value)
        typed_key = self.query_one("#api-key", Input).value.strip()
        paths = self.query_one("#watch-paths", Input).value
        try:
            settings = load_settings()
            wanted = with_value(settings, "server.url", url)
            wanted = with_value(wanted, "watchers.custom_paths", paths)
        except ConfigError as exc:
            self._say(f"not saved: {exc}", error=True)
            return
        if typed_key:
            wanted = replace(wanted, api_key=typed_key)
        server_changed = (wanted.server_url, wanted.api_key) != (
            settings.server_url,
            settings.api_key,
        )
        if wanted.server_url and server_changed:
            self._say(f"checking the API key on {wanted.server_url}…")
            self.connect(wanted)
        else:
            self._save(wanted, "")

    @work(thread=True, exclusive=True, group="settings")
    def connect(self, wanted: Settings) -> None:
        """Check ``wanted``'s API key on its server, then save it (network I/O: a thread)."""
        from opensession.client import ClientError
        from opensession.client.account import verify_api_key

        try:
            user = verify_api_key(wanted.server_url, wanted.api_key)
        except (ValueError, ClientError) as exc:
            reason = exc.message if isinstance(exc, ClientError) else str(exc)
            self.app.call_from_thread(self._say, f"not saved: {reason}", error=True)
            return
        connected = f"connected to {wanted.server_url} as {user.get('nickname')}; "
        self.app.call_from_thread(self._save, wanted, connected)

    def _save(self, wanted: Settings, connected: str) -> None:
        from opensession.config.settings import save_settings

        try:
            path = save_settings(wanted)
        except (ConfigError, OSError) as exc:
            self._say(f"not saved: {exc}", error=True)
            return
        paths_changed = wanted.custom_paths != self.settings.custom_paths
        self.settings = wanted
        self._show_key()
        self._say(f"{connected}saved in {path}")
        self.post_message(self.Saved(paths_changed))
