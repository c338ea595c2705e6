"""The Sessions tab: what the list shows, and every key of it, on a real local index."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from opensession.localdb.indexer import index_sources
from opensession.localdb.store import LocalIndex
from opensession.tui.app import OpenSessionApp
from tests.localdb.conftest import sources, write_claude_log
from tests.tui.conftest import (
    NO_REFRESH,
    Seed,
    drive,
    git_repo,
    screen_text,
    seed_index,
    wait_until,
)

ALPHA = "Fix the login bug"
BETA = "Write the API docs"
GAMMA = "Refactor the indexer"
HELPER = "Explore the auth module"


def seeds(repo: Path) -> list[Seed]:
    """Three sessions of three tools, ages, sizes and lengths, and a sub-agent of the first."""
    return [
        Seed("s-alpha", ALPHA, cwd=str(repo), messages=10, duration=600, age=timedelta(hours=2)),
        Seed(
            "s-beta",
            BETA,
            tool="codex",
            model="gpt-5.3-codex",
            messages=40,
            duration=60,
            age=timedelta(days=3),
            text="the needle is in this message",
        ),
        Seed(
            "s-gamma",
            GAMMA,
            tool="gemini",
            model="gemini-2.5-pro",
            messages=4,
            duration=7200,
            age=timedelta(days=20),
        ),
        Seed(
            "s-helper",
            HELPER,
            cwd=str(repo),
            parent="s-alpha",
            age=timedelta(hours=1),
        ),
    ]


@pytest.fixture
def repo(ops_home: Path, tmp_path: Path) -> Path:
    """The git repository of the first session, with the index seeded."""
    repo = git_repo(tmp_path / "work" / "alpha")
    seed_index(ops_home, seeds(repo))
    return repo


def titles_on_screen(app: OpenSessionApp) -> list[str]:
    """The seeded titles in the order the screen shows them."""
    lines = screen_text(app).splitlines()
    found = []
    for line in lines:
        for title in (ALPHA, BETA, GAMMA, HELPER):
            if title in line:
                found.append(title)
    return found


def status_line(app: OpenSessionApp) -> str:
    return screen_text(app).splitlines()[1]


async def loaded(pilot: Pilot[object]) -> None:
    app = pilot.app
    assert isinstance(app, OpenSessionApp)
    await wait_until(pilot, lambda: app.sessions.catalog is not None)


def test_cached_sessions_newest_first_with_the_sub_agent_under_its_parent(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        screen = screen_text(app)
        assert titles_on_screen(app) == [ALPHA, HELPER, BETA, GAMMA]
        header = screen.splitlines()[2].split()
        assert header == ["time", "tool", "title", "repo", "msgs", "sync"]
        alpha = next(line for line in screen.splitlines() if ALPHA in line)
        assert alpha.split()[2:3] == ["claude"]
        assert alpha.split()[-3:] == ["alpha", "10", "local"]
        assert f"└ {HELPER}" in screen
        assert "Local · all tools · recent · all time · 4 sessions" in status_line(app)

    drive(app, scenario)


def test_a_wide_terminal_shows_every_column(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        screen = screen_text(app).splitlines()
        assert screen[2].split() == [
            "time", "tool", "model", "title", "repo", "dur", "msgs", "tokens", "sync",
        ]  # fmt: skip
        gamma = next(line for line in screen if GAMMA in line)
        assert "gemini-2.5-…" in gamma and "2h00" in gamma

    drive(app, scenario, size=(140, 24))


def test_o_orders_by_recent_popular_and_longest(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("o")
        assert titles_on_screen(app) == [BETA, ALPHA, HELPER, GAMMA]
        assert " · popular · " in status_line(app)
        await pilot.press("o")
        assert titles_on_screen(app) == [GAMMA, ALPHA, HELPER, BETA]
        assert " · longest · " in status_line(app)
        await pilot.press("o")
        assert titles_on_screen(app) == [ALPHA, HELPER, BETA, GAMMA]

    drive(app, scenario)


def test_t_cycles_through_the_tools(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("t")
        assert titles_on_screen(app) == [ALPHA, HELPER]
        assert "Local · claude-code · " in status_line(app)
        await pilot.press("t")
        assert titles_on_screen(app) == [BETA]
        await pilot.press("t", "t")
        assert titles_on_screen(app) == [ALPHA, HELPER, BETA, GAMMA]
        assert "all tools" in status_line(app)

    drive(app, scenario)


def test_r_narrows_the_time_range(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("r")
        assert titles_on_screen(app) == [ALPHA, HELPER]
        assert " · 24h · 2 sessions" in status_line(app)
        await pilot.press("r")
        assert titles_on_screen(app) == [ALPHA, HELPER, BETA]
        await pilot.press("r")
        assert titles_on_screen(app) == [ALPHA, HELPER, BETA, GAMMA]
        assert " · 30d · " in status_line(app)

    drive(app, scenario)


def test_slash_narrows_as_the_user_types_and_esc_clears(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("slash", "r", "e")
        # "re": in "Refactor", "Write", "Explore"; "login bug" has no r before an e.
        assert titles_on_screen(app) == [HELPER, BETA, GAMMA]
        await pilot.press("f", "c", "t")
        assert titles_on_screen(app) == [GAMMA]
        assert "search: refct" in status_line(app)
        await pilot.press("escape")
        assert titles_on_screen(app) == [ALPHA, HELPER, BETA, GAMMA]
        await pilot.press("slash", *"gpt-5")
        assert titles_on_screen(app) == [BETA]

    drive(app, scenario)


def test_enter_in_the_search_box_searches_the_messages(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("slash", *"needle")
        assert titles_on_screen(app) == []
        assert "No session matches" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: titles_on_screen(app) == [BETA])
        assert "text: needle" in status_line(app)

    drive(app, scenario)


def test_tab_switches_between_every_session_and_the_repos(repo: Path) -> None:
    outside = OpenSessionApp(environ=NO_REFRESH)

    async def no_repo(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("tab")
        assert titles_on_screen(outside) == [ALPHA, HELPER, BETA, GAMMA]
        assert "no repo scope: start opensession inside a git repository" in screen_text(outside)

    drive(outside, no_repo)

    scoped = OpenSessionApp(repo, environ=NO_REFRESH)

    async def in_repo(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        assert titles_on_screen(scoped) == [ALPHA, HELPER]
        assert status_line(scoped).strip().startswith("Repo alpha · ")
        await pilot.press("tab")
        assert titles_on_screen(scoped) == [ALPHA, HELPER, BETA, GAMMA]
        assert status_line(scoped).strip().startswith("Local · ")
        await pilot.press("tab")
        assert titles_on_screen(scoped) == [ALPHA, HELPER]

    drive(scoped, in_repo)


def test_the_cwd_s_repository_is_the_repo_scope(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "src").mkdir()
    monkeypatch.chdir(repo / "src")
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("tab")
        assert titles_on_screen(app) == [ALPHA, HELPER]

    drive(app, scenario)


def test_j_k_move_and_space_picks(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("j", "j", "space")
        await pilot.press("k", "k", "k", "space")
        picked = [line for line in screen_text(app).splitlines() if "●" in line]
        assert [ALPHA in picked[0], BETA in picked[1]] == [True, True]
        assert "2 picked" in status_line(app)
        await pilot.press("escape")
        assert "●" not in screen_text(app)
        assert "picked" not in status_line(app)

    drive(app, scenario)


def test_an_empty_index_says_how_to_fill_it(ops_home: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        assert "No sessions indexed yet: run `opensession index`." in screen_text(app)

    drive(app, scenario)


def test_enter_opens_the_session_under_the_cursor(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "SessionDetailScreen"
        assert BETA in screen_text(app)

    drive(app, scenario)


def test_g_hands_off_the_picked_sessions_and_p_publishes(repo: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("space", "j", "space", "g")
        await pilot.pause()
        assert type(app.screen).__name__ == "HandoffScreen"
        assert [row.id for row in app.screen.rows] == ["s-alpha", "s-beta"]  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.press("P")
        await pilot.pause()
        assert type(app.screen).__name__ == "PublishScreen"

    drive(app, scenario)


# --- the refresh from disk ---


def claude_log(home: Path, session_id: str, prompt: str) -> Path:
    """A Claude Code log where Claude Code keeps it under ``home``."""
    path = home / ".claude/projects/-work-app" / f"{session_id}.jsonl"
    return write_claude_log(path, session_id, prompt=prompt)


def test_the_cache_shows_at_once_and_the_refresh_adds_new_sessions(ops_home: Path) -> None:
    home = Path.home()
    claude_log(home, "11111111-0000-0000-0000-000000000001", "Old cached prompt")
    with LocalIndex.open(ops_home / "data" / "local.db") as index:
        index_sources(index, sources(home))
    claude_log(home, "11111111-0000-0000-0000-000000000002", "New prompt from disk")
    # Another indexer (the daemon) holds the write lock: the refresh waits for it.
    lock = sqlite3.connect(ops_home / "data" / "local.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    app = OpenSessionApp(environ={})

    async def scenario(pilot: Pilot[object]) -> None:
        await wait_until(pilot, lambda: "Old cached prompt" in screen_text(app))
        await wait_until(pilot, lambda: "⟳ refreshing from disk…" in screen_text(app))
        assert "New prompt from disk" not in screen_text(app)
        lock.execute("ROLLBACK")
        await wait_until(pilot, lambda: "New prompt from disk" in screen_text(app))
        assert "Old cached prompt" in screen_text(app)
        assert "⟳" not in screen_text(app)
        assert "refreshed: 1 added, 0 updated, 0 removed" in screen_text(app)

    try:
        drive(app, scenario)
    finally:
        lock.close()


@pytest.mark.parametrize("value", ["0", "false", "OFF", "No"])
def test_the_refresh_can_be_turned_off(ops_home: Path, value: str) -> None:
    claude_log(Path.home(), "11111111-0000-0000-0000-000000000003", "Only on disk")
    app = OpenSessionApp(environ={"OPS_TUI_REFRESH_DISCOVERY_ON_START": value})

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "No sessions indexed yet: run `opensession index`." in screen_text(app)
        assert "⟳" not in screen_text(app)

    drive(app, scenario)


def test_capital_r_picks_the_repository_of_the_repo_scope(ops_home: Path, tmp_path: Path) -> None:
    alpha = git_repo(tmp_path / "work" / "alpha")
    beta = git_repo(tmp_path / "work" / "beta")
    seed_index(
        ops_home,
        [
            Seed("s-alpha", ALPHA, cwd=str(alpha), age=timedelta(hours=2)),
            Seed("s-beta", BETA, cwd=str(beta / "docs"), age=timedelta(hours=3)),
            Seed("s-beta-2", GAMMA, cwd=str(beta), age=timedelta(hours=4)),
        ],
    )
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("R")
        await pilot.pause()
        picker = screen_text(app)
        assert "beta · 2 sessions · " in picker and "alpha · 1 session · " in picker
        assert picker.index("beta · ") < picker.index("alpha · ")  # most sessions first
        await pilot.press("enter")
        assert titles_on_screen(app) == [BETA, GAMMA]
        assert status_line(app).strip().startswith("Repo beta · ")

        await pilot.press("R", "down", "enter")
        assert titles_on_screen(app) == [ALPHA]
        await pilot.press("R", "escape")  # cancelled: the scope stays
        assert titles_on_screen(app) == [ALPHA]
        await pilot.press("tab")
        assert titles_on_screen(app) == [ALPHA, BETA, GAMMA]

    drive(app, scenario)
