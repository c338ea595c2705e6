from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from opensession.hail import model as m
from opensession.parsers.base import ParseWarning
from opensession.parsers.common import (
    LineCursor,
    keep_timestamps_in_order,
    parse_timestamp,
    provider_for_model,
    read_json_lines,
    title_from_text,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-02-21T00:39:28.356Z", datetime(2026, 2, 21, 0, 39, 28, 356000, tzinfo=UTC)),
        ("2026-02-21T09:39:28+09:00", datetime(2026, 2, 21, 0, 39, 28, tzinfo=UTC)),
        ("2026-02-21 00:39:28", datetime(2026, 2, 21, 0, 39, 28, tzinfo=UTC)),
        (1771634368, datetime(2026, 2, 21, 0, 39, 28, tzinfo=UTC)),
        (1771634368356, datetime(2026, 2, 21, 0, 39, 28, 356000, tzinfo=UTC)),
        ("1771634368", datetime(2026, 2, 21, 0, 39, 28, tzinfo=UTC)),
        ("²", None),
        ("yesterday", None),
        (True, None),
        (None, None),
        (10**30, None),
    ],
)
def test_timestamps_from_what_tools_write(value: object, expected: datetime | None) -> None:
    assert parse_timestamp(value) == expected


def test_titles_come_from_the_first_non_blank_line_cut_at_80() -> None:
    assert title_from_text("\n\n  Fix the login bug  \nmore") == "Fix the login bug"
    long = title_from_text("x" * 200)
    assert long is not None and len(long) == 80 and long.endswith("...")
    assert title_from_text("   \n") is None


@pytest.mark.parametrize(
    ("model", "provider"),
    [("claude-opus-4-6", "anthropic"), ("gpt-5.3-codex", "openai"), ("o3-mini", "openai"),
     ("models/gemini-2.5-pro", "google"), ("qwen3-coder", "alibaba"), ("mystery", "unknown")],
)  # fmt: skip
def test_providers_from_model_names(model: str, provider: str) -> None:
    assert provider_for_model(model) == provider


def test_json_lines_resume_from_the_cursor_and_wait_for_unfinished_lines(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"n":1}\n\nnot json\n[1]\n{"n":2')
    warnings: list[ParseWarning] = []
    cursor = LineCursor()
    first: list[tuple[int, dict[str, Any]]] = []
    read_json_lines(
        log, warnings, lambda record, line: first.append((line, record)), cursor,
        complete_lines_only=True,
    )  # fmt: skip
    assert first == [(1, {"n": 1})]
    assert [(w.line, w.reason.split(" (")[0]) for w in warnings] == [
        (3, "not JSON"),
        (4, "expected a JSON object, found list; line skipped"),
    ]
    assert cursor.line == 5
    with log.open("ab") as stream:
        stream.write(b',"done":true}\n')
    rest: list[tuple[int, dict[str, Any]]] = []
    read_json_lines(log, warnings, lambda record, line: rest.append((line, record)), cursor)
    assert rest == [(5, {"n": 2, "done": True})]


def test_events_stamped_before_their_predecessor_take_its_time() -> None:
    times = [datetime(2026, 1, 1, 0, 0, s, tzinfo=UTC) for s in (5, 3, 9)]
    events = [
        m.Event(event_id=f"e{i}", timestamp=t, event_type=m.UserMessage())
        for i, t in enumerate(times)
    ]
    keep_timestamps_in_order(events)
    assert [e.timestamp.second for e in events] == [5, 5, 9]
    assert events[1].attributes["source.timestamp"] == "2026-01-01T00:00:03.000Z"
