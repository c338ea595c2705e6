"""The publish screen: the redaction preview, storing in a real git repository, uploading to a
live server on loopback, the copy actions, and each failure as one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from opensession.localdb.store import LocalIndex, SessionRow
from opensession.tui.publish_view import PublishScreen
from tests.gitnative.conftest import git, isolated_git, work_repo
from tests.server.conftest import LiveServer, live, start_server
from tests.tui.hosts import (
    ClaudeLog,
    Scenario,
    ScreenHost,
    flat,
    index_log,
    opensession_home,
    play_screen,
    screen_text,
    settle,
    shows,
)

__all__ = ["isolated_git", "live", "opensession_home", "start_server", "work_repo"]

SECRET = "sk-proj-" + "Ab3" * 16
SESSION_ID = "secret-1"


@pytest.fixture
def database_url() -> None:
    """The live server on SQLite only: the client side does not care about its database."""
    return None


def run(row: SessionRow, scenario: Scenario) -> None:
    play_screen(lambda: PublishScreen(row), scenario)


def secret_session(cwd: Path, tmp_path: Path) -> SessionRow:
    """An indexed session whose prompt holds an OpenAI API key."""
    log = ClaudeLog(SESSION_ID, cwd=str(cwd)).user(f"deploy with OPENAI_API_KEY={SECRET}")
    log.agent("Deployed.")
    return index_log(log.write(tmp_path / "logs" / "secret.jsonl"), SESSION_ID)


def sync_state(session_id: str = SESSION_ID) -> tuple[str, str | None]:
    with LocalIndex.open() as index:
        row = index.get_session(session_id)
    return row.sync_state, row.server_id


def connect(home: Path, live: LiveServer) -> None:
    """Connect opensession to ``live`` with a new account's API key, as `account connect` would."""
    config = home / "config" / "opensession.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[server]\nurl = "{live.url}"\napi_key = "{live.api_key()}"\n')


def test_preview_shows_what_is_redacted_and_where_it_would_go(
    opensession_home: Path, work_repo: Path, tmp_path: Path
) -> None:
    row = secret_session(work_repo, tmp_path)

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        assert screen_text(app).splitlines()[0] == "Publish · secret-1"
        shown = flat(app)
        assert "title deploy with OPENAI_API_KEY=[REDACTED:env_secret]" in shown
        assert "session secret-1" in shown and "tool claude-code" in shown
        assert "events 2" in shown and " bytes" in shown
        assert "redacted redacted 2: env_secret 2" in shown
        assert "server no server connected" in shown
        assert f"git {work_repo} branch opensession/sessions (g stores)" in shown
        assert "state local only" in shown
        assert SECRET not in shown
        assert "nothing leaves the machine until you press u (server) or g (git)" in shown

    run(row, scenario)


def test_g_stores_on_the_sessions_branch_and_records_in_git(
    opensession_home: Path, work_repo: Path, tmp_path: Path
) -> None:
    row = secret_session(work_repo, tmp_path)

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        await pilot.press("g")
        await settle(pilot)
        commit = git(work_repo, "rev-parse", "opensession/sessions")
        shown = flat(app)
        assert f"stored on opensession/sessions at {commit[:12]} ({work_repo})" in shown
        assert "redacted 2: env_secret 2" in shown and "state in git" in shown
        stored = git(work_repo, "show", f"opensession/sessions:sessions/{SESSION_ID}.hail.jsonl")
        assert SECRET not in stored and "[REDACTED:env_secret]" in stored
        assert sync_state() == ("in_git", None)

    run(row, scenario)


def test_u_uploads_to_the_server_and_c_copies_the_share_url(
    opensession_home: Path, live: LiveServer, tmp_path: Path
) -> None:
    connect(opensession_home, live)
    row = secret_session(tmp_path, tmp_path)

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        assert shows(app, f"server {live.url} (u uploads)")
        await pilot.press("C")
        await settle(pilot)
        assert "secret-1 is not uploaded" in flat(app)
        app.clear_notifications()

        await pilot.press("u")
        await settle(pilot)
        state, server_id = sync_state()
        assert state == "uploaded" and server_id
        url = f"{live.url}/session/{server_id}"
        shown = flat(app)
        assert f"uploaded: {url}" in shown and "state uploaded" in shown
        raw = live.client.get(f"/api/sessions/{server_id}/raw")
        assert raw.status_code == 200
        assert SECRET not in raw.text and "[REDACTED:env_secret]" in raw.text

        await pilot.press("C")
        await settle(pilot)
        assert app.clipboard == url
        assert "copied" in flat(app)  # the notification (wrapped over the screen's right side)
        await pilot.press("c")
        assert app.clipboard == SESSION_ID

    run(row, scenario)


def test_failures_are_one_line(opensession_home: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    row = secret_session(plain, tmp_path)

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        await pilot.press("u")
        status = flat(app)
        assert "no server connected: set its URL and API key in Settings, or run" in status
        assert "'opensession account connect --server URL --api-key KEY'" in status
        await pilot.press("g")
        assert shows(app, f"not a git repository: {plain}")
        assert sync_state() == ("local", None)

    run(row, scenario)


def test_an_excluded_project_is_never_published(opensession_home: Path, tmp_path: Path) -> None:
    project = tmp_path / "secret-project"
    project.mkdir()
    config = opensession_home / "config" / "opensession.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[privacy]\nexclude_projects = ["{project}"]\n')
    row = secret_session(project, tmp_path)

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        excluded = f"which privacy.exclude_projects excludes ('{project}'); it is never published"
        assert "nothing to publish" in flat(app)
        assert shows(app, excluded)
        await pilot.press("g")
        assert shows(app, excluded)
        await pilot.press("q")
        assert not isinstance(app.screen, PublishScreen)

    run(row, scenario)
