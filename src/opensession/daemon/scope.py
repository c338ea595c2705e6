"""Which sessions the daemon uploads: those of the selected repositories, or all of them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from opensession.config.settings import Settings


@dataclass(frozen=True)
class UploadScope:
    """The selection: ``all_repos``, or the sessions whose directory is inside one of ``repos``."""

    repos: tuple[Path, ...]
    all_repos: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadScope:
        repos = tuple(path.expanduser().resolve(strict=False) for path in settings.daemon_repos)
        return cls(repos, settings.daemon_all_repos)

    @property
    def empty(self) -> bool:
        return not self.all_repos and not self.repos

    def describe(self) -> str:
        if self.all_repos:
            return "every session"
        if not self.repos:
            return "no repositories selected"
        return ", ".join(str(repo) for repo in self.repos)

    def covers(self, cwd: str | None, repo_root: str | None) -> bool:
        """Whether a session with this working directory / repository is in the selection."""
        if self.all_repos:
            return True
        for place in (cwd, repo_root):
            if not place:
                continue
            path = Path(place)
            if any(path == repo or repo in path.parents for repo in self.repos):
                return True
        return False

    def sessions(self, db: sqlite3.Connection, source_paths: Iterable[str] | None) -> list[str]:
        """The ids of the indexed sessions in the selection, of ``source_paths`` only when
        given."""
        if self.empty:
            return []
        sql = "SELECT id, cwd, repo_root FROM sessions"
        if source_paths is None:
            rows = db.execute(sql).fetchall()
        else:
            paths = list(source_paths)
            rows = []
            for start in range(0, len(paths), 500):
                chunk = paths[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                rows.extend(db.execute(f"{sql} WHERE source_path IN ({marks})", chunk))
        return [session_id for session_id, cwd, root in rows if self.covers(cwd, root)]
