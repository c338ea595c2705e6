"""A home with a Claude Code folder and a git repository, a real ``opensession-server``
process that can be stopped and started again, and a daemon run from the installed command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.cli.conftest import run
from tests.server.conftest import JWT_SECRET, free_port


@dataclass
class ServerProcess:
    """``opensession-server`` on a loopback port, with its data kept across restarts."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(
            os.environ,
            PORT=str(self.port),
            JWT_SECRET=JWT_SECRET,
            OPENSESSION_DATA_DIR=str(self.data_dir),
        )
        env.pop("OPENSESSION_DATABASE_URL", None)
        executable = Path(sys.executable).with_name("opensession-server")
        self.process = subprocess.Popen(
            [str(executable)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(lambda: self._healthy(), 15, "the server to start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def api_key(self) -> str:
        """A new account's API key."""
        registered = httpx.post(
            f"{self.url}/api/auth/register",
            json={"email": "ada@example.com", "password": "correct horse", "nickname": "ada"},
        )
        assert registered.status_code == 200, registered.text
        token = registered.json()["access_token"]
        issued = httpx.post(
            f"{self.url}/api/auth/api-keys/issue", headers={"Authorization": f"Bearer {token}"}
        )
        assert issued.status_code == 200, issued.text
        key: str = issued.json()["api_key"]
        return key

    def sessions(self) -> list[dict[str, Any]]:
        """The server's public feed."""
        listed = httpx.get(f"{self.url}/api/sessions", params={"per_page": 50}, timeout=5)
        assert listed.status_code == 200, listed.text
        sessions: list[dict[str, Any]] = listed.json()["sessions"]
        return sessions


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    started = ServerProcess(tmp_path / "server-data")
    started.start()
    yield started
    started.stop()


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> Any:
    """Poll ``condition`` until it gives something true; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.05)


@dataclass
class DaemonHome:
    """A user's home: ``~/.claude/projects/demo`` for logs, ``~/work`` a git repository."""

    root: Path

    @property
    def projects(self) -> Path:
        return self.root / ".claude" / "projects" / "demo"

    @property
    def repo(self) -> Path:
        return self.root / "work"

    @property
    def state(self) -> Path:
        return self.root / ".opensession" / "state"

    def opensession(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run(self.root, *args, cwd=cwd)

    def opensession_with_input(self, data: bytes, *args: str) -> subprocess.CompletedProcess[str]:
        """``opensession ARGS`` reading ``data`` on stdin, as an agent hook runs it."""
        env = dict(
            os.environ, HOME=str(self.root), OPENSESSION_HOME=str(self.root / ".opensession")
        )
        env.pop("CLAUDE_CONFIG_DIR", None)
        executable = Path(sys.executable).with_name("opensession")
        return subprocess.run(
            [str(executable), *args],
            input=data.decode(),
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    def connect(self, server: ServerProcess) -> None:
        result = self.opensession(
            "account", "connect", "--server", server.url, "--api-key", server.api_key()
        )
        assert result.returncode == 0, result.stderr

    def health(self) -> dict[str, Any]:
        result = self.opensession("daemon", "health")
        report: dict[str, Any] = orjson.loads(result.stdout)
        return report

    def append(self, session_id: str, text: str, *, cwd: Path | None = None) -> Path:
        """Append a user message to ``session_id``'s log (created on first use)."""
        log = self.projects / f"{session_id}.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        count = len(log.read_bytes().splitlines()) if log.exists() else 0
        record = {
            "type": "user",
            "uuid": f"{session_id}-{count}",
            "sessionId": session_id,
            "timestamp": f"2026-03-01T10:{count // 60:02d}:{count % 60:02d}Z",
            "cwd": str(cwd or self.repo),
            "message": {"role": "user", "content": text},
        }
        with log.open("ab") as handle:
            handle.write(orjson.dumps(record) + b"\n")
        return log


@pytest.fixture
def daemon_home(tmp_path: Path) -> Iterator[DaemonHome]:
    home = DaemonHome(tmp_path / "home")
    home.repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(home.repo)], check=True)
    yield home
    home.opensession("daemon", "stop")
