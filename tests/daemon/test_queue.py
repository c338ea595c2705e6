"""The upload queue in a real local index: debouncing, generations, backoff, versions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opensession.daemon.queue import MAX_BACKOFF_SECONDS, MAX_WAIT_SECONDS, UploadQueue
from opensession.localdb.store import LocalIndex

SERVER = "http://127.0.0.1:1"
NOW = 1_800_000_000.0


@pytest.fixture
def index(tmp_path: Path) -> LocalIndex:
    opened = LocalIndex.open(tmp_path / "local.db")
    opened.db.execute(
        "INSERT INTO sources (path, tool, size, mtime_ns, inode, indexed_at) "
        "VALUES ('/logs/a.jsonl', 'claude-code', 1, 1, 1, 'x')"
    )
    for session_id, events in (("a", 3), ("b", 5)):
        opened.db.execute(
            "INSERT INTO sessions (id, source_path, tool, model, provider, created_at, "
            "updated_at, event_count, message_count, tool_call_count, task_count, "
            "duration_seconds, total_input_tokens, total_output_tokens, user_message_count, "
            "files_changed, lines_added, lines_removed) VALUES (?, '/logs/a.jsonl', "
            "'claude-code', 'm', 'p', '2026-03-01T10:00:00.000000Z', "
            "'2026-03-01T10:05:00.000000Z', ?, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0)",
            (session_id, events),
        )
    return opened


def test_a_session_written_again_waits_for_quiet_but_not_forever(index: LocalIndex) -> None:
    queue = UploadQueue(index.db)
    queue.enqueue(["a"], delay=2, now=NOW)
    assert queue.next_due() == NOW + 2
    queue.enqueue(["a"], delay=2, now=NOW + 1)
    assert queue.next_due() == NOW + 3
    assert queue.due(now=NOW + 2) == []
    queue.enqueue(["a"], delay=2, now=NOW + MAX_WAIT_SECONDS)
    assert queue.next_due() == NOW + MAX_WAIT_SECONDS
    [item] = queue.due(now=NOW + MAX_WAIT_SECONDS)
    assert (item.session_id, item.generation) == ("a", 3)


def test_an_upload_of_an_older_version_keeps_the_newer_one_queued(index: LocalIndex) -> None:
    queue = UploadQueue(index.db)
    queue.enqueue(["a"], delay=0, now=NOW)
    [sending] = queue.due(now=NOW)
    queue.enqueue(["a"], delay=0, now=NOW + 1)  # written again while being uploaded
    queue.uploaded(sending, SERVER, "srv-a", 3, datetime(2026, 3, 1, 10, 5, tzinfo=UTC))
    assert queue.depth() == 1
    assert index.get_session("a").sync_state == "uploaded"
    assert index.get_session("a").server_id == "srv-a"


def test_failures_back_off_doubling_up_to_the_cap(index: LocalIndex) -> None:
    queue = UploadQueue(index.db)
    queue.enqueue(["a"], delay=0, now=NOW)
    waits = []
    for _ in range(8):
        [item] = queue.due(now=NOW + 10_000)
        waits.append(queue.failed(item, "cannot reach the server", now=NOW))
    assert waits[:4] == [2, 4, 8, 16]
    assert waits[-1] == MAX_BACKOFF_SECONDS
    [item] = queue.due(now=NOW + 10_000)
    assert (item.attempts, item.last_error) == (8, "cannot reach the server")
    # A new write does not cut a failing upload's backoff short.
    queue.enqueue(["a"], delay=0, now=NOW)
    assert queue.next_due() == NOW + MAX_BACKOFF_SECONDS


def test_only_versions_the_server_lacks_are_stale(index: LocalIndex) -> None:
    queue = UploadQueue(index.db)
    assert sorted(queue.stale(None, SERVER)) == ["a", "b"]
    queue.enqueue(["a"], delay=0, now=NOW)
    [item] = queue.due(now=NOW)
    queue.uploaded(item, SERVER, "srv-a", 3, datetime(2026, 3, 1, 10, 5, tzinfo=UTC))
    assert queue.stale(["a", "b"], SERVER) == ["b"]
    assert sorted(queue.stale(None, "http://another.example")) == ["a", "b"]
    index.db.execute("UPDATE sessions SET event_count = 4 WHERE id = 'a'")
    assert sorted(queue.stale(None, SERVER)) == ["a", "b"]


def test_requested_sources_are_taken_once(index: LocalIndex) -> None:
    queue = UploadQueue(index.db)
    queue.request_source("/logs/a.jsonl", "claude-code")
    queue.request_source("/logs/a.jsonl", "claude-code")
    assert queue.take_requested_sources() == [("/logs/a.jsonl", "claude-code")]
    assert queue.take_requested_sources() == []


def test_the_queue_survives_reopening_the_index(index: LocalIndex, tmp_path: Path) -> None:
    UploadQueue(index.db).enqueue(["a", "b"], delay=0, now=NOW)
    index.close()
    with LocalIndex.open(tmp_path / "local.db") as reopened:
        assert UploadQueue(reopened.db).depth() == 2
