from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from opensession.gitnative import (
    GitError,
    GitRepo,
    HeadState,
    NotAGitRepoError,
    RefConflictError,
    TreeEntry,
)
from tests.gitnative.conftest import USER_IDENT, checkout_state, git

REF = "refs/opensession/test/one"


def commit_files(repo: GitRepo, files: dict[str, bytes], message: str = "store") -> str:
    tree = repo.write_tree({path: repo.write_blob(data) for path, data in files.items()})
    return repo.commit_tree(tree, message)


def test_discover_finds_the_top_of_the_checkout(work_repo: Path) -> None:
    (work_repo / "src" / "pkg").mkdir(parents=True)
    top = work_repo.resolve()
    assert GitRepo.discover(work_repo / "src" / "pkg").root == top
    assert GitRepo.discover(work_repo / "app.py").root == top
    assert GitRepo.discover(work_repo / ".git").root == top / ".git"


def test_discover_outside_a_repository_says_so(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotAGitRepoError) as raised:
        GitRepo.discover(plain)
    assert str(raised.value) == (
        f"not a git repository: {plain}; run opensession inside a git checkout "
        "or create one with 'git init'"
    )
    with pytest.raises(NotAGitRepoError, match=r"^not a git repository: .*missing \(no such"):
        GitRepo.discover(tmp_path / "missing")


def test_missing_git_binary_is_reported(
    work_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries"))
    with pytest.raises(GitError, match=r"^git is not installed or not on PATH; install git"):
        GitRepo.discover(work_repo)


def test_failed_command_names_git_command_and_reason(repo: GitRepo) -> None:
    with pytest.raises(GitError, match=r"^git cat-file failed: Not a valid object name deadbeef$"):
        repo.run("cat-file", "-t", "deadbeef")


def test_bare_repository(tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    repo = GitRepo.discover(bare)
    assert repo.root == bare.resolve()
    assert repo.head() == HeadState("main", None)
    commit = commit_files(repo, {"a.txt": b"a\n"})
    repo.update_ref(REF, commit, None, "test")
    assert repo.read_file(REF, "a.txt") == b"a\n"


def test_tree_is_the_one_git_itself_writes(repo: GitRepo, tmp_path: Path) -> None:
    contents = {
        "a": b"file a\n",
        "a.b": b"dot\n",
        "a-b": b"dash\n",
        "b/c/d.txt": b"deep\n",
        "b/c.txt": b"beside c\n",
        "ü.md": b"unicode\n",
        "with space": b"space\n",
        "z/a": b"last\n",
    }
    files: dict[str, str | TreeEntry] = {p: repo.write_blob(d) for p, d in contents.items()}
    files["run.sh"] = TreeEntry("100755", repo.write_blob(b"#!/bin/sh\n"))
    tree = repo.write_tree(files)

    scratch = tmp_path / "scratch"
    git(tmp_path, "init", "-q", str(scratch))
    for path, data in {**contents, "run.sh": b"#!/bin/sh\n"}.items():
        (scratch / path).parent.mkdir(parents=True, exist_ok=True)
        (scratch / path).write_bytes(data)
    (scratch / "run.sh").chmod(0o755)
    git(scratch, "add", "-A")
    assert tree == git(scratch, "write-tree")
    listing = git(repo.root, "cat-file", "-p", tree)
    assert "100755 blob" in listing
    assert re.search(r"040000 tree [0-9a-f]{40}\tb$", listing, re.MULTILINE)


def test_listed_tree_is_rewritten_identically(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    git(tmp_path, "init", "-q", str(root))
    (root / "tools").mkdir()
    (root / "tools" / "run.sh").write_text("#!/bin/sh\n")
    (root / "tools" / "run.sh").chmod(0o755)
    (root / "link").symlink_to("tools/run.sh")
    (root / os.fsdecode(b"caf\xe9.txt")).write_text("latin-1 name\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "odd files")
    repo = GitRepo.discover(root)

    files = repo.list_tree("HEAD")
    assert {path: entry.mode for path, entry in files.items()} == {
        os.fsdecode(b"caf\xe9.txt"): "100644",
        "link": "120000",
        "tools/run.sh": "100755",
    }
    assert repo.write_tree(files) == repo.tree_of("HEAD")


def test_empty_tree(repo: GitRepo) -> None:
    assert repo.write_tree({}) == git(repo.root, "hash-object", "-t", "tree", "/dev/null")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"/abs": "x"}, "must be relative"),
        ({"a//b": "x"}, "must be relative"),
        ({"a/../b": "x"}, "'..' parts"),
        ({"./a": "x"}, "'.'"),
        ({"a": "x", "a/b": "x"}, "runs through the file 'a'"),
        ({"a/b": "x", "a": "x"}, "is both a file and a folder"),
    ],
)
def test_malformed_tree_paths_are_rejected(
    repo: GitRepo, files: dict[str, str], message: str
) -> None:
    blob = repo.write_blob(b"x")
    with pytest.raises(ValueError, match=re.escape(message)):
        repo.write_tree(dict.fromkeys(files, blob))


