"""Where a prepared session goes: the team's server or the repository's sessions branch; and
the local index's record of where each session went."""

from __future__ import annotations

from typing import Any

from opensession.client import ServerClient
from opensession.gitnative.repo import GitError, GitRepo
from opensession.gitnative.session_branch import SESSIONS_BRANCH, SESSIONS_REF, store_session
from opensession.localdb.store import LocalIndex, SessionNotFoundError, SyncState
from opensession.publishing.prepare import PreparedSession


def share_url(server_url: str, server_id: str) -> str:
    """The web page of an uploaded session."""
    return f"{server_url.rstrip('/')}/session/{server_id}"


def upload_to_server(
    prepared: PreparedSession,
    server_url: str,
    api_key: str,
    *,
    visibility: str = "public",
    retries: int = 3,
) -> dict[str, Any]:
    """Upload the session (the client repeats an attempt that met a network error or a 5xx
    answer ``retries`` times; uploading again replaces the earlier copy, so a retry never
    duplicates it). Raises ClientError.

    Returns ``{"session_id", "server", "id", "url", "visibility", "created", "redactions"}``
    (``created`` false when the server replaced its earlier copy).
    """
    with ServerClient(server_url, api_key or None, retries=retries) as client:
        uploaded = client.upload_session(prepared.body, visibility=visibility)
    server_id = str(uploaded.get("id") or prepared.session.session_id)
    return {
        "session_id": prepared.session.session_id,
        "server": server_url,
        "id": server_id,
        "url": uploaded.get("url") or share_url(server_url, server_id),
        "visibility": visibility,
        "created": bool(uploaded.get("created", True)),
        "redactions": prepared.report.counts,
    }


def _metadata(prepared: PreparedSession) -> dict[str, Any]:
    """The summary stored next to the session on the sessions branch."""
    session = prepared.session
    return {
        "session_id": session.session_id,
        "title": session.context.title,
        "tool": session.agent.tool,
        "model": session.agent.model,
        "session_role": "auxiliary" if session.context.is_auxiliary else "primary",
        "stats": session.stats.model_dump(),
    }


def store_in_git(prepared: PreparedSession, repo: GitRepo, remote: str | None) -> dict[str, Any]:
    """Commit the session onto the sessions branch of ``repo`` (plumbing only: the working tree,
    index and HEAD are not touched), then push the branch to ``remote`` when given. Raises
    GitError, or ValueError for a session that cannot be stored.

    Returns ``{"session_id", "branch", "commit", "changed", "pushed_to", "redactions"}``.
    """
    session_id = prepared.session.session_id
    before = repo.resolve(SESSIONS_REF)
    commit = store_session(repo, session_id, prepared.body, _metadata(prepared))
    if remote is not None:
        try:
            repo.run("push", "--quiet", remote, f"{SESSIONS_REF}:{SESSIONS_REF}")
        except GitError as exc:
            raise GitError(
                f"stored {session_id} at {commit[:12]} but the push to {remote} failed: {exc}"
            ) from exc
    return {
        "session_id": session_id,
        "branch": SESSIONS_BRANCH,
        "commit": commit,
        "changed": commit != before,
        "pushed_to": remote,
        "redactions": prepared.report.counts,
    }


def record_sync(
    index: LocalIndex, session_id: str, state: SyncState, server_id: str | None = None
) -> bool:
    """Note in the local index where the session went; False when it is not indexed (a file
    published by path that was never indexed)."""
    try:
        index.set_sync_state(session_id, state, server_id=server_id)
    except SessionNotFoundError:
        return False
    return True
