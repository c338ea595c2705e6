"""``daemon stream-push``: what an agent hook runs after the agent wrote to its log.

With the daemon running, the log is handed to it (a row in the index and a SIGUSR1), which
reads on from where it was and uploads at once: the hook returns in tens of milliseconds and
never waits on the network. Without the daemon, the log is indexed and uploaded right here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from opensession.daemon.process import DaemonFiles, running_pid, wake
from opensession.daemon.queue import UploadQueue
from opensession.localdb.store import LocalIndex


class HookPayloadError(ValueError):
    """The hook's stdin is not what the agent sends; one line saying what was expected."""


@dataclass(frozen=True)
class HookPayload:
    """What Claude Code's hooks send on stdin that matters here."""

    transcript_path: Path
    session_id: str | None
    event: str | None


def read_payload(data: bytes) -> HookPayload:
    """The payload of a Claude Code hook: a JSON object with ``transcript_path`` (the session's
    log), ``session_id`` and ``hook_event_name``."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise HookPayloadError(f"stdin: expected the hook's JSON object ({exc.msg})") from None
    if not isinstance(value, dict):
        raise HookPayloadError("stdin: expected a JSON object from the agent's hook")
    transcript = value.get("transcript_path")
    if not isinstance(transcript, str) or not transcript:
        raise HookPayloadError("stdin: the hook's JSON has no transcript_path (a string)")
    path = Path(transcript).expanduser()
    if path.suffix != ".jsonl":
        raise HookPayloadError(f"transcript_path {transcript!r}: expected a .jsonl session log")
    if not path.is_file():
        raise HookPayloadError(f"transcript_path {transcript!r}: no such file")
    session_id = _text(value.get("session_id"))
    return HookPayload(path.resolve(), session_id, _text(value.get("hook_event_name")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def stream_push(agent: str, payload: HookPayload, files: DaemonFiles) -> dict[str, Any]:
    """Hand the log to the running daemon, or index and upload it here when none runs.

    Returns what happened: ``{"transcript", "daemon_pid"}`` when handed over, else
    ``{"transcript", "daemon_pid": None, "sessions", "uploaded", "queued"}``.
    """
    transcript = str(payload.transcript_path)
    with LocalIndex.open() as index:
        queue = UploadQueue(index.db)
        if running_pid(files) is not None:
            queue.request_source(transcript, agent)
            pid = wake(files)
            if pid is not None:
                return {"transcript": transcript, "daemon_pid": pid}
        pushed = _push_here(index, queue, agent, transcript)
    return {"transcript": transcript, "daemon_pid": None, **pushed}


def _push_here(
    index: LocalIndex, queue: UploadQueue, agent: str, transcript: str
) -> dict[str, Any]:
    """Index the log, then upload its sessions of the daemon's selection (what fails to upload
    stays queued for the daemon)."""
    from opensession.config.settings import load_settings
    from opensession.daemon.uploads import queue_stale, send
    from opensession.localdb.indexer import index_sources
    from opensession.parsers.discovery import SessionSource

    settings = load_settings()
    report = index_sources(index, [SessionSource(agent, Path(transcript))], prune=False)
    outcome: dict[str, Any] = {"sessions": report.sessions, "uploaded": [], "queued": 0}
    if not settings.server_url or not report.changed:
        return outcome
    stale = queue_stale(index, queue, settings, report.changed, delay=0.0)
    for item in queue.due():
        if item.session_id in stale:
            sent = send(index, queue, item, settings)
            if sent.status == "uploaded":
                outcome["uploaded"].append(sent.url)
    outcome["queued"] = queue.depth()
    return outcome