def test_blobs_are_stored_byte_for_byte(repo: GitRepo) -> None:
    (repo.root / ".gitattributes").write_text("* text eol=crlf\n")
    data = b"line one\nline two\r\n\x00binary"
    blob = repo.write_blob(data)
    assert git(repo.root, "cat-file", "-t", blob) == "blob"
    assert repo.read_file(commit_files(repo, {"f": data}), "f") == data


def test_commit_uses_the_configured_identity(repo: GitRepo) -> None:
    commit = commit_files(repo, {"a": b"a"}, message="subject line\n\nbody")
    shown = git(repo.root, "cat-file", "-p", commit)
    name, email = USER_IDENT
    assert f"\nauthor {name} <{email}> " in shown
    assert f"\ncommitter {name} <{email}> " in shown
    assert shown.endswith("\n\nsubject line\n\nbody")


@pytest.mark.usefixtures("no_identity")
def test_commit_without_identity_falls_back_to_opensession(repo: GitRepo) -> None:
    shown = git(repo.root, "cat-file", "-p", commit_files(repo, {"a": b"a"}))
    assert "\nauthor opensession <opensession@localhost> " in shown
    assert "\ncommitter opensession <opensession@localhost> " in shown


def test_commit_keeps_the_half_of_the_identity_that_is_configured(
    repo: GitRepo, isolated_git: Path
) -> None:
    isolated_git.write_text("[user]\n\tuseConfigOnly = true\n\tname = Grace Hopper\n")
    shown = git(repo.root, "cat-file", "-p", commit_files(repo, {"a": b"a"}))
    assert "\nauthor Grace Hopper <opensession@localhost> " in shown


def test_parents_and_log(repo: GitRepo) -> None:
    first = commit_files(repo, {"a": b"1"}, message="first")
    tree = repo.write_tree({"a": repo.write_blob(b"2")})
    second = repo.commit_tree(tree, "second", [first])
    merge = repo.commit_tree(tree, "merge", [second, first])
    repo.update_ref(REF, merge, None, "test")

    assert repo.commit_parents(first) == []
    assert repo.commit_parents(second) == [first]
    assert repo.commit_parents(merge) == [second, first]
    history = repo.log(REF)
    assert [(c.id, c.subject, c.parents) for c in history] == [
        (merge, "merge", (second, first)),
        (second, "second", (first,)),
        (first, "first", ()),
    ]
    assert all(isinstance(c.committed_at, datetime) for c in history)
    with pytest.raises(GitError, match=r"^git rev-list failed: "):
        repo.log("refs/opensession/none")


def test_update_ref_is_compare_and_swap(repo: GitRepo) -> None:
    first = commit_files(repo, {"a": b"1"})
    second = repo.commit_tree(repo.tree_of(first), "again", [first])
    repo.update_ref(REF, first, None, "create")

    with pytest.raises(
        RefConflictError, match=rf"^ref {REF} moved: expected absent, found {first}"
    ):
        repo.update_ref(REF, second, None, "create again")
    with pytest.raises(RefConflictError, match=rf"expected {second}, found {first};"):
        repo.update_ref(REF, first, second, "wrong old value")
    with pytest.raises(RefConflictError, match=r"expected [0-9a-f]{40}, found absent;"):
        repo.update_ref("refs/opensession/test/two", first, first, "never created")
    assert repo.resolve(REF) == first

    repo.update_ref(REF, second, first, "advance")
    assert git(
        repo.root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/opensession"
    ) == (f"{REF} {second}")
    with pytest.raises(ValueError, match="must be a full name starting with 'refs/'"):
        repo.update_ref("opensession/x", first, None, "short name")


def test_resolve(repo: GitRepo) -> None:
    head = git(repo.root, "rev-parse", "HEAD")
    assert repo.resolve("HEAD") == head
    assert repo.resolve("main") == head
    assert repo.resolve(head[:10]) == head
    assert repo.resolve("refs/opensession/none") is None
    assert repo.resolve("HEAD:README.md") is None
    assert repo.resolve("--all") is None


