from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from opensession.gitnative import GitRepo

USER_IDENT = ("Ada Lovelace", "ada@example.com")


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A global git config of the test's own (with an identity), no system config, and none of
    the variables that would name another repository or identity."""
    config = tmp_path / "gitconfig"
    config.write_text(
        f"[user]\n\tname = {USER_IDENT[0]}\n\temail = {USER_IDENT[1]}\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for variable in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(variable, raising=False)
    return config


@pytest.fixture
def no_identity(isolated_git: Path) -> None:
    """A git that knows no user name or email, and must not guess one from the host."""
    isolated_git.write_text("[user]\n\tuseConfigOnly = true\n[init]\n\tdefaultBranch = main\n")


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    """Run git as a user would in ``cwd``; its output without the trailing newline."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        check=True,
        # A user's read-only command must not refresh the index we compare before and after.
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
    return result.stdout.decode().rstrip("\n")


@dataclass(frozen=True)
class Checkout:
    """What the user sees of their checkout: status, staged and unstaged changes, files, index."""

    head: str
    """HEAD's ref (``HEAD`` when detached) and commit, space-separated."""
    status: str
    staged: str
    unstaged: str
    files: dict[str, bytes]
    index: bytes


def checkout_state(root: Path) -> Checkout:
    """The user-visible state of the checkout at ``root``."""
    files = {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }
    head_ref = git(root, "rev-parse", "--symbolic-full-name", "HEAD")
    return Checkout(
        head=f"{head_ref} {git(root, 'rev-parse', 'HEAD')}",
        status=git(root, "status", "--porcelain"),
        staged=git(root, "diff", "--cached"),
        unstaged=git(root, "diff"),
        files=files,
        index=(root / ".git" / "index").read_bytes(),
    )


@pytest.fixture
def work_repo(tmp_path: Path) -> Path:
    """A repository with one commit on ``main`` and work in progress: a staged change, an
    unstaged change and an untracked file."""
    root = tmp_path / "work"
    root.mkdir()
    git(root, "init", "-q")
    (root / "README.md").write_text("hello\n")
    (root / "app.py").write_text("print('v1')\n")
    git(root, "add", ".")
    git(root, "-c", "user.name=Setup", "-c", "user.email=setup@example.com", "commit", "-qm", "1")
    (root / "README.md").write_text("hello, staged\n")
    git(root, "add", "README.md")
    (root / "app.py").write_text("print('v2, not staged')\n")
    (root / "notes.txt").write_text("untracked\n")
    return root


@pytest.fixture
def repo(work_repo: Path) -> GitRepo:
    return GitRepo.discover(work_repo)
