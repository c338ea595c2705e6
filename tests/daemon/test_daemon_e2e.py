"""The daemon end to end: the installed command, a real server process, a real daemon process
watching a real folder on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time

import orjson
import pytest

from tests.daemon.conftest import DaemonHome, ServerProcess, wait_for

pytestmark = pytest.mark.slow


def _events_on_server(server: ServerProcess, session_id: str) -> list[int]:
    return [s["event_count"] for s in server.sessions() if s["session_id"] == session_id]


def test_sessions_reach_the_server_and_an_update_made_while_it_is_down_arrives_once(
    daemon_home: DaemonHome, server: ServerProcess
) -> None:
    daemon_home.connect(server)
    daemon_home.projects.mkdir(parents=True)
    started = daemon_home.opensession("daemon", "start", "--repo", str(daemon_home.repo))
    assert started.returncode == 0, started.stderr
    assert f"uploading sessions of {daemon_home.repo.resolve()}" in started.stdout

    written = time.monotonic()
    daemon_home.append("live-1", "first question")
    wait_for(lambda: _events_on_server(server, "live-1") == [1], 5, "the session on the server")
    assert time.monotonic() - written < 5

    server.stop()
    daemon_home.append("live-1", "second question")
    daemon_home.append("live-1", "third question")
    failed = wait_for(lambda: daemon_home.health()["last_error"], 10, "a failed upload")
    assert "cannot reach the server" in failed["message"]
    assert daemon_home.health()["queue_depth"] == 1

    server.start()
    wait_for(lambda: _events_on_server(server, "live-1") == [3], 20, "the update after restart")
    assert daemon_home.health()["queue_depth"] == 0
    assert daemon_home.health()["uploads"] == 2


def test_a_daemon_killed_with_uploads_queued_sends_them_after_restart_once(
    daemon_home: DaemonHome, server: ServerProcess
) -> None:
    daemon_home.connect(server)
    daemon_home.projects.mkdir(parents=True)
    assert daemon_home.opensession("daemon", "start", "--all").returncode == 0
    server.stop()
    daemon_home.append("killed-1", "work that must not be lost")
    wait_for(lambda: daemon_home.health()["queue_depth"] == 1, 10, "the upload to be queued")
    pid = daemon_home.health()["pid"]

    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not daemon_home.health()["running"], 5, "the daemon to die")
    assert daemon_home.health()["queue_depth"] == 1

    server.start()
    restarted = daemon_home.opensession("daemon", "start")
    assert restarted.returncode == 0, restarted.stderr
    wait_for(lambda: _events_on_server(server, "killed-1") == [1], 20, "the queued session")
    time.sleep(1)
    assert len(server.sessions()) == 1


def test_a_second_start_says_the_daemon_is_already_running_with_its_pid(
    daemon_home: DaemonHome,
) -> None:
    first = daemon_home.opensession("daemon", "start")
    assert first.returncode == 0, first.stderr
    assert "uploading nothing: no server connected" in first.stdout
    pid = daemon_home.health()["pid"]

    second = daemon_home.opensession("daemon", "start")
    assert second.returncode == 1
    assert second.stderr.strip() == f"Error: the daemon is already running (pid {pid})"

    status = daemon_home.opensession("daemon", "status")
    assert status.returncode == 0
    assert f"running (pid {pid})" in status.stdout
    stopped = daemon_home.opensession("daemon", "stop")
    assert stopped.stdout.strip() == f"daemon stopped (pid {pid})"
    assert daemon_home.opensession("daemon", "status").returncode == 1


def _indexed_ids(home: DaemonHome) -> list[str]:
    listed = home.opensession("log", "--json", "-n", "50")
    return [row["id"] for row in orjson.loads(listed.stdout)]


def test_a_tool_folder_created_after_start_is_watched_and_deleted_logs_are_forgotten(
    daemon_home: DaemonHome,
) -> None:
    assert not daemon_home.projects.parent.exists()
    assert daemon_home.opensession("daemon", "start").returncode == 0
    health = daemon_home.health()
    assert str(daemon_home.projects.parent) in health["waiting_for"]

    log = daemon_home.append("late-1", "the folder did not exist when the daemon started")
    wait_for(lambda: _indexed_ids(daemon_home) == ["late-1"], 10, "the new folder's session")
    assert str(daemon_home.projects.parent) in daemon_home.health()["watched"]

    daemon_home.append("late-2", "a second session")
    wait_for(lambda: len(_indexed_ids(daemon_home)) == 2, 5, "the second session")
    daemon_home.append("late-2", "more of it")
    wait_for(lambda: daemon_home.health()["last_index"]["updated"] == 1, 5, "the append indexed")
    assert daemon_home.health()["last_index"]["sources"] == 1  # that log alone, not the folder
    log.unlink()
    wait_for(lambda: _indexed_ids(daemon_home) == ["late-2"], 5, "the deleted log forgotten")
    assert daemon_home.health()["running"]


def test_stream_push_hands_the_log_to_the_running_daemon_which_uploads_it_at_once(
    daemon_home: DaemonHome, server: ServerProcess
) -> None:
    daemon_home.connect(server)
    outside = daemon_home.root / "elsewhere"
    outside.mkdir()
    assert daemon_home.opensession("daemon", "start", "--all").returncode == 0
    # A log the watcher does not see (not in a tool folder): only the hook names it.
    transcript = outside / "hooked.jsonl"
    transcript.write_bytes(
        orjson.dumps(
            {
                "type": "user",
                "uuid": "h1",
                "sessionId": "hooked-1",
                "timestamp": "2026-03-01T10:00:00Z",
                "cwd": str(daemon_home.repo),
                "message": {"role": "user", "content": "pushed by the hook"},
            }
        )
        + b"\n"
    )
    payload = orjson.dumps({"session_id": "hooked-1", "transcript_path": str(transcript)})
    pushed = daemon_home.opensession_with_input(
        payload, "daemon", "stream-push", "--agent", "claude-code", "--json"
    )
    assert pushed.returncode == 0, pushed.stderr
    assert orjson.loads(pushed.stdout)["daemon_pid"] == daemon_home.health()["pid"]
    wait_for(lambda: _events_on_server(server, "hooked-1") == [1], 2, "the pushed session")


def test_a_corrupt_config_stops_start_with_its_line_and_is_left_as_it_was(
    daemon_home: DaemonHome,
) -> None:
    config = daemon_home.root / ".opensession" / "config" / "opensession.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[server]\nurl = "http://x"\napi_key = \n')
    result = daemon_home.opensession("daemon", "start", "--all")
    assert result.returncode == 1
    assert f"{config}: not valid TOML at line 3" in result.stderr
    assert config.read_text() == '[server]\nurl = "http://x"\napi_key = \n'
    assert not daemon_home.health()["running"]


def test_stop_cuts_the_first_index_pass_short(daemon_home: DaemonHome) -> None:
    for number in range(3000):
        daemon_home.append(f"many-{number}", "one of many")
    assert daemon_home.opensession("daemon", "start").returncode == 0
    time.sleep(0.5)
    assert daemon_home.health()["last_index"] is None  # still indexing

    began = time.monotonic()
    stopped = daemon_home.opensession("daemon", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert time.monotonic() - began < 5
    assert not daemon_home.health()["running"]


def test_an_error_while_indexing_is_reported_and_the_daemon_keeps_running(
    daemon_home: DaemonHome,
) -> None:
    daemon_home.append("sound-1", "indexed before the damage")
    assert daemon_home.opensession("daemon", "start").returncode == 0
    wait_for(lambda: daemon_home.health()["last_index"], 10, "the first pass")
    # Another program breaks the index under the daemon: its next write fails.
    with sqlite3.connect(daemon_home.root / ".opensession" / "data" / "local.db") as db:
        db.execute("DROP TABLE sessions_fts")
    db.close()

    daemon_home.append("sound-2", "written after the damage")
    failed = wait_for(lambda: daemon_home.health()["last_error"], 10, "the error reported")
    assert failed["message"].startswith("indexing the changes failed: ")
    time.sleep(1)
    assert daemon_home.health()["running"]


def test_custom_paths_added_while_running_and_a_tool_folder_made_again_are_watched(
    daemon_home: DaemonHome,
) -> None:
    daemon_home.append("first-1", "before anything moved")
    assert daemon_home.opensession("daemon", "start").returncode == 0
    wait_for(lambda: _indexed_ids(daemon_home) == ["first-1"], 10, "the first session")

    extra = daemon_home.root / "exported-logs"
    extra.mkdir()
    configured = daemon_home.opensession("config", "set", "watchers.custom_paths", str(extra))
    assert configured.returncode == 0, configured.stderr
    wait_for(lambda: str(extra) in daemon_home.health()["watched"], 10, "the custom path")
    copied = (daemon_home.projects / "first-1.jsonl").read_bytes().replace(b"first-1", b"copy-1")
    (extra / "copy-1.jsonl").write_bytes(copied)
    wait_for(lambda: "copy-1" in _indexed_ids(daemon_home), 5, "the custom path's session")

    projects = daemon_home.projects.parent
    shutil.rmtree(projects)
    wait_for(lambda: str(projects) in daemon_home.health()["waiting_for"], 10, "the folder let go")
    daemon_home.append("again-1", "the folder is back")
    wait_for(lambda: "again-1" in _indexed_ids(daemon_home), 10, "the re-created folder's session")
