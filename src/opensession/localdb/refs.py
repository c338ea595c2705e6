"""Session references: how a user names a session on the command line.

A reference is a session file or folder path, a session id or a unique prefix of one, or
``HEAD`` / ``HEAD~N`` (the newest main session, the one before it …, within the git repository
holding the working directory when there is one). Each may be restricted to one tool, as in
``--claude HEAD~2`` or ``--tool "codex HEAD"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opensession.localdb.store import (
    AmbiguousSessionError,
    LocalIndex,
    SessionNotFoundError,
    find_repo_root,
)
from opensession.parsers.registry import TOOLS

if TYPE_CHECKING:
    from opensession.hail.model import Session
    from opensession.parsers.base import ParseResult

TOOL_ALIASES: dict[str, str] = {"claude": "claude-code", "gemini-cli": "gemini"}
"""Other names users give tools, by the HAIL tool name they mean."""

_HEAD = re.compile(r"HEAD(?:~(\d+))?")


class SessionRefError(LookupError):
    """A reference that names no session (or several): one line saying what to do."""


@dataclass(frozen=True)
class ResolvedSession:
    """The session a reference names: its id, the source it is read from, and its tool."""

    session_id: str
    source_path: Path
    tool: str
    parsed: Session | None = field(default=None, compare=False, repr=False)
    """The session itself when resolving already read it (a file reference)."""


def tool_name(name: str) -> str:
    """The HAIL tool name of ``name`` (``claude`` → ``claude-code``); SessionRefError naming
    the supported tools when it is none of them."""
    tool = TOOL_ALIASES.get(name.lower(), name.lower())
    if tool not in TOOLS:
        raise SessionRefError(f"unknown tool {name!r}; supported tools: {', '.join(TOOLS)}")
    return tool


def parse_tool_ref(text: str) -> tuple[str, str]:
    """``"codex HEAD~1"`` → ``("codex", "HEAD~1")``; a tool alone means its ``HEAD``."""
    words = text.split(maxsplit=1)
    if not words:
        raise SessionRefError('--tool needs a tool and a reference, as in --tool "codex HEAD"')
    return tool_name(words[0]), words[1].strip() if len(words) > 1 else "HEAD"


def resolve_session_ref(
    index: LocalIndex, ref: str, *, tool: str | None = None, cwd: Path | None = None
) -> ResolvedSession:
    """The session ``ref`` names, of ``tool`` only when given.

    ``HEAD~N`` counts main sessions newest first (by creation time) in the git repository
    holding ``cwd`` (the working directory by default), or all of them outside one. An existing
    path is parsed directly, indexed or not, and names its main session. Anything else is a
    session id or a unique prefix of one. Raises SessionRefError.
    """
    ref = ref.strip()
    head = _HEAD.fullmatch(ref)
    if head:
        return _resolve_head(index, int(head.group(1) or 0), tool, cwd or Path.cwd())
    path = Path(ref).expanduser()
    if ref and path.exists():
        return _resolve_path(path, tool)
    try:
        row = index.get_session(ref)
    except AmbiguousSessionError as exc:
        raise SessionRefError(
            f"session id prefix {ref!r} matches several sessions "
            f"({', '.join(exc.candidates)}); type more of it"
        ) from None
    except SessionNotFoundError:
        if "/" in ref or path.suffix in {".json", ".jsonl", ".md"}:
            raise SessionRefError(f"no such file: {ref}") from None
        raise SessionRefError(
            f"no session {ref!r}: not a file, an indexed session id or HEAD~N; "
            "run 'opensession index' if it is new"
        ) from None
    if tool and row.tool != tool:
        raise SessionRefError(f"session {row.id} is a {row.tool} session, not {tool}")
    return ResolvedSession(row.id, Path(row.source_path), row.tool)


def resolve_recent(
    index: LocalIndex, count: int, *, tool: str | None = None, cwd: Path | None = None
) -> list[ResolvedSession]:
    """The ``count`` newest main sessions (``HEAD`` back to ``HEAD~(count-1)``), newest first,
    in the git repository holding ``cwd`` as for ``HEAD``; fewer when fewer exist, and
    SessionRefError when there are none."""
    repo = _head_repo(cwd or Path.cwd())
    rows = index.list_sessions(tool=tool, repo=repo, limit=max(count, 1))
    if not rows:
        hint = _REPO_HINT if repo else _INDEX_HINT
        raise SessionRefError(f"no session HEAD: no {_what(tool, repo)} indexed; {hint}")
    return [ResolvedSession(row.id, Path(row.source_path), row.tool) for row in rows]


def _resolve_head(index: LocalIndex, back: int, tool: str | None, cwd: Path) -> ResolvedSession:
    repo = _head_repo(cwd)
    rows = index.list_sessions(tool=tool, repo=repo, limit=1, offset=back)
    if rows:
        row = rows[0]
        return ResolvedSession(row.id, Path(row.source_path), row.tool)
    found = len(index.list_sessions(tool=tool, repo=repo))
    name = f"HEAD~{back}" if back else "HEAD"
    if not found:
        hint = _REPO_HINT if repo else _INDEX_HINT
        raise SessionRefError(f"no session {name}: no {_what(tool, repo)} indexed; {hint}")
    raise SessionRefError(
        f"no session {name}: only {found} {_what(tool, repo)} (HEAD to HEAD~{found - 1}); "
        "run 'opensession index' to pick up new sessions"
    )


_INDEX_HINT = "run 'opensession index'"
_REPO_HINT = (
    "HEAD counts the sessions started inside the current git repository; run 'opensession "
    "index' or name a session by file or id"
)


def _head_repo(cwd: Path) -> str | None:
    root = find_repo_root(cwd.absolute())
    return str(root) if root else None


def _what(tool: str | None, repo: str | None) -> str:
    what = f"{tool} sessions" if tool else "sessions"
    return f"{what} in {repo}" if repo else what


def _resolve_path(path: Path, tool: str | None) -> ResolvedSession:
    session = _parse(path, tool).session
    return ResolvedSession(session.session_id, path, session.agent.tool, session)


def load_session(resolved: ResolvedSession) -> Session:
    """The full session ``resolved`` names, read again from its source (SessionRefError when the
    source is gone, unreadable or no longer holds it)."""
    if resolved.parsed is not None:
        return resolved.parsed
    result = _parse(resolved.source_path, resolved.tool)
    for session in result.sessions:
        if session.session_id == resolved.session_id:
            return session
    raise SessionRefError(
        f"session {resolved.session_id} is no longer in {resolved.source_path}; "
        "run 'opensession index'"
    )


def _parse(path: Path, tool: str | None) -> ParseResult:
    from opensession.parsers.base import SessionParseError
    from opensession.parsers.registry import parse_path

    try:
        return parse_path(path, tool)
    except SessionParseError as exc:
        raise SessionRefError(f"cannot read {exc.source}: {exc.reason}") from None
