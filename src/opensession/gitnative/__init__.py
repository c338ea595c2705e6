"""Git plumbing through the real ``git`` binary: objects, refs under ``refs/opensession/`` and
the ``opensession/sessions`` branch, written without touching the working tree or the index."""

from __future__ import annotations

from opensession.gitnative.repo import (
    CommitInfo,
    GitError,
    GitRepo,
    HeadState,
    NotAGitRepoError,
    RefConflictError,
    RefInfo,
    TreeEntry,
)
from opensession.gitnative.session_branch import (
    SESSIONS_BRANCH,
    list_stored_sessions,
    store_session,
)

__all__ = [
    "SESSIONS_BRANCH",
    "CommitInfo",
    "GitError",
    "GitRepo",
    "HeadState",
    "NotAGitRepoError",
    "RefConflictError",
    "RefInfo",
    "TreeEntry",
    "list_stored_sessions",
    "store_session",
]
