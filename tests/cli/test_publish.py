"""``opensession publish`` end to end: the installed command, real git repositories."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.cli.conftest import run
from tests.gitnative.conftest import checkout_state, git, isolated_git, work_repo
from tests.server.conftest import LiveServer, live, start_server

__all__ = ["isolated_git", "live", "start_server", "work_repo"]

SECRET = "sk-ant-api03-" + "Zx9" * 20
SESSION_ID = "secret-1"
BRANCH_FILE = f"opensession/sessions:sessions/{SESSION_ID}.hail.jsonl"


@pytest.fixture
def database_url() -> None:
    """The live server on SQLite only: the CLI does not care about the server's database."""
    return None


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def write_session(path: Path, session_id: str = SESSION_ID) -> Path:
    """A one-message Claude Code log whose user message holds an API key."""
    line = {
        "type": "user",
        "uuid": "u1",
        "sessionId": session_id,
        "timestamp": "2026-03-01T10:00:00Z",
        "message": {"role": "user", "content": f"deploy with ANTHROPIC_API_KEY={SECRET}"},
    }
    path.write_bytes(orjson.dumps(line) + b"\n")
    return path


@pytest.fixture
def session_file(tmp_path: Path) -> Path:
    return write_session(tmp_path / "secret.jsonl")


def test_git_stores_the_redacted_session_without_touching_the_checkout(
    home: Path, session_file: Path, work_repo: Path
) -> None:
    before = checkout_state(work_repo)
    result = run(home, "publish", "upload", str(session_file), "--git", cwd=work_repo)
    assert result.returncode == 0, result.stderr
    assert f"stored {SESSION_ID} on opensession/sessions" in result.stdout
    assert "env_secret 2" in result.stdout
    stored = git(work_repo, "show", BRANCH_FILE)
    assert SECRET not in stored and "[REDACTED:env_secret]" in stored
    meta = orjson.loads(
        git(work_repo, "show", f"opensession/sessions:sessions/{SESSION_ID}.meta.json")
    )
    assert meta["session_id"] == SESSION_ID and meta["tool"] == "claude-code"
    assert meta["session_role"] == "primary"
    assert {"title", "model", "stats"} <= meta.keys()
    assert checkout_state(work_repo) == before

    tip = git(work_repo, "rev-parse", "opensession/sessions")
    again = run(home, "publish", "upload", str(session_file), "--git", "--json", cwd=work_repo)
    assert again.returncode == 0, again.stderr
    outcome = orjson.loads(again.stdout)
    assert outcome["commit"] == tip and outcome["changed"] is False
    assert git(work_repo, "rev-list", "--count", "opensession/sessions") == "1"


def test_git_push_to_a_bare_remote(
    home: Path, session_file: Path, work_repo: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(work_repo, "remote", "add", "origin", str(remote))
    result = run(home, "publish", "upload", str(session_file), "--git", "--push", cwd=work_repo)
    assert result.returncode == 0, result.stderr
    assert "pushed opensession/sessions to origin" in result.stdout
    tip = git(work_repo, "rev-parse", "opensession/sessions")
    assert git(remote, "ls-remote", str(remote)) == f"{tip}\trefs/heads/opensession/sessions"

    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    git(other, "remote", "add", "team", str(remote))
    rejected = run(
        home,
        "publish",
        "upload",
        str(write_session(tmp_path / "two.jsonl", "secret-2")),
        "--git",
        "--push",
        "--remote",
        "team",
        cwd=other,
    )
    assert rejected.returncode == 1
    assert "push to team failed" in rejected.stderr
    assert len(rejected.stderr.strip().splitlines()) == 1


def test_dry_run_stores_nothing_and_reports_redactions(
    home: Path, session_file: Path, work_repo: Path
) -> None:
    result = run(
        home, "publish", "upload", str(session_file), "--git", "--dry-run", "--json", cwd=work_repo
    )
    assert result.returncode == 0, result.stderr
    summary = orjson.loads(result.stdout)
    assert summary["session_id"] == SESSION_ID and summary["tool"] == "claude-code"
    assert summary["redactions"] == {"env_secret": 2}
    assert summary["events"] >= 1 and summary["bytes"] > 0 and summary["sent"] is False
    assert "opensession/sessions" in summary["destination"]
    assert git(work_repo, "branch", "--list", "opensession/sessions") == ""

    text = run(home, "publish", "upload", str(session_file), "--dry-run", cwd=work_repo)
    assert text.returncode == 0, text.stderr
    assert "nothing sent to no server connected" in text.stdout
    assert "redacted 2: env_secret 2" in text.stdout
    assert SECRET not in text.stdout


def test_home_paths_are_masked_when_the_config_asks(home: Path, tmp_path: Path) -> None:
    session_file = tmp_path / "paths.jsonl"
    line = {
        "type": "user",
        "uuid": "u1",
        "sessionId": "paths-1",
        "timestamp": "2026-03-01T10:00:00Z",
        "message": {"role": "user", "content": f"open {home}/project/app.py"},
    }
    session_file.write_bytes(orjson.dumps(line) + b"\n")
    kept = orjson.loads(
        run(home, "publish", "upload", str(session_file), "--dry-run", "--json").stdout
    )
    assert kept["redactions"] == {}
    config = home / ".opensession" / "config" / "opensession.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[privacy]\nmask_home_paths = true\n")
    masked = run(home, "publish", "upload", str(session_file), "--dry-run", "--json")
    assert masked.returncode == 0, masked.stderr
    # the message and the title taken from it
    assert orjson.loads(masked.stdout)["redactions"] == {"home_path": 2}


