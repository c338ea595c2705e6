from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opensession.gitnative import (
    SESSIONS_BRANCH,
    GitError,
    GitRepo,
    HeadState,
    RefConflictError,
    list_stored_sessions,
    store_session,
)
from opensession.gitnative.session_branch import SESSIONS_REF
from opensession.hail import dumps_session
from tests.gitnative.conftest import checkout_state, git
from tests.hail.factories import event, session

FIRST = "11111111-2222-3333-4444-555555555555"
SECOND = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def hail_bytes(session_id: str, text: str = "fix the tests") -> bytes:
    built = session([event(0, text=text)]).model_copy(update={"session_id": session_id})
    return dumps_session(built)


def metadata(session_id: str) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "title": "fix the tests",
        "tool": "claude-code",
        "model": "claude-opus-4",
        "session_role": "primary",
        "stats": {"event_count": 1, "message_count": 1},
    }


def branch_commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", SESSIONS_BRANCH))


@pytest.mark.parametrize("identity", ["configured", "none"])
def test_two_sessions_are_stored_side_by_side(
    repo: GitRepo, identity: str, request: pytest.FixtureRequest
) -> None:
    if identity == "none":
        request.getfixturevalue("no_identity")
    before = checkout_state(repo.root)
    first = store_session(repo, FIRST, hail_bytes(FIRST), metadata(FIRST))
    second = store_session(repo, SECOND, hail_bytes(SECOND), metadata(SECOND))

    assert list_stored_sessions(repo) == [FIRST, SECOND]
    assert git(repo.root, "ls-tree", "-r", "--name-only", SESSIONS_BRANCH).splitlines() == [
        f"sessions/{FIRST}.hail.jsonl",
        f"sessions/{FIRST}.meta.json",
        f"sessions/{SECOND}.hail.jsonl",
        f"sessions/{SECOND}.meta.json",
    ]
    shown_hail = git(repo.root, "cat-file", "-p", f"{SESSIONS_BRANCH}:sessions/{SECOND}.hail.jsonl")
    assert shown_hail + "\n" == hail_bytes(SECOND).decode()
    meta = git(repo.root, "show", f"{SESSIONS_BRANCH}:sessions/{FIRST}.meta.json")
    assert json.loads(meta) == metadata(FIRST)
    assert meta.startswith('{\n  "model": "claude-opus-4",\n  "session_id"')
    assert repo.read_file(second, f"sessions/{FIRST}.meta.json").endswith(b"}\n")

    assert git(repo.root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads") == (
        f"refs/heads/main {before.head.split()[1]}\n{SESSIONS_REF} {second}"
    )
    assert repo.commit_parents(second) == [first]
    assert repo.commit_parents(first) == []
    assert [c.subject for c in repo.log(SESSIONS_REF)] == [
        f"opensession: store session {SECOND}",
        f"opensession: store session {FIRST}",
    ]
    author = "opensession <opensession@localhost>" if identity == "none" else "Ada Lovelace"
    assert author in git(repo.root, "log", "-1", "--format=%an <%ae>", SESSIONS_BRANCH)
    assert checkout_state(repo.root) == before
    assert repo.head().branch == "main"


def test_storing_the_same_session_again_makes_no_commit(repo: GitRepo) -> None:
    first = store_session(repo, FIRST, hail_bytes(FIRST), metadata(FIRST))
    again = store_session(repo, FIRST, hail_bytes(FIRST), dict(reversed(metadata(FIRST).items())))
    assert again == first
    assert branch_commits(repo.root) == 1


def test_a_changed_session_replaces_its_files(repo: GitRepo) -> None:
    first = store_session(repo, FIRST, hail_bytes(FIRST), metadata(FIRST))
    changed = store_session(repo, FIRST, hail_bytes(FIRST, "and more"), metadata(FIRST))
    assert changed != first
    assert repo.commit_parents(changed) == [first]
    assert repo.read_file(changed, f"sessions/{FIRST}.hail.jsonl") == hail_bytes(FIRST, "and more")
    assert list_stored_sessions(repo) == [FIRST]


