"""The handoff screen: the selected sessions' handoff shown, validated and saved as a git ref
artifact in a real repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from opensession.localdb.store import SessionRow
from opensession.tui.handoff_view import HandoffScreen
from tests.gitnative.conftest import git, isolated_git, work_repo
from tests.tui.hosts import (
    ClaudeLog,
    Scenario,
    ScreenHost,
    flat,
    index_log,
    opensession_home,
    play_screen,
    settle,
    shows,
)

__all__ = ["isolated_git", "opensession_home", "work_repo"]

ARTIFACTS = "refs/opensession/handoff/artifacts/"


def run(rows: list[SessionRow], scenario: Scenario) -> None:
    play_screen(lambda: HandoffScreen(rows), scenario)


def session_in(folder: Path, tmp_path: Path, session_id: str, prompt: str) -> SessionRow:
    """An indexed session whose working directory is ``folder``: a prompt, a passing test run,
    an edit and a reply."""
    log = (
        ClaudeLog(session_id, cwd=str(folder))
        .user(prompt)
        .tool("Bash", "3 passed", command="pytest -q")
        .tool(
            "Edit",
            "ok",
            file_path=f"{folder}/app.py",
            old_string="print('v1')",
            new_string="print('v2')",
        )
        .agent("Done: app.py prints v2 and the tests pass.")
    )
    return index_log(log.write(tmp_path / "logs" / f"{session_id}.jsonl"), session_id)


def test_shows_validates_and_saves_the_handoff(
    opensession_home: Path, work_repo: Path, tmp_path: Path
) -> None:
    row = session_in(work_repo, tmp_path, "hand-1", "Make app.py print v2")

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        shown = flat(app)
        assert shown.startswith("Handoff · 1 session")
        assert "1 session, oldest first" in shown
        assert "Make app.py print v2" in shown  # the objective
        assert "app.py" in shown and "pytest -q" in shown

        await pilot.press("v")
        shown = flat(app)
        assert "handoff validation hand-1: passed" in shown
        assert "validation passed: 0 errors" in shown

        await pilot.press("s")
        await settle(pilot)
        refs = git(work_repo, "for-each-ref", "--format=%(refname)", ARTIFACTS).splitlines()
        assert len(refs) == 1
        artifact_id = refs[0].removeprefix(ARTIFACTS)
        assert shows(app, f"saved {artifact_id} (1 session) as {refs[0]} in {work_repo}")
        stored = git(work_repo, "show", f"{refs[0]}:handoff.json")
        assert "Make app.py print v2" in stored

    run([row], scenario)


def test_merges_several_sessions(opensession_home: Path, work_repo: Path, tmp_path: Path) -> None:
    rows = [
        session_in(work_repo, tmp_path, "hand-1", "Make app.py print v2"),
        session_in(work_repo, tmp_path, "hand-2", "Now make it print v3"),
    ]

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        shown = flat(app)
        assert shown.startswith("Handoff · 2 sessions")
        assert "2 sessions, oldest first" in shown

    run(rows, scenario)


def test_saving_outside_a_git_repository_is_one_line(
    opensession_home: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    row = session_in(plain, tmp_path, "hand-3", "Tidy the notes")

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        await pilot.press("s")
        await settle(pilot)
        assert shows(app, f"not a git repository: {plain}; run opensession inside a git checkout")

    run([row], scenario)


def test_an_unreadable_session_is_one_line(opensession_home: Path, tmp_path: Path) -> None:
    row = session_in(tmp_path, tmp_path, "hand-4", "Gone soon")
    Path(row.source_path).unlink()

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        assert shows(app, f"cannot read {row.source_path}: no such file or directory")
        await pilot.press("s")
        assert "the handoff is not built yet" in flat(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, HandoffScreen)

    run([row], scenario)
