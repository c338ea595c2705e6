"""The session detail screen, driven by its keys in an 80x24 terminal (Textual's pilot)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from opensession.localdb.store import SessionRow
from opensession.tui.detail import SessionDetailScreen
from tests.tui.hosts import (
    SIZE,
    ClaudeLog,
    Scenario,
    ScreenHost,
    index_log,
    opensession_home,
    play_screen,
    screen_text,
)
from tests.tui.hosts import settle as settled

__all__ = ["opensession_home"]

SPOTTER = "claude-code/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"


def run(row: SessionRow, scenario: Scenario) -> None:
    """Open the detail screen of ``row``, wait for the session to be read, play ``scenario``."""
    play_screen(lambda: SessionDetailScreen(row), scenario)


def status_line(app: ScreenHost) -> str:
    """The line under the timeline: filters, position, search."""
    return screen_text(app).splitlines()[-2]


def work_session(tmp_path: Path) -> SessionRow:
    """A prompt, a thought, a reply, a passing and a failing test run, an edit and a reply,
    each test run printing a line with ``pytest`` in it."""
    log = (
        ClaudeLog("work-1")
        .user("Fix the failing test in app.py")
        .thinking("The import is probably wrong.")
        .agent("Let me run the tests first.")
        .tool("Bash", "1 passed (pytest)", command="pytest -q tests/test_ok.py")
        .tool("Bash", "FAILED test_app.py::test_x ImportError", error=True, command="make check")
        .tool(
            "Edit", "ok", file_path="/work/app/app.py", old_string="a = 1\n", new_string="a = 2\n"
        )
        .user("Also run pytest on everything")
        .agent("All green now.")
    )
    return index_log(log.write(tmp_path / "work.jsonl"), "work-1")


def test_header_and_rows_of_a_real_session(opensession_home: Path, corpus: Path) -> None:
    row = index_log(corpus / SPOTTER, "ae4a77f8-aedd-4bc1-888f-c94edc91af04")

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        lines = screen_text(app).splitlines()
        assert lines[0].startswith("Work on bead spotter-4te.")
        assert (
            lines[1]
            == "claude-code · claude-haiku-4-5-20251001 · 53m 2s · 16.8M tokens · 162 messages"
        )
        assert lines[2].startswith("▾ 14:11:57 user")
        text = screen_text(app)
        assert "Work on bead spotter-4te. Run bd show spotter-4te" in text
        assert "▸ 14:12:02 shell      $ bd show spotter-4te" in text
        assert "│ 1/" in status_line(app)

    run(row, scenario)


def test_filters_hide_event_kinds(opensession_home: Path, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        assert "$ pytest -q tests/test_ok.py" in screen_text(app)
        assert "│ 1/8" in status_line(app)
        await pilot.press("4")  # shell
        text = screen_text(app)
        assert "$ pytest" not in text and "make check" not in text
        assert "│ 1/6" in status_line(app)
        await pilot.press("1")  # messages
        rows = [line for line in screen_text(app).splitlines() if line.startswith(("▸", "▾"))]
        assert [row.split()[2] for row in rows] == ["think", "edit"]
        await pilot.press("2", "3", "5")
        assert "every event is hidden by the filters" in screen_text(app)
        await pilot.press("1", "2", "3", "4", "5")
        assert "$ pytest -q tests/test_ok.py" in screen_text(app)
        assert "│ 1/8" in status_line(app)

    run(work_session(tmp_path), scenario)


def test_search_then_n_and_p_move_between_matches(opensession_home: Path, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        await pilot.press("slash", *"PYTEST", "enter")
        # the passing run (its command and output), then the second prompt
        assert status_line(app).endswith("│ 4/8  │ /PYTEST 1 of 2")
        await pilot.press("n")
        assert status_line(app).endswith("│ 7/8  │ /PYTEST 2 of 2")
        await pilot.press("n")
        assert status_line(app).endswith("│ 4/8  │ /PYTEST 1 of 2")
        await pilot.press("p")
        assert status_line(app).endswith("│ 7/8  │ /PYTEST 2 of 2")
        await pilot.press("slash", *"nowhere", "enter")
        await pilot.pause()
        assert "no match for 'nowhere'" in screen_text(app)
        app.clear_notifications()
        await pilot.pause()
        assert status_line(app).endswith("/nowhere no match")

    run(work_session(tmp_path), scenario)


def test_e_lands_on_the_failure_and_enter_shows_its_result(
    opensession_home: Path, tmp_path: Path
) -> None:
    log = ClaudeLog("long-1").user("Run every check")
    for number in range(30):
        log.tool("Bash", f"check {number} ok", command=f"make check-{number}")
    log.tool("Bash", "E   AssertionError: 2 != 3", error=True, command="pytest tests/test_math.py")
    for number in range(30, 40):
        log.tool("Bash", f"check {number} ok", command=f"make check-{number}")
    row = index_log(log.write(tmp_path / "long.jsonl"), "long-1")

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        assert "test_math" not in screen_text(app)
        await pilot.press("e")
        assert "│ 32/42" in status_line(app)
        assert "▸ 10:01:01 ✗ shell    $ pytest tests/test_math.py" in screen_text(app)
        assert "AssertionError" not in screen_text(app)  # folded: its result is not shown
        await pilot.press("enter")
        text = screen_text(app)
        assert "▾ 10:01:01 ✗ shell    $ pytest tests/test_math.py" in text
        assert "✗ Bash error" in text and "E   AssertionError: 2 != 3" in text
        await pilot.press("space")
        assert "AssertionError" not in screen_text(app)

    run(row, scenario)


def test_moving_between_events_and_user_messages(opensession_home: Path, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        await pilot.press("j", "j")
        assert "│ 3/8" in status_line(app)
        await pilot.press("k")
        assert "│ 2/8" in status_line(app)
        await pilot.press("G")
        assert "│ 8/8" in status_line(app)
        await pilot.press("g")
        assert "│ 1/8" in status_line(app)
        await pilot.press("u")
        assert "│ 7/8" in status_line(app)
        await pilot.press("u")
        assert "no user message below" in screen_text(app)
        app.clear_notifications()
        await pilot.press("U")
        assert "│ 1/8" in status_line(app)
        await pilot.press("pagedown")
        assert "│ 8/8" in status_line(app)
        await pilot.press("pageup")
        assert "│ 1/8" in status_line(app)

    run(work_session(tmp_path), scenario)


def test_a_missing_source_is_one_line(opensession_home: Path, tmp_path: Path) -> None:
    row = work_session(tmp_path)
    Path(row.source_path).unlink()

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        lines = screen_text(app).splitlines()
        assert lines[0] == "Fix the failing test in app.py"  # the header, from the index
        # one message, wrapped to the terminal's width
        message = f"cannot read {row.source_path}: no such file or directory"
        # (compared without spaces: the path may be cut at any character)
        assert "".join("".join(lines[2:5]).split()) == "".join(message.split())
        assert not any(line.startswith(("▸", "▾")) for line in lines)

    run(row, scenario)


def test_editor_unset_and_copy_actions(opensession_home: Path, tmp_path: Path) -> None:
    row = work_session(tmp_path)

    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        await pilot.press("o")
        assert "$EDITOR is not set" in screen_text(app)
        await pilot.press("c")
        assert app.clipboard == "work-1"
        assert "copied the session id work-1" in screen_text(app)
        await pilot.press("C")
        await settled(pilot)
        assert app.clipboard == "work-1"
        assert "work-1 is not uploaded" in screen_text(app)

    run(row, scenario)


def test_q_goes_back(opensession_home: Path, tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], app: ScreenHost) -> None:
        await pilot.press("slash")
        await pilot.press("escape")  # leaves the search box only
        assert isinstance(app.screen, SessionDetailScreen)
        await pilot.press("q")
        assert not isinstance(app.screen, SessionDetailScreen)

    run(work_session(tmp_path), scenario)


@pytest.mark.slow
def test_a_5000_event_session_opens_fast(opensession_home: Path, tmp_path: Path) -> None:
    log = ClaudeLog("big-1")
    step = 0
    while len(log.records) < 5_000:
        log.user(f"step {step}: make the tests pass")
        log.thinking("thinking about it " * 10)
        log.tool("Bash", "ok\n" * 20, command=f"pytest -k t{step}")
        log.agent(f"Done with step {step}.\n\n- one\n- two")
        step += 1
    row = index_log(log.write(tmp_path / "big.jsonl"), "big-1")

    async def play() -> None:
        app = ScreenHost(lambda: SessionDetailScreen(row))
        started = time.perf_counter()
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            while "step 0: make the tests pass" not in screen_text(app).split("\n", 2)[-1]:
                await asyncio.sleep(0.01)
            painted = time.perf_counter() - started
            await pilot.press("G")
            assert f"Done with step {step - 1}." in screen_text(app)
        assert painted < 3, f"first paint took {painted:.2f} s"

    asyncio.run(play())
