"""What the running daemon tells about itself, written to ``daemon-health.json`` when it
changes (never on a timer, so an idle daemon does nothing)."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson


class HealthRecord:
    """The daemon's state, shared by its threads; each change rewrites the file atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {
            "pid": os.getpid(),
            "started_at": _now(),
            "started_at_unix": time.time(),
            "watched": [],
            "waiting_for": [],
            "server": None,
            "scope": None,
            "uploads": 0,
            "last_upload": None,
            "last_error": None,
            "last_index": None,
        }

    def update(self, **values: Any) -> None:
        with self._lock:
            if all(self._state.get(key) == value for key, value in values.items()):
                return
            self._state.update(values)
            self._write()

    def error(self, message: str) -> None:
        self.update(last_error={"at": _now(), "message": message})

    def uploaded(self, session_id: str, url: str) -> None:
        with self._lock:
            self._state["uploads"] += 1
            self._state["last_upload"] = {"at": _now(), "session_id": session_id, "url": url}
            self._write()

    def _write(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temporary.write_bytes(orjson.dumps(self._state, option=orjson.OPT_INDENT_2))
        temporary.replace(self.path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
