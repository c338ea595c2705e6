from __future__ import annotations

import io
import os
from pathlib import Path

import orjson
import pytest

from opensession.hail.errors import HailFormatError
from opensession.hail.jsonl import (
    HailWriter,
    ReadWarning,
    dumps_session,
    open_hail,
    read_header,
    read_session,
    read_summary,
    write_session,
)
from opensession.hail.model import AgentMessage, ShellCommand, ShellCommandData
from opensession.hail.stats import compute_stats

from .factories import event, session

REFERENCE = "hail/opensession__c96e93e8.hail.jsonl"


def lines_of(data: bytes) -> list[dict]:
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def sample_file(tmp_path: Path) -> tuple[Path, bytes]:
    events = [
        event(1, text="fix the tests"),
        event(2, ShellCommand(data=ShellCommandData(command="pytest", exit_code=1))),
        event(3, AgentMessage(), text="done"),
    ]
    data = dumps_session(session(events, title="Fix tests"))
    path = tmp_path / "s.hail.jsonl"
    path.write_bytes(data)
    return path, data


def test_reference_file_reads_and_writes_back_to_the_same_json(corpus: Path) -> None:
    path = corpus / REFERENCE
    restored = dumps_session(read_session(path, strict=True))
    assert lines_of(restored) == lines_of(path.read_bytes())


def test_reference_file_stats_match_recomputed_stats(corpus: Path) -> None:
    loaded = read_session(corpus / REFERENCE, strict=True)
    assert compute_stats(loaded.events) == loaded.stats
    assert loaded.stats.event_count == 82


def test_header_only_read_does_not_decode_events(tmp_path: Path) -> None:
    path, data = sample_file(tmp_path)
    broken = data.splitlines(keepends=True)
    broken[1] = b'{"type":"event", this is not json\n'
    path.write_bytes(b"".join(broken))
    assert read_header(path).context.title == "Fix tests"


def test_summary_reads_the_stats_line_from_the_end(tmp_path: Path) -> None:
    path, _data = sample_file(tmp_path)
    header, stats = read_summary(path)
    assert header.session_id == "11111111-2222-3333-4444-555555555555"
    assert stats.event_count == 3
    assert stats.message_count == 2


def test_missing_stats_line_is_recomputed(tmp_path: Path) -> None:
    path, data = sample_file(tmp_path)
    path.write_bytes(b"".join(data.splitlines(keepends=True)[:-1]))
    loaded = read_session(path, strict=True)
    assert loaded.stats == compute_stats(loaded.events)
    assert loaded.stats.user_message_count == 1
    assert read_summary(path)[1].event_count == 3


def test_empty_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.hail.jsonl"
    path.write_bytes(b"")
    with pytest.raises(HailFormatError, match=r"empty\.hail\.jsonl: empty file: expected a HAIL"):
        read_session(path)


def test_binary_garbage_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(os.urandom(4096).replace(b"\n", b"x") + b"\n" + os.urandom(100))
    with pytest.raises(HailFormatError) as caught:
        read_session(path)
    assert str(caught.value).startswith(f"{path}:1: not a HAIL JSONL file")
    assert "\n" not in str(caught.value)


def test_headerless_file_is_an_error_naming_what_was_found(tmp_path: Path) -> None:
    path, data = sample_file(tmp_path)
    path.write_bytes(b"".join(data.splitlines(keepends=True)[1:]))
    with pytest.raises(HailFormatError, match=r":1: expected a 'header' line first, found 'event'"):
        read_session(path)


def test_truncated_last_line_is_skipped_with_a_warning_in_lenient_mode(tmp_path: Path) -> None:
    path, data = sample_file(tmp_path)
    path.write_bytes(data[: len(data) - 40])
    seen: list[ReadWarning] = []
    loaded = read_session(path, on_warning=seen.append)
    assert [e.event_id for e in loaded.events] == ["e1", "e2", "e3"]
    assert [str(w) for w in seen] == [f"{path}:5: truncated last line; line skipped"]
    assert seen[0].corrupt
    assert loaded.stats.event_count == 3


def test_truncated_last_line_is_an_error_in_strict_mode(tmp_path: Path) -> None:
    path, data = sample_file(tmp_path)
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(HailFormatError, match=r":5: truncated last line$"):
        read_session(path, strict=True)


def test_bad_event_line_names_its_number_and_the_rest_is_read(tmp_path: Path) -> None:
    path, data = sample_file(tmp_path)
    lines = data.splitlines(keepends=True)
    lines[2] = (
        b'{"type":"event","event_id":"e2","timestamp":"yesterday","event_type":{"type":"UserMessage"}}\n'
    )
    path.write_bytes(b"".join(lines))
    seen: list[ReadWarning] = []
    loaded = read_session(path, on_warning=seen.append)
    assert [e.event_id for e in loaded.events] == ["e1", "e3"]
    assert seen[0].line == 3
    assert seen[0].reason.startswith("bad event: timestamp: ")
    with pytest.raises(HailFormatError, match=r":3: bad event: timestamp: "):
        read_session(path, strict=True)


def test_unknown_line_types_are_skipped_with_a_warning_even_in_strict_mode(tmp_path: Path) -> None:
    path, data = sample_file(tmp_path)
    lines = data.splitlines(keepends=True)
    lines.insert(2, b'{"type":"checkpoint","at":3}\n')
    path.write_bytes(b"".join(lines))
    seen: list[ReadWarning] = []
    loaded = read_session(path, strict=True, on_warning=seen.append)
    assert len(loaded.events) == 3
    assert [w.reason for w in seen] == ["unknown line type 'checkpoint'; line skipped"]


@pytest.mark.slow
def test_a_50_mb_single_line_without_a_header_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    path.write_bytes(b'{"type":"event","text":"' + b"a" * (50 * 1024 * 1024) + b'"}\n')
    with pytest.raises(HailFormatError, match=r"huge\.jsonl:1: expected a 'header' line first"):
        read_session(path)


@pytest.mark.slow
def test_a_50_mb_event_reads_and_writes_back(tmp_path: Path) -> None:
    text = "x" * (50 * 1024 * 1024)
    original = session([event(1, text="start"), event(2, AgentMessage(), text=text)])
    path = tmp_path / "big.hail.jsonl"
    write_session(original, path)
    assert read_session(path, strict=True) == original


def test_streaming_reader_yields_events_one_at_a_time(tmp_path: Path) -> None:
    path, _ = sample_file(tmp_path)
    with open_hail(path) as reader:
        events = iter(reader)
        assert next(events).event_id == "e1"
        assert reader.file_stats is None
        assert [e.event_id for e in events] == ["e2", "e3"]
        assert reader.file_stats is not None
        assert reader.stats().event_count == 3


def test_writer_computes_stats_from_the_events_it_wrote() -> None:
    sample = session([event(1, text="hi"), event(5, AgentMessage(), text="hello")])
    buffer = io.BytesIO()
    writer = HailWriter(buffer, sample.header)
    for item in sample.events:
        writer.write(item)
    written = writer.close()
    records = lines_of(buffer.getvalue())
    assert [r["type"] for r in records] == ["header", "event", "event", "stats"]
    assert records[-1]["duration_seconds"] == 4 == written.duration_seconds
    assert records[-1]["message_count"] == 2


def test_failed_write_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    path, data = sample_file(tmp_path)
    broken = session([event(1, text="new")])
    broken.events[0].attributes["unserializable"] = object()
    with pytest.raises(Exception, match="object"):
        write_session(broken, path)
    assert path.read_bytes() == data
    assert list(tmp_path.iterdir()) == [path]
