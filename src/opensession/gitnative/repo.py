"""One git repository, driven through the real ``git`` binary with plumbing commands only.

Everything here writes objects and moves refs; nothing touches the working tree or the index,
so it is safe to call while the user is in the middle of their own work. Using the ``git``
binary (not a library) means the user's config, credentials and object format are respected.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeAlias

FALLBACK_NAME = "opensession"
"""Author and committer name used only when git has no identity configured."""

FALLBACK_EMAIL = "opensession@localhost"
"""Author and committer email used only when git has no identity configured."""

# Variables git exports to hooks and subprocesses that would point it at another repository
# than ``root`` (a caller running inside a git hook has them set).
_REPO_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
)

_BLOB_MODE = "100644"
_TREE_MODE = "040000"
_GITLINK_MODE = "160000"


class GitError(Exception):
    """A git command failed; the message names the command and git's reason in one line."""


class NotAGitRepoError(GitError):
    """The path is not inside a git repository."""


class RefConflictError(GitError):
    """A ref was not at the expected value when updating it: someone else moved it."""


@dataclass(frozen=True)
class RefInfo:
    """One ref as ``git for-each-ref`` lists it."""

    name: str
    """The full ref name, as in ``refs/opensession/handoff/artifacts/abc``."""
    target: str
    """The object the ref points at (a commit for every ref opensession writes)."""
    committed_at: datetime | None
    """The commit's committer date; None when the ref points at something else."""
    subject: str
    """The first line of the commit message."""


@dataclass(frozen=True)
class CommitInfo:
    """One commit of a history, newest first in ``GitRepo.log``."""

    id: str
    committed_at: datetime
    subject: str
    parents: tuple[str, ...]


@dataclass(frozen=True)
class TreeEntry:
    """A file of a commit's tree: its mode (``100644``, ``100755``, ``120000`` …) and object."""

    mode: str
    object: str


_Node: TypeAlias = "dict[str, _Node | TreeEntry]"
"""A folder being built by ``write_tree``: its files and sub-folders by name."""


@dataclass(frozen=True)
class HeadState:
    """Where HEAD is: a branch (None when detached) and its commit (None when unborn)."""

    branch: str | None
    commit: str | None


