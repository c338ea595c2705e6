"""Driving the terminal UI headless (Textual's pilot) over a real local index in a temp home,
and reading the screen as the user would."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from opensession.hail.model import Agent, Context, Event, Session, Stats, TextBlock, UserMessage
from opensession.localdb.store import LocalIndex, SourceState

NO_REFRESH = {"OPS_TUI_REFRESH_DISCOVERY_ON_START": "0"}
"""The environment of an app that only shows the cached index."""


@dataclass(frozen=True)
class Seed:
    """A session to put in the index: what the list shows of it."""

    id: str
    title: str
    tool: str = "claude-code"
    model: str = "claude-opus-4-6"
    cwd: str | None = None
    age: timedelta = timedelta(hours=1)
    """How long before now it started."""
    messages: int = 2
    duration: int = 60
    tokens: int = 0
    text: str = "hello"
    parent: str | None = None


def hail_session(seed: Seed, now: datetime) -> Session:
    """The HAIL session of ``seed``."""
    created = now - seed.age
    attributes: dict[str, object] = {}
    if seed.cwd:
        attributes["cwd"] = seed.cwd
    if seed.parent:
        attributes["parent_session_id"] = seed.parent
    event = Event(
        event_id=f"{seed.id}-e1",
        timestamp=created,
        event_type=UserMessage(),
        content={"blocks": [TextBlock(text=seed.text)]},
    )
    return Session(
        session_id=seed.id,
        agent=Agent(provider="p", model=seed.model, tool=seed.tool),
        context=Context(
            title=seed.title,
            created_at=created,
            updated_at=created + timedelta(seconds=seed.duration),
            attributes=attributes,
        ),
        events=[event],
        stats=Stats(
            event_count=1,
            message_count=seed.messages,
            duration_seconds=seed.duration,
            total_input_tokens=seed.tokens,
        ),
    )


def seed_index(ops_home: Path, seeds: list[Seed]) -> None:
    """Index ``seeds`` in the local index of ``OPENSESSION_HOME=ops_home``, each sub-agent in
    its parent's source (as Claude Code keeps them)."""
    now = datetime.now(UTC)
    sources: dict[str, list[Session]] = {}
    for seed in seeds:
        sources.setdefault(seed.parent or seed.id, []).append(hail_session(seed, now))
    with LocalIndex.open(ops_home / "data" / "local.db") as index:
        for key, sessions in sources.items():
            path = str(ops_home / "sources" / f"{key}.jsonl")
            index.store_source(SourceState(path, sessions[0].agent.tool, 1, 1, 1), sessions)


@pytest.fixture
def ops_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp ``OPENSESSION_HOME`` and ``HOME`` (no tool's own locations overridden), with the
    working directory in the home, outside any git repository."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OPENSESSION_HOME", str(tmp_path / "ops"))
    for variable in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(home)
    yield tmp_path / "ops"


def git_repo(path: Path) -> Path:
    """A folder that looks like a git working tree to the index (a ``.git`` in it)."""
    (path / ".git").mkdir(parents=True)
    return path


def drive(
    app: App[object],
    scenario: Callable[[Pilot[object]], Awaitable[None]],
    size: tuple[int, int] = (80, 24),
) -> None:
    """Run ``app`` headless at ``size`` and play ``scenario`` on it."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await scenario(pilot)

    asyncio.run(main())


async def wait_until(
    pilot: Pilot[object], condition: Callable[[], bool], timeout: float = 10
) -> None:
    """Let the app run until ``condition()`` holds (fails after ``timeout`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {timeout}s:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)
    await pilot.pause()


def screen_text(app: App[object]) -> str:
    """The characters on the app's screen, line by line, as a terminal would show them."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()
