"""The ``opensession/sessions`` branch: sessions published into the repository they belong to.

Each session is two files under ``sessions/``: ``<id>.hail.jsonl`` (the HAIL session) and
``<id>.meta.json`` (a small summary). The branch is written with plumbing only, so storing a
session never disturbs the checkout the user is working in, and other files already on the
branch are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from opensession.gitnative.repo import GitError, GitRepo, RefConflictError, TreeEntry

SESSIONS_BRANCH = "opensession/sessions"
SESSIONS_REF = f"refs/heads/{SESSIONS_BRANCH}"
SESSIONS_DIR = "sessions"

_HAIL_SUFFIX = ".hail.jsonl"
_META_SUFFIX = ".meta.json"
_ATTEMPTS = 5


def store_session(
    repo: GitRepo, session_id: str, hail_jsonl: bytes, metadata: Mapping[str, Any]
) -> str:
    """Commit the session and its metadata onto the sessions branch and return the branch's
    new tip; when the branch already holds exactly these files, the tip is returned unchanged.

    Retries when another writer moves the branch meanwhile. Raises ValueError for a session id
    that cannot be a file name, TypeError for metadata that is not JSON, GitError when the branch
    is checked out in a worktree (moving it would leave that checkout out of date) or git fails.
    """
    hail_path = session_path(session_id)
    _refuse_checked_out(repo)
    meta_json = orjson.dumps(dict(metadata), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    blobs = {
        hail_path: repo.write_blob(hail_jsonl),
        f"{SESSIONS_DIR}/{session_id}{_META_SUFFIX}": repo.write_blob(meta_json + b"\n"),
    }
    message = f"opensession: store session {session_id}"
    for _ in range(_ATTEMPTS - 1):
        try:
            return _commit_onto_tip(repo, blobs, message)
        except RefConflictError:
            continue
    return _commit_onto_tip(repo, blobs, message)


def _commit_onto_tip(repo: GitRepo, blobs: Mapping[str, str], message: str) -> str:
    tip = repo.resolve(SESSIONS_REF)
    files: dict[str, str | TreeEntry] = dict(repo.list_tree(tip)) if tip else {}
    files.update(blobs)
    tree = repo.write_tree(files)
    if tip and tree == repo.tree_of(tip):
        return tip
    commit = repo.commit_tree(tree, message, [tip] if tip else [])
    repo.update_ref(SESSIONS_REF, commit, tip, message)
    return commit


def list_stored_sessions(repo: GitRepo) -> list[str]:
    """The ids of the sessions on the sessions branch, sorted; none when it does not exist."""
    tip = repo.resolve(SESSIONS_REF)
    if tip is None:
        return []
    prefix = f"{SESSIONS_DIR}/"
    return sorted(
        path.removeprefix(prefix).removesuffix(_HAIL_SUFFIX)
        for path in repo.list_files(tip)
        if path.startswith(prefix) and path.endswith(_HAIL_SUFFIX) and path.count("/") == 1
    )


def session_path(session_id: str) -> str:
    """Where the HAIL file of ``session_id`` sits on the sessions branch."""
    check_session_id(session_id)
    return f"{SESSIONS_DIR}/{session_id}{_HAIL_SUFFIX}"


def check_session_id(session_id: str) -> None:
    """ValueError unless ``session_id`` can be used as one file name on the branch."""
    if (
        session_id in {"", ".", ".."}
        or "/" in session_id
        or "\\" in session_id
        or not session_id.isprintable()
    ):
        raise ValueError(
            f"invalid session id {session_id!r}: it must be one path component "
            "(not empty, '.' or '..', no '/', '\\' or control characters)"
        )


def _refuse_checked_out(repo: GitRepo) -> None:
    output = repo.run("worktree", "list", "--porcelain").decode()
    for line in output.splitlines():
        if line == f"branch {SESSIONS_REF}":
            raise GitError(
                f"the branch {SESSIONS_BRANCH} is checked out in a worktree of {repo.root}; "
                "switch that worktree to another branch before storing sessions"
            )