@dataclass(frozen=True)
class GitRepo:
    """A git repository, addressed by ``root``: the top of its working tree, or its git
    directory when it has none (a bare repository)."""

    root: Path

    @classmethod
    def discover(cls, path: Path) -> GitRepo:
        """The repository holding ``path`` (a folder or a file in one); NotAGitRepoError when
        there is none, GitError when git is missing."""
        if not path.exists():
            raise NotAGitRepoError(f"not a git repository: {path} (no such file or folder)")
        folder = path if path.is_dir() else path.parent
        probe = cls(folder.absolute())
        result = probe._exec("rev-parse", "--is-inside-work-tree", "--absolute-git-dir")
        if result.returncode != 0:
            if b"not a git repository" in result.stderr:
                raise NotAGitRepoError(
                    f"not a git repository: {path}; run opensession inside a git checkout "
                    "or create one with 'git init'"
                )
            raise _failure(("rev-parse",), result.stderr)
        inside_work_tree, git_dir = result.stdout.decode().splitlines()
        if inside_work_tree == "true":
            return cls(Path(probe.run("rev-parse", "--show-toplevel").decode().strip()))
        return cls(Path(git_dir))

    def run(self, *args: str, input: bytes | None = None) -> bytes:
        """The standard output of ``git args`` run in this repository; GitError when it fails."""
        result = self._exec(*args, input=input)
        if result.returncode != 0:
            raise _failure(args, result.stderr)
        return result.stdout

    def write_blob(self, data: bytes) -> str:
        """Store ``data`` as a blob (as is: no attribute filters or line-ending conversion)."""
        return self._line("hash-object", "-w", "--stdin", input=data)

    def write_tree(self, files: Mapping[str, str | TreeEntry]) -> str:
        """Store a tree holding ``files``: each path (``/`` separating folders) maps to a blob
        id (a regular file) or a TreeEntry (keeps an executable bit or symlink). ValueError when
        a path is malformed or is both a file and a folder."""
        root: _Node = {}
        for path, entry in files.items():
            *folders, name = _split_path(path)
            node = root
            for folder in folders:
                child = node.setdefault(folder, {})
                if not isinstance(child, dict):
                    raise ValueError(f"tree path {path!r} runs through the file {folder!r}")
                node = child
            if name in node:
                raise ValueError(f"tree path {path!r} is both a file and a folder")
            node[name] = entry if isinstance(entry, TreeEntry) else TreeEntry(_BLOB_MODE, entry)
        return self._make_tree(root)

    def _make_tree(self, node: _Node) -> str:
        lines = []
        for name, child in node.items():
            entry = (
                TreeEntry(_TREE_MODE, self._make_tree(child)) if isinstance(child, dict) else child
            )
            lines.append(f"{entry.mode} {_object_type(entry.mode)} {entry.object}\t{name}\0")
        # mktree sorts the entries the way git requires (folders compare as "name/").
        return self._line("mktree", "-z", input="".join(lines).encode(errors="surrogateescape"))

    def commit_tree(self, tree: str, message: str, parents: Sequence[str] = ()) -> str:
        """Store a commit of ``tree`` with ``parents``; no hooks run. The author and committer
        are the user's, or opensession's when git has no identity configured."""
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        if not message.endswith("\n"):
            message += "\n"
        return self._line(
            "commit-tree",
            tree,
            *parent_args,
            input=message.encode(),
            env=self._identity_fallback(),
        )

    def _identity_fallback(self) -> dict[str, str]:
        fallback: dict[str, str] = {}
        for role in ("AUTHOR", "COMMITTER"):
            if self._exec("var", f"GIT_{role}_IDENT").returncode == 0:
                continue
            for key, default in (("NAME", FALLBACK_NAME), ("EMAIL", FALLBACK_EMAIL)):
                variable = f"GIT_{role}_{key}"
                if not (os.environ.get(variable) or self._config(f"user.{key.lower()}")):
                    fallback[variable] = default
        return fallback

    def _config(self, key: str) -> str | None:
        result = self._exec("config", "--get", key)
        if result.returncode != 0:
            return None
        return result.stdout.decode().strip() or None

    def update_ref(self, ref: str, new: str, old: str | None, message: str) -> None:
        """Point ``ref`` (a full name under ``refs/``) at ``new`` if it is still at ``old``
        (``None``: if it does not exist yet); RefConflictError when it is not."""
        if not ref.startswith("refs/"):
            raise ValueError(f"ref {ref!r} must be a full name starting with 'refs/'")
        result = self._exec("update-ref", "-m", message, ref, new, old or "")
        if result.returncode == 0:
            return
        current = self.resolve(ref)
        if current != old:
            expected = old or "absent"
            raise RefConflictError(
                f"ref {ref} moved: expected {expected}, found {current or 'absent'}; "
                "someone else updated it, try again"
            )
        raise _failure(("update-ref",), result.stderr)

    def resolve(self, rev: str) -> str | None:
        """The commit ``rev`` names, or None when it names no commit (an unborn branch …)."""
        result = self._exec(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
        )
        return result.stdout.decode().strip() if result.returncode == 0 else None

    def tree_of(self, commit: str) -> str:
        """The id of ``commit``'s tree."""
        return self._line("rev-parse", "--verify", "--end-of-options", f"{commit}^{{tree}}")

    def list_refs(self, prefix: str) -> list[RefInfo]:
        """The refs under ``prefix`` (as in ``refs/opensession/``), sorted by name."""
        fields = ("%(refname)", "%(objectname)", "%(committerdate:iso-strict)", "%(subject)")
        output = self.run("for-each-ref", f"--format={'%00'.join(fields)}", prefix).decode()
        refs = []
        for line in output.splitlines():
            name, target, date, subject = line.split("\0")
            refs.append(
                RefInfo(name, target, datetime.fromisoformat(date) if date else None, subject)
            )
        return refs

    def read_file(self, commit: str, path: str) -> bytes:
        """The content of the file ``path`` in ``commit``; GitError when there is none."""
        result = self._exec("cat-file", "blob", "--end-of-options", f"{commit}:{path}")
        if result.returncode == 0:
            return result.stdout
        if self.resolve(commit) is None:
            raise GitError(f"no commit {commit} in {self.root}")
        raise GitError(f"no file {path} in commit {commit}")

    def list_tree(self, commit: str) -> dict[str, TreeEntry]:
        """Every file of ``commit`` (in all folders) by path, in git's order."""
        output = self.run("ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit)
        # Paths are bytes to git; surrogates carry names that are not UTF-8 back to write_tree.
        records = output.decode(errors="surrogateescape").split("\0")[:-1]
        files = {}
        for record in records:
            info, path = record.split("\t", 1)
            mode, _type, object_id = info.split()
            files[path] = TreeEntry(mode, object_id)
        return files

    def list_files(self, commit: str) -> list[str]:
        """The paths of every file of ``commit``, in git's order."""
        return list(self.list_tree(commit))

    def commit_parents(self, commit: str) -> list[str]:
        """The parents of ``commit``: none for a root commit, two or more for a merge."""
        line = self._line("rev-list", "--parents", "--max-count=1", "--end-of-options", commit)
        return line.split()[1:]

    def log(self, ref: str) -> list[CommitInfo]:
        """The history reachable from ``ref``, newest first."""
        output = self.run(
            "rev-list", "--format=%H%x00%cI%x00%P%x00%s", "--end-of-options", ref
        ).decode()
        # rev-list puts a "commit <id>" line before each formatted one.
        history = []
        for line in output.splitlines()[1::2]:
            commit, date, parents, subject = line.split("\0")
            history.append(
                CommitInfo(commit, datetime.fromisoformat(date), subject, tuple(parents.split()))
            )
        return history

    def head(self) -> HeadState:
        """The branch HEAD is on and its commit."""
        result = self._exec("symbolic-ref", "--quiet", "HEAD")
        ref = result.stdout.decode().strip() if result.returncode == 0 else None
        branch = ref.removeprefix("refs/heads/") if ref else None
        return HeadState(branch, self.resolve("HEAD"))

    def _line(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        result = self._exec(*args, input=input, env=env)
        if result.returncode != 0:
            raise _failure(args, result.stderr)
        return result.stdout.decode().strip()

    def _exec(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        environment = {
            key: value for key, value in os.environ.items() if key not in _REPO_LOCATION_VARS
        }
        environment.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", **(env or {}))
        try:
            return subprocess.run(
                ["git", "--no-pager", "-C", str(self.root), *args],
                input=input,
                capture_output=True,
                env=environment,
                check=False,
            )
        except FileNotFoundError:
            raise GitError(
                "git is not installed or not on PATH; install git to use git-native features"
            ) from None


def _failure(args: Sequence[str], stderr: bytes) -> GitError:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    reasons = [line.split(": ", 1)[1] for line in lines if line.startswith(("fatal: ", "error: "))]
    reason = (reasons or [line for line in lines if line] or ["no message"])[0]
    return GitError(f"git {args[0]} failed: {reason}")


def _split_path(path: str) -> list[str]:
    parts = path.split("/")
    if any(part in {"", ".", ".."} or "\0" in part for part in parts):
        raise ValueError(f"tree path {path!r} must be relative, without empty, '.' or '..' parts")
    return parts


def _object_type(mode: str) -> str:
    if mode == _TREE_MODE:
        return "tree"
    return "commit" if mode == _GITLINK_MODE else "blob"