def test_list_refs(repo: GitRepo) -> None:
    one = commit_files(repo, {"a": b"1"}, message="one\n\nbody")
    two = commit_files(repo, {"a": b"2"}, message="two")
    repo.update_ref("refs/opensession/test/two", two, None, "test")
    repo.update_ref(REF, one, None, "test")
    repo.update_ref("refs/other/three", one, None, "test")

    refs = repo.list_refs("refs/opensession/")
    assert [(r.name, r.target, r.subject) for r in refs] == [
        (REF, one, "one"),
        ("refs/opensession/test/two", two, "two"),
    ]
    assert all(r.committed_at is not None and r.committed_at.tzinfo for r in refs)
    assert repo.list_refs("refs/nothing") == []


def test_list_refs_of_a_ref_to_a_blob(repo: GitRepo) -> None:
    blob = repo.write_blob(b"not a commit")
    repo.update_ref("refs/opensession/blob", blob, None, "test")
    [ref] = repo.list_refs("refs/opensession")
    assert (ref.target, ref.committed_at, ref.subject) == (blob, None, "")


def test_read_and_list_files(repo: GitRepo) -> None:
    commit = commit_files(repo, {"sessions/a.json": b"{}", "README.md": b"hi"})
    assert repo.list_files(commit) == ["README.md", "sessions/a.json"]
    assert repo.read_file(commit, "sessions/a.json") == b"{}"
    with pytest.raises(GitError, match=rf"^no file sessions/b.json in commit {commit}$"):
        repo.read_file(commit, "sessions/b.json")
    with pytest.raises(GitError, match=r"^no file sessions in commit"):
        repo.read_file(commit, "sessions")
    with pytest.raises(GitError, match=r"^no commit refs/opensession/none in "):
        repo.read_file("refs/opensession/none", "README.md")


def test_head_on_a_branch_and_detached(repo: GitRepo) -> None:
    head = git(repo.root, "rev-parse", "HEAD")
    assert repo.head() == HeadState("main", head)
    git(repo.root, "checkout", "-q", "--detach")
    assert repo.head() == HeadState(None, head)


def test_unborn_repository(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    git(tmp_path, "init", "-q", str(root))
    (root / "draft.txt").write_text("not committed\n")
    repo = GitRepo.discover(root)
    assert repo.head() == HeadState("main", None)
    assert repo.resolve("HEAD") is None

    commit = commit_files(repo, {"a": b"a"})
    repo.update_ref(REF, commit, None, "test")
    assert repo.read_file(REF, "a") == b"a"
    assert repo.head() == HeadState("main", None)
    assert git(root, "status", "--porcelain") == "?? draft.txt"


def test_writes_leave_the_checkout_untouched(repo: GitRepo) -> None:
    before = checkout_state(repo.root)
    commit = commit_files(repo, {"README.md": b"other\n", "app.py": b"other\n"})
    repo.update_ref(REF, commit, None, "test")
    repo.update_ref("refs/heads/side", commit, None, "test")
    repo.list_refs("refs/")
    repo.read_file(commit, "app.py")
    repo.log(REF)
    assert checkout_state(repo.root) == before
    assert before.status == "M  README.md\n M app.py\n?? notes.txt"


def test_refs_survive_gc_and_fsck_is_clean(repo: GitRepo) -> None:
    commit = commit_files(repo, {"sessions/x.hail.jsonl": b'{"type":"header"}\n'})
    repo.update_ref(REF, commit, None, "test")
    git(repo.root, "gc", "-q", "--prune=now")
    git(repo.root, "fsck", "--strict", "--no-dangling")
    assert git(repo.root, "cat-file", "-p", f"{REF}:sessions/x.hail.jsonl") == '{"type":"header"}'
    assert repo.list_files(REF) == ["sessions/x.hail.jsonl"]


def test_refs_travel_through_a_remote_with_an_explicit_refspec(
    repo: GitRepo, tmp_path: Path
) -> None:
    commit = commit_files(repo, {"a.txt": b"shared\n"})
    repo.update_ref(REF, commit, None, "test")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    refspec = "refs/opensession/*:refs/opensession/*"
    git(repo.root, "push", "-q", str(remote), "main", refspec)

    clone_path = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone_path))
    clone = GitRepo.discover(clone_path)
    assert clone.resolve(REF) is None
    git(clone_path, "fetch", "-q", "origin", refspec)
    assert clone.resolve(REF) == commit
    assert clone.read_file(REF, "a.txt") == b"shared\n"
    assert [r.name for r in clone.list_refs("refs/opensession")] == [REF]


def test_git_variables_of_a_hook_do_not_redirect_it(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    repo.update_ref(REF, commit_files(repo, {"a": b"a"}), None, "test")
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert git(repo.root, "for-each-ref", "--format=%(refname)", "refs/opensession") == REF
    assert git(other, "for-each-ref", "refs/opensession") == ""
