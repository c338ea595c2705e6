"""What the detail, handoff and publish screen tests share: a minimal app hosting one screen
(so they do not depend on the main app), Claude Code logs written as the tool writes them, an
index of them under a temporary ``OPENSESSION_HOME``, and the screen as the user sees it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import orjson
import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from opensession.localdb.indexer import index_sources
from opensession.localdb.store import LocalIndex, SessionRow
from opensession.parsers.discovery import SessionSource

SIZE = (80, 24)
"""The terminal every test runs in: the smallest the UI supports."""

Scenario = Callable[[Pilot[Any], "ScreenHost"], Awaitable[None]]


class ScreenHost(App[None]):
    """An app that shows one screen pushed over an empty default screen."""

    def __init__(self, screen: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._make_screen())


def screen_text(app: App[Any]) -> str:
    """Every line of the terminal as drawn now (toasts included), as plain text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


def play_screen(make_screen: Callable[[], Screen[Any]], scenario: Scenario) -> None:
    """Show the screen ``make_screen`` makes at 80x24, wait until what its workers read is
    drawn, then play ``scenario``."""

    async def play() -> None:
        app = ScreenHost(make_screen)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            await scenario(pilot, app)

    asyncio.run(play())


def flat(app: App[Any]) -> str:
    """The screen's words on one line (long values and Markdown wrap at 80 columns)."""
    return " ".join(screen_text(app).split())


def shows(app: App[Any], text: str) -> bool:
    """Whether the screen shows ``text``, wherever 80 columns wrapped it (a long path may be
    cut at any character, so spaces are left out on both sides)."""
    return "".join(text.split()) in "".join(screen_text(app).split())


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker is done and what they found is drawn."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.fixture
def opensession_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of opensession's own (config, index) and a working directory outside any repo."""
    home = tmp_path / "opensession-home"
    home.mkdir()
    monkeypatch.setenv("OPENSESSION_HOME", str(home))
    monkeypatch.delenv("EDITOR", raising=False)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    return home


class ClaudeLog:
    """A Claude Code session log, written record by record as Claude Code writes it."""

    def __init__(self, session_id: str, *, cwd: str = "/work/app") -> None:
        self.session_id = session_id
        self.cwd = cwd
        self.records: list[dict[str, Any]] = []
        self._clock = count()
        self._start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

    def _record(self, kind: str, content: Any, **fields: Any) -> None:
        second = next(self._clock)
        when = self._start + timedelta(seconds=second)
        self.records.append(
            {
                "type": kind,
                "uuid": f"{self.session_id}-{second}",
                "sessionId": self.session_id,
                "cwd": self.cwd,
                "gitBranch": "main",
                "version": "2.1.40",
                "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "message": {
                    "role": "assistant" if kind == "assistant" else "user",
                    "content": content,
                    **fields,
                },
            }
        )

    def _assistant(self, blocks: list[dict[str, Any]]) -> None:
        number = len(self.records)
        self._record("assistant", blocks, id=f"m-{number}", model="claude-opus-4-6")

    def user(self, text: str) -> ClaudeLog:
        self._record("user", text)
        return self

    def agent(self, text: str) -> ClaudeLog:
        self._assistant([{"type": "text", "text": text}])
        return self

    def thinking(self, text: str) -> ClaudeLog:
        self._assistant([{"type": "thinking", "thinking": text, "signature": "sig"}])
        return self

    def tool(self, name: str, result: str, *, error: bool = False, **arguments: Any) -> ClaudeLog:
        """A tool call and its result (``error``: the result says the call failed)."""
        call_id = f"toolu_{len(self.records)}"
        self._assistant([{"type": "tool_use", "id": call_id, "name": name, "input": arguments}])
        done = {"type": "tool_result", "tool_use_id": call_id, "content": result}
        if error:
            done["is_error"] = True
        self._record("user", [done])
        return self

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in self.records))
        return path


def index_log(path: Path, session_id: str) -> SessionRow:
    """Index the Claude Code log at ``path`` in the default local index; its session's row."""
    with LocalIndex.open() as index:
        index_sources(index, [SessionSource("claude-code", path)], prune=False)
        return index.get_session(session_id)
