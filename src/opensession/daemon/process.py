"""The daemon as a process: its files under the state directory, the pid lock that says
whether it runs, starting it detached and stopping it.

The pid file is locked (``flock``) by the running daemon for its whole life, so a pid file left
behind by a killed daemon never makes it look alive.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

from opensession.config.paths import state_dir

START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 15.0


class DaemonError(RuntimeError):
    """The daemon could not be started or stopped; one line saying why."""


@dataclass(frozen=True)
class DaemonFiles:
    """The daemon's files: ``daemon.pid``, ``daemon.log`` and ``daemon-health.json``."""

    folder: Path

    @classmethod
    def default(cls) -> DaemonFiles:
        return cls(state_dir())

    @property
    def pid(self) -> Path:
        return self.folder / "daemon.pid"

    @property
    def log(self) -> Path:
        return self.folder / "daemon.log"

    @property
    def health(self) -> Path:
        return self.folder / "daemon-health.json"


class PidLock:
    """The running daemon's hold on its pid file; ``acquire`` fails when another daemon runs."""

    def __init__(self, files: DaemonFiles) -> None:
        self.files = files
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Lock the pid file and write this process's pid in it; DaemonError naming the pid of
        the daemon already running otherwise."""
        self.files.folder.mkdir(parents=True, exist_ok=True)
        handle = self.files.pid.open("a+", encoding="ascii")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            pid = running_pid(self.files)
            raise DaemonError(f"the daemon is already running (pid {pid})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Remove the pid file and let go of the lock."""
        if self._handle is None:
            return
        self.files.pid.unlink(missing_ok=True)
        self._handle.close()
        self._handle = None


def running_pid(files: DaemonFiles) -> int | None:
    """The pid of the running daemon, or None when none holds the pid file's lock."""
    try:
        handle = files.pid.open(encoding="ascii")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:
            return None  # nobody holds it: a file left by a daemon that was killed
        # The daemon writes its pid just after locking; give it a moment if it is starting.
        deadline = time.monotonic() + 1.0
        while True:
            handle.seek(0)
            text = handle.read().strip()
            if text.isdigit():
                return int(text)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)


def start_detached(files: DaemonFiles, extra_env: dict[str, str] | None = None) -> int:
    """Start the daemon in its own session (it survives the terminal closing), its output
    appended to the log file; returns its pid once it holds the pid lock."""
    files.folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(extra_env or {})}
    with files.log.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "opensession.daemon", "--log-file", str(files.log)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if running_pid(files) == process.pid:
            return process.pid
        if process.poll() is not None:
            raise DaemonError(
                f"the daemon exited at start (code {process.returncode}): {last_line(files.log)}"
            )
        time.sleep(0.05)
    process.terminate()
    raise DaemonError(
        f"the daemon did not start within {START_TIMEOUT_SECONDS:.0f} s; see {files.log}"
    )


def stop(files: DaemonFiles) -> int | None:
    """Ask the running daemon to stop (SIGTERM) and wait until it has; returns its pid, or None
    when none was running."""
    pid = _signal(files, signal.SIGTERM)
    if pid is None:
        return None
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if running_pid(files) is None:
            return pid
        time.sleep(0.05)
    raise DaemonError(f"the daemon (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS:.0f} s")


def wake(files: DaemonFiles) -> int | None:
    """Tell the running daemon to look at its pending sources now (SIGUSR1); returns its pid,
    or None when none runs."""
    return _signal(files, signal.SIGUSR1)


def _signal(files: DaemonFiles, number: signal.Signals) -> int | None:
    """Send signal ``number`` to the running daemon; its pid, or None when none runs."""
    pid = running_pid(files)
    if pid is None:
        return None
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        return None
    return pid


def read_health(files: DaemonFiles) -> dict[str, object] | None:
    """What the daemon last wrote about itself, or None when it never did."""
    try:
        value = orjson.loads(files.health.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def last_line(path: Path) -> str:
    """The last non-empty line of a log file (what a daemon that died said last)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "no log written"
    return lines[-1] if lines else "no log written"