def make_branch_in_worktree(repo: GitRepo, tmp_path: Path) -> Path:
    """Create the sessions branch by hand in a second worktree, with files of the user's own."""
    side = tmp_path / "side"
    git(repo.root, "worktree", "add", "-q", "--detach", str(side))
    git(side, "checkout", "-q", "--orphan", SESSIONS_BRANCH)
    git(side, "rm", "-rq", "--cached", ".")
    for path in side.iterdir():
        if path.name != ".git":
            path.unlink()
    (side / "README.md").write_text("Sessions of this project.\n")
    (side / "tools").mkdir()
    (side / "tools" / "show.sh").write_text("#!/bin/sh\n")
    (side / "tools" / "show.sh").chmod(0o755)
    git(side, "add", ".")
    git(side, "commit", "-qm", "start the sessions branch")
    return side


def test_other_files_on_the_branch_are_kept(repo: GitRepo, tmp_path: Path) -> None:
    side = make_branch_in_worktree(repo, tmp_path)
    with pytest.raises(GitError, match=r"is checked out in a worktree .*switch that worktree"):
        store_session(repo, FIRST, hail_bytes(FIRST), metadata(FIRST))
    git(side, "checkout", "-q", "--detach")

    tip = store_session(repo, FIRST, hail_bytes(FIRST), metadata(FIRST))
    listing = git(repo.root, "ls-tree", "-r", tip)
    assert "\tREADME.md" in listing
    assert "100755 blob" in listing.split("\ttools/show.sh")[0].splitlines()[-1]
    assert list_stored_sessions(repo) == [FIRST]
    assert branch_commits(repo.root) == 2


def test_a_concurrent_writer_is_retried(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    real_update_ref = GitRepo.update_ref
    raced: list[str] = []

    def racing_update_ref(self: GitRepo, ref: str, new: str, old: str | None, message: str) -> None:
        if not raced:
            raced.append(ref)
            store_session(self, SECOND, hail_bytes(SECOND), metadata(SECOND))
        real_update_ref(self, ref, new, old, message)

    monkeypatch.setattr(GitRepo, "update_ref", racing_update_ref)
    tip = store_session(repo, FIRST, hail_bytes(FIRST), metadata(FIRST))
    assert list_stored_sessions(repo) == [FIRST, SECOND]
    assert [c.subject for c in repo.log(SESSIONS_REF)] == [
        f"opensession: store session {FIRST}",
        f"opensession: store session {SECOND}",
    ]
    assert repo.resolve(SESSIONS_REF) == tip


def test_a_branch_that_keeps_moving_gives_up(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    def always_moved(self: GitRepo, ref: str, new: str, old: str | None, message: str) -> None:
        attempts.append(new)
        raise RefConflictError(f"ref {ref} moved")

    monkeypatch.setattr(GitRepo, "update_ref", always_moved)
    with pytest.raises(RefConflictError):
        store_session(repo, FIRST, hail_bytes(FIRST), metadata(FIRST))
    assert len(attempts) == 5


@pytest.mark.parametrize("session_id", ["", ".", "..", "a/b", "../escape", "a\\b", "a\nb", "a\0b"])
def test_invalid_session_ids_are_rejected(repo: GitRepo, session_id: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid session id .*: it must be one path component"):
        store_session(repo, session_id, b"{}\n", {})
    assert repo.resolve(SESSIONS_REF) is None


def test_nothing_stored_yet(repo: GitRepo) -> None:
    assert list_stored_sessions(repo) == []


def test_storing_in_a_repository_without_commits(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    git(tmp_path, "init", "-q", str(root))
    (root / "draft.txt").write_text("not committed\n")
    repo = GitRepo.discover(root)
    store_session(repo, FIRST, hail_bytes(FIRST), metadata(FIRST))
    assert list_stored_sessions(repo) == [FIRST]
    assert repo.head() == HeadState("main", None)
    assert git(root, "status", "--porcelain") == "?? draft.txt"
