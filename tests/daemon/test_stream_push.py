"""``daemon stream-push`` as a Claude Code hook runs it, with no daemon running."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.daemon.conftest import DaemonHome, ServerProcess

PUSH = ("daemon", "stream-push", "--agent", "claude-code")


def _payload(transcript: Path) -> bytes:
    return orjson.dumps(
        {
            "session_id": "pushed-1",
            "transcript_path": str(transcript),
            "hook_event_name": "Stop",
            "cwd": "/",
        }
    )


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"not json", "stdin: expected the hook's JSON object"),
        (b"[1, 2]", "stdin: expected a JSON object from the agent's hook"),
        (b'{"session_id": "x"}', "stdin: the hook's JSON has no transcript_path (a string)"),
        (b'{"transcript_path": "/nowhere/x.jsonl"}', "transcript_path '/nowhere/x.jsonl': no"),
        (b'{"transcript_path": "/etc/passwd"}', "expected a .jsonl session log"),
    ],
)
def test_a_bad_payload_is_one_line_on_stderr_and_exit_1(
    daemon_home: DaemonHome, stdin: bytes, message: str
) -> None:
    result = daemon_home.opensession_with_input(stdin, *PUSH)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_without_a_daemon_the_log_is_indexed_and_uploaded_here(
    daemon_home: DaemonHome, server: ServerProcess
) -> None:
    daemon_home.connect(server)
    assert (
        daemon_home.opensession("daemon", "select", "--repo", str(daemon_home.repo)).returncode == 0
    )
    transcript = daemon_home.append("pushed-1", "a question")

    pushed = daemon_home.opensession_with_input(_payload(transcript), *PUSH)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout == ""
    assert [(s["session_id"], s["event_count"]) for s in server.sessions()] == [("pushed-1", 1)]
    listed = orjson.loads(daemon_home.opensession("log", "--json").stdout)
    assert [(row["id"], row["sync_state"]) for row in listed] == [("pushed-1", "uploaded")]

    daemon_home.append("pushed-1", "another question")
    again = daemon_home.opensession_with_input(_payload(transcript), *PUSH, "--json")
    outcome = orjson.loads(again.stdout)
    assert outcome["daemon_pid"] is None
    assert len(outcome["uploaded"]) == 1
    assert [(s["session_id"], s["event_count"]) for s in server.sessions()] == [("pushed-1", 2)]


def test_a_session_outside_the_selection_is_indexed_but_not_uploaded(
    daemon_home: DaemonHome, server: ServerProcess
) -> None:
    daemon_home.connect(server)
    elsewhere = daemon_home.root / "elsewhere"
    transcript = daemon_home.append("pushed-1", "private work", cwd=elsewhere)
    assert (
        daemon_home.opensession("daemon", "select", "--repo", str(daemon_home.repo)).returncode == 0
    )

    pushed = daemon_home.opensession_with_input(_payload(transcript), *PUSH, "--json")
    assert orjson.loads(pushed.stdout)["uploaded"] == []
    assert server.sessions() == []
    listed = orjson.loads(daemon_home.opensession("log", "--json").stdout)
    assert [(row["id"], row["sync_state"]) for row in listed] == [("pushed-1", "local")]


def test_the_daemon_uploads_privately_when_the_config_says_so(
    daemon_home: DaemonHome, server: ServerProcess
) -> None:
    daemon_home.connect(server)
    assert daemon_home.opensession("config", "set", "daemon.private", "true").returncode == 0
    selected = daemon_home.opensession("daemon", "select", "--all")
    assert selected.stdout.strip().endswith("(private)")
    transcript = daemon_home.append("pushed-1", "not for everyone")

    pushed = daemon_home.opensession_with_input(_payload(transcript), *PUSH, "--json")
    assert len(orjson.loads(pushed.stdout)["uploaded"]) == 1
    assert server.sessions() == []  # not on the public feed
    listed = orjson.loads(daemon_home.opensession("log", "--json").stdout)
    assert [(row["id"], row["sync_state"]) for row in listed] == [("pushed-1", "uploaded")]