def test_errors_are_one_line(home: Path, session_file: Path, tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    cases = {
        ("--git",): "not a git repository",
        (): "opensession account connect --server URL --api-key KEY",
    }
    for arguments, message in cases.items():
        result = run(home, "publish", "upload", str(session_file), *arguments, cwd=outside)
        assert result.returncode == 1, arguments
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert "--git" in run(home, "publish", "upload", str(session_file), cwd=outside).stderr
    missing = run(home, "publish", "upload", "nope-123", "--git", cwd=outside)
    assert missing.returncode == 1 and "no session 'nope-123'" in missing.stderr
    usage = run(home, "publish", "upload", str(session_file), "--push", cwd=outside)
    assert usage.returncode == 2 and "--push only applies with --git" in usage.stderr


def test_upload_all_is_removed(home: Path) -> None:
    result = run(home, "publish", "upload-all")
    assert result.returncode == 2
    assert "removed" in result.stderr
    assert "opensession publish upload <file>" in result.stderr and "daemon" in result.stderr


def connect(home: Path, live: LiveServer) -> str:
    """Write a config file connecting ``home`` to ``live`` with a new account's API key; the
    account's bearer token."""
    token = live.register()["access_token"]
    issued = live.client.post(
        "/api/auth/api-keys/issue", headers={"Authorization": f"Bearer {token}"}
    )
    assert issued.status_code == 200, issued.text
    config = home / ".opensession" / "config" / "opensession.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[server]\nurl = "{live.url}"\napi_key = "{issued.json()["api_key"]}"\n')
    return token


def test_upload_to_a_live_server_is_redacted_and_idempotent(
    home: Path, session_file: Path, live: LiveServer
) -> None:
    token = connect(home, live)
    dry = run(home, "publish", "upload", str(session_file), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert orjson.loads(dry.stdout)["destination"] == live.url
    auth = {"Authorization": f"Bearer {token}"}
    assert live.client.get("/api/sessions", headers=auth).json()["total"] == 0

    first = run(home, "publish", "upload", str(session_file), "--json", "--private")
    assert first.returncode == 0, first.stderr
    uploaded = orjson.loads(first.stdout)
    assert uploaded["session_id"] == SESSION_ID and uploaded["visibility"] == "private"
    assert uploaded["created"] is True
    assert uploaded["url"].endswith(f"/session/{uploaded['id']}")
    raw = live.client.get(f"/api/sessions/{uploaded['id']}/raw", headers=auth)
    assert raw.status_code == 200
    assert SECRET not in raw.text and "[REDACTED:env_secret]" in raw.text
    assert live.client.get(f"/api/sessions/{uploaded['id']}").status_code == 404

    again = run(home, "publish", "upload", str(session_file))
    assert again.returncode == 0, again.stderr
    assert f"updated {SESSION_ID} (public): {uploaded['url']}" in again.stdout
    assert len(live.client.get("/api/sessions", headers=auth).json()["sessions"]) == 1


def test_upload_with_a_bad_key_is_one_line(
    home: Path, session_file: Path, live: LiveServer
) -> None:
    connect(home, live)
    config = home / ".opensession" / "config" / "opensession.toml"
    config.write_text(f'[server]\nurl = "{live.url}"\napi_key = "osk_wrong"\n')
    result = run(home, "publish", "upload", str(session_file))
    assert result.returncode == 1
    assert "refused the API key" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_redaction_can_be_turned_off_in_the_config(home: Path, session_file: Path) -> None:
    config = home / ".opensession" / "config" / "opensession.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[privacy]\nredact_secrets = false\n")
    result = run(home, "publish", "upload", str(session_file), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["redactions"] == {}


def test_a_session_of_an_excluded_project_is_never_published(
    home: Path, tmp_path: Path, work_repo: Path
) -> None:
    session_file = tmp_path / "excluded.jsonl"
    line = {
        "type": "user",
        "uuid": "u1",
        "sessionId": "excluded-1",
        "timestamp": "2026-03-01T10:00:00Z",
        "cwd": "/work/secret-client/api",
        "message": {"role": "user", "content": "client work"},
    }
    session_file.write_bytes(orjson.dumps(line) + b"\n")
    config = home / ".opensession" / "config" / "opensession.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[privacy]\nexclude_projects = ["/work/secret-client"]\n')

    result = run(home, "publish", "upload", str(session_file), "--git", cwd=work_repo)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: session excluded-1 is in /work/secret-client/api, which "
        "privacy.exclude_projects excludes ('/work/secret-client'); it is never published"
    )
    assert git(work_repo, "branch", "--list", "opensession/sessions") == ""
