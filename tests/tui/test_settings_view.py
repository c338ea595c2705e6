"""The Settings tab: the server and API key checked on a live server before they are saved,
and the watch paths, written to the real config file."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

from opensession.tui.app import OpenSessionApp
from tests.server.conftest import LiveServer, free_port, live, start_server
from tests.tui.conftest import NO_REFRESH, drive, screen_text, wait_until

__all__ = ["live", "start_server"]


@pytest.fixture
def database_url() -> None:
    """The live server on SQLite only: the settings view does not care about its database."""
    return None


def config_file(ops_home: Path) -> Path:
    return ops_home / "config" / "opensession.toml"


async def fill(pilot: Pilot[object], url: str, key: str = "", paths: str = "") -> None:
    """Open the Settings tab, paste into its fields (replacing what they hold), press Enter."""
    await pilot.press("3", "enter")
    for text in (url, key, paths):
        await pilot.press("ctrl+a", "ctrl+k")
        field = pilot.app.focused
        assert field is not None
        field.post_message(events.Paste(text))
        await pilot.press("tab")
    await pilot.press("shift+tab", "enter")


def message(app: OpenSessionApp) -> str:
    """The settings view's message (the screen wraps it to its width)."""
    return str(app.screen.query_one("#settings-message", Static).render())


def test_saving_checks_the_key_on_the_server_and_writes_the_file_mode_600(
    ops_home: Path, live: LiveServer
) -> None:
    key = live.api_key()
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await fill(pilot, live.url + "/", key, "~/sessions, /srv/logs")
        await wait_until(pilot, lambda: "saved in" in message(app))
        assert message(app).startswith(f"connected to {live.url} as ada; saved in ")
        shown = screen_text(app)
        assert key not in shown
        assert f"{key[:4]}****{key[-4:]} (type a new key to replace it)" in shown

    drive(app, scenario)
    path = config_file(ops_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = tomllib.loads(path.read_text())
    assert saved["server"] == {"url": live.url, "api_key": key}
    assert saved["watchers"]["custom_paths"] == ["~/sessions", "/srv/logs"]  # as typed


def test_a_server_that_cannot_be_reached_is_not_saved(ops_home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await fill(pilot, url, "osk_whatever_key")
        await wait_until(pilot, lambda: message(app).startswith("not saved:"))
        assert message(app).startswith(f"not saved: cannot reach the server at {url}")
        assert "\n" not in message(app)
        assert "osk_whatever_key" not in screen_text(app)

    drive(app, scenario)
    assert not config_file(ops_home).exists()


def test_a_wrong_key_and_a_url_that_is_not_http_are_refused(
    ops_home: Path, live: LiveServer
) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await fill(pilot, live.url, "osk_wrong")
        await wait_until(pilot, lambda: message(app).startswith("not saved:"))
        assert "refused the API key" in message(app)
        await pilot.press("escape", "escape")
        await fill(pilot, "example.com")
        await wait_until(pilot, lambda: message(app).startswith("not saved:"))
        assert "server.url must start with http:// or https://" in message(app)

    drive(app, scenario)
    assert not config_file(ops_home).exists()


def test_watch_paths_alone_are_saved_without_a_server(ops_home: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await fill(pilot, "", "", "/data/agents")
        await wait_until(pilot, lambda: "saved in" in message(app))
        await pilot.press("escape", "s")
        await pilot.pause()
        assert message(app) == f"saved in {config_file(ops_home)}"

    drive(app, scenario)
    saved = tomllib.loads(config_file(ops_home).read_text())
    assert saved["watchers"]["custom_paths"] == ["/data/agents"]
    assert saved["server"]["url"] == ""
