"""Which sessions a handoff covers: files, ``--last [N|HEAD~N]``, and per-tool references."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from opensession.hail.model import Session
from opensession.localdb.refs import (
    ResolvedSession,
    SessionRefError,
    load_session,
    parse_tool_ref,
    resolve_recent,
    resolve_session_ref,
)
from opensession.localdb.store import LocalIndex

_LAST = re.compile(r"(?:HEAD~)?(\d+)|HEAD")


def last_count(value: str) -> int:
    """How many sessions ``--last VALUE`` means: ``HEAD`` 1, ``N`` and ``HEAD~N`` N (as git's
    ``HEAD~N..HEAD`` holds N commits)."""
    match = _LAST.fullmatch(value.strip())
    if match is None or (match.group(1) is not None and int(match.group(1)) < 1):
        raise SessionRefError(
            f"--last takes a count or HEAD~N (at least 1), as in --last 6 or --last HEAD~6; "
            f"got {value!r}"
        )
    return int(match.group(1)) if match.group(1) else 1


def select_sessions(
    index: LocalIndex,
    *,
    files: Sequence[str] = (),
    last: str | None = None,
    claude: Sequence[str] = (),
    gemini: Sequence[str] = (),
    tools: Sequence[str] = (),
    cwd: Path | None = None,
) -> list[ResolvedSession]:
    """The sessions named, each once, in the order named. SessionRefError when a reference
    names nothing, or when nothing at all is named."""
    chosen: dict[str, ResolvedSession] = {}

    def take(session: ResolvedSession) -> None:
        chosen.setdefault(session.session_id, session)

    for ref in files:
        take(resolve_session_ref(index, ref, cwd=cwd))
    if last is not None:
        for session in reversed(resolve_recent(index, last_count(last), cwd=cwd)):
            take(session)
    for tool, refs in (("claude-code", claude), ("gemini", gemini)):
        for ref in refs:
            take(resolve_session_ref(index, ref, tool=tool, cwd=cwd))
    for text in tools:
        tool, ref = parse_tool_ref(text)
        take(resolve_session_ref(index, ref, tool=tool, cwd=cwd))
    if not chosen:
        raise SessionRefError(
            "name the sessions to hand off: a session file, --last [N], --claude REF, "
            '--gemini REF or --tool "NAME REF"'
        )
    return list(chosen.values())


def uses_index(
    last: str | None, claude: Sequence[str], gemini: Sequence[str], tools: Sequence[str]
) -> bool:
    """Whether the selection reads the local index (anything but file paths)."""
    return last is not None or bool(claude or gemini or tools)


def load_sessions(selected: Sequence[ResolvedSession]) -> list[Session]:
    """The full sessions, read from their sources (SessionRefError when one is gone)."""
    return [load_session(session) for session in selected]
