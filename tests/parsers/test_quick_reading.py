"""Lines the Claude Code and Codex builders read from their bytes, without decoding them:
Claude Code's progress records (counted) and Codex's repeated turn contexts. Each gives the
session that decoding every line gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.hail import model as m
from opensession.parsers.append_only import IncrementalParse
from opensession.parsers.base import ParseResult
from opensession.parsers.common import read_json_lines
from opensession.parsers.registry import get_parser


def decoded_line_by_line(tool: str, path: Path) -> ParseResult:
    """The parse of ``path`` with every line decoded: no quick reader."""
    builder = get_parser(tool).new_builder(path)
    read_json_lines(path, builder.warnings, builder.add)
    return builder.build(final=True)


def quickly_read(tool: str, path: Path) -> list[int]:
    """The numbers of the lines a full parse of ``path`` read from their bytes."""
    builder = get_parser(tool).new_builder(path)
    reader = builder.quick_reader()
    assert reader is not None
    taken: list[int] = []

    def quick(raw: bytes, line: int) -> bool:
        if reader(raw, line):
            taken.append(line)
            return True
        return False

    read_json_lines(path, builder.warnings, builder.add, quick=quick)
    return taken


def assert_same_as_decoded(tool: str, path: Path) -> ParseResult:
    parsed = get_parser(tool).parse(path)
    decoded = decoded_line_by_line(tool, path)
    assert [s.model_dump() for s in parsed.sessions] == [s.model_dump() for s in decoded.sessions]
    assert parsed.warnings == decoded.warnings
    return parsed


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


@pytest.mark.parametrize("tool", ["claude-code", "codex"])
def test_every_corpus_log_parses_as_when_every_line_is_decoded(corpus: Path, tool: str) -> None:
    logs = sorted((corpus / tool).rglob("*.jsonl"))
    assert logs
    for path in logs:
        assert_same_as_decoded(tool, path)


# --- Claude Code: progress records ---


def claude(kind: str, number: int, **fields: Any) -> bytes:
    record = {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/work/app",
        "sessionId": "s-1",
        "version": "2.1.40",
        "type": kind,
        **fields,
        "timestamp": f"2026-03-01T10:00:{number:02d}.000Z",
        "uuid": f"u-{number}",
    }
    return orjson.dumps(record)


def test_progress_records_are_counted_and_nested_look_alikes_still_read(tmp_path: Path) -> None:
    hook = {"type": "hook_progress", "hookEvent": "SessionStart", "command": "bd prime"}
    # A user record whose content holds an object typed "progress": decoded, not counted.
    nested = {"role": "user", "content": [{"type": "text", "text": "go"}, {"type": "progress"}]}
    reply = {"role": "assistant", "id": "msg-1", "content": [{"type": "text", "text": "ok"}]}
    path = write_lines(
        tmp_path / "log.jsonl",
        [
            claude("progress", 1, data=hook),
            claude("user", 2, message=nested),
            claude("progress", 3, data={"type": "bash_progress", "output": '"type":"progress"'}),
            claude("assistant", 4, message=reply),
            # The type after an object: decoded (and still a progress record).
            b'{"data":{"type":"x"},"type":"progress","uuid":"u-5"}',
            # A key that ends in an escaped quote and "type": decoded, an unknown record.
            b'{"x\\"type":"progress","uuid":"u-6"}',
        ],
    )
    assert quickly_read("claude-code", path) == [1, 3]
    session = assert_same_as_decoded("claude-code", path).session
    assert [e.event_type.type for e in session.events] == ["UserMessage", "AgentMessage"]
    records = session.context.attributes["source_records"]
    assert records["skipped"] == {"progress": 3, "no type": 1}
    assert records["total"] == 6


def test_a_progress_record_cut_short_at_the_end_is_decoded_and_warned_about(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.jsonl"
    text = {"role": "user", "content": "hello"}
    path.write_bytes(claude("user", 1, message=text) + b"\n" + claude("progress", 2)[:-20])
    assert quickly_read("claude-code", path) == []
    result = assert_same_as_decoded("claude-code", path)
    assert [w.reason for w in result.warnings] == ["truncated last line; line skipped"]
    assert result.session.context.attributes["source_records"]["total"] == 1


# --- Codex: turn contexts repeated byte for byte ---

INSTRUCTIONS = "Follow AGENTS.md: run the tests before you commit. " * 100  # a 5 KB line


def envelope(kind: str, number: int, payload: dict[str, Any]) -> bytes:
    stamp = f"2026-02-23T12:00:{number:02d}.000Z"
    return orjson.dumps({"timestamp": stamp, "type": kind, "payload": payload})


def context(turn_id: str, model: str = "gpt-5.3-codex") -> dict[str, Any]:
    return {
        "turn_id": turn_id,
        "cwd": "/work/app",
        "approval_policy": "on-request",
        "sandbox_policy": {"type": "workspace-write"},
        "model": model,
        "effort": "high",
        "user_instructions": INSTRUCTIONS,
    }


def rollout(contexts: list[bytes]) -> list[bytes]:
    """A session_meta line, then a turn per context line: start, context, user, agent, end."""
    meta = {"id": "019c8a70-dda7-7f33-98ea-f30553347322", "cwd": "/work/app"}
    lines = [envelope("session_meta", 0, meta)]
    for number, line in enumerate(contexts, start=1):
        turn = orjson.loads(line)["payload"]["turn_id"]
        text = [{"type": "input_text", "text": f"step {number}"}]
        lines += [
            envelope("event_msg", number, {"type": "task_started", "turn_id": turn}),
            line,
            envelope("response_item", number, {"type": "message", "role": "user", "content": text}),
            envelope("event_msg", number, {"type": "agent_message", "message": f"done {number}"}),
            envelope("event_msg", number, {"type": "task_complete", "turn_id": turn}),
        ]
    return lines


def starts(session: m.Session) -> list[tuple[str | None, str | None]]:
    return [
        (event.task_id, event.attributes.get("model"))
        for event in session.events
        if isinstance(event.event_type, m.TaskStart)
    ]


def test_a_turn_context_repeating_the_last_but_for_time_and_turn_is_read_from_its_bytes(
    tmp_path: Path,
) -> None:
    contexts = [envelope("turn_context", n, context(f"turn-{n}")) for n in (1, 2, 3)]
    path = write_lines(tmp_path / "rollout.jsonl", rollout(contexts))
    assert quickly_read("codex", path) == [8, 13]  # the second and third contexts
    session = assert_same_as_decoded("codex", path).session
    assert starts(session) == [(f"turn-{n}", "gpt-5.3-codex") for n in (1, 2, 3)]
    start = next(e for e in session.events if isinstance(e.event_type, m.TaskStart))
    assert start.attributes["effort"] == "high"
    assert start.attributes["sandbox_policy"] == "workspace-write"


def test_changed_or_unusual_turn_contexts_are_decoded(tmp_path: Path) -> None:
    first = envelope("turn_context", 1, context("turn-1"))
    # Another model: the rest of the line differs.
    changed = envelope("turn_context", 2, context("turn-2", model="o4-mini"))
    # A turn id with an escaped quote: not the head the quick reader reads.
    escaped = envelope("turn_context", 3, context('turn-"3"', model="o4-mini"))
    # The same rest after a timestamp written another way (no milliseconds).
    other_time = envelope("turn_context", 4, context("turn-4", model="o4-mini")).replace(
        b"12:00:04.000Z", b"12:00:04Z"
    )
    # A key repeated after the payload: the decoded record's time is the later one.
    repeated = envelope("turn_context", 5, context("turn-5"))[:-1]
    repeated += b',"timestamp":"2026-02-23T12:00:59.000Z"}'
    again = envelope("turn_context", 6, context("turn-6"))[:-1]
    again += b',"timestamp":"2026-02-23T12:00:59.000Z"}'
    lines = [first, changed, escaped, other_time, repeated, again]
    path = write_lines(tmp_path / "rollout.jsonl", rollout(lines))
    # Only the fourth: its head differs from the second's in the time alone.
    assert quickly_read("codex", path) == [18]
    session = assert_same_as_decoded("codex", path).session
    assert starts(session) == [
        ("turn-1", "gpt-5.3-codex"),
        ("turn-2", "o4-mini"),
        ('turn-"3"', "o4-mini"),
        ("turn-4", "o4-mini"),
        ("turn-5", "gpt-5.3-codex"),
        ("turn-6", "gpt-5.3-codex"),
    ]


def test_a_parse_resumed_between_repeated_turn_contexts_gives_the_full_parse(
    tmp_path: Path,
) -> None:
    contexts = [envelope("turn_context", n, context(f"turn-{n}")) for n in range(1, 7)]
    lines = rollout(contexts)
    path = write_lines(tmp_path / "rollout.jsonl", lines[:14])  # up to the third context
    live = IncrementalParse(get_parser("codex"), path)
    live.update()
    state = tmp_path / "state.pickle"
    live.save(state)
    with path.open("ab") as stream:
        stream.write(b"".join(line + b"\n" for line in lines[14:]))
    resumed = IncrementalParse.resume(get_parser("codex"), path, state)
    assert resumed is not None
    session = resumed.update().session
    assert session.model_dump() == get_parser("codex").parse(path).session.model_dump()
    assert starts(session) == [(f"turn-{n}", "gpt-5.3-codex") for n in range(1, 7)]
    assert quickly_read("codex", path) == [8, 13, 18, 23, 28]
