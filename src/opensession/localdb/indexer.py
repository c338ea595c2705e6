"""Bringing the local index up to date with the session sources found on disk.

Only sources that are new or whose size, mtime or inode changed are parsed; a second run over
unchanged sources only stats them. Each source's sessions are replaced in one transaction, so
two processes indexing at once (the daemon and the TUI) each see a consistent index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from opensession.localdb.store import LocalIndex, SourceState, stat_source
from opensession.parsers.discovery import SessionSource

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each source is looked at."""


@dataclass(frozen=True)
class SourceFailure:
    """A source that could not be read, and why (one line)."""

    path: str
    error: str


@dataclass
class IndexReport:
    """What one indexing run did, counted in sources."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    sessions: int = 0
    """Sessions written by this run (sub-agents included)."""
    errors: list[SourceFailure] = field(default_factory=list)
    """Every failed source, with its error: new failures and earlier ones not retried."""

    @property
    def total(self) -> int:
        """Sources looked at (removed ones are no longer there)."""
        return self.added + self.updated + self.unchanged + self.failed

    def summary(self) -> str:
        """``indexed N sources: A added, U updated, C unchanged, R removed, F failed``."""
        return (
            f"indexed {self.total} sources: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {self.failed} failed"
        )

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict of the counts and errors."""
        return {
            "sources": self.total,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": self.failed,
            "sessions": self.sessions,
            "errors": [{"path": e.path, "error": e.error} for e in self.errors],
        }


def index_sources(
    index: LocalIndex,
    sources: Sequence[SessionSource],
    *,
    full: bool = False,
    prune: bool = True,
    progress: Progress | None = None,
) -> IndexReport:
    """Index ``sources``: parse the new and changed ones (every one when ``full``), record
    failures, and, when ``prune``, forget indexed sources that are not among ``sources``.

    A source whose parse failed is retried only once it changes (or when ``full``).
    """
    from opensession.parsers.base import SessionParseError
    from opensession.parsers.registry import parse_path

    report = IndexReport()
    known = index.source_states()
    seen: set[str] = set()
    for done, source in enumerate(sources, start=1):
        path = str(source.path)
        seen.add(path)
        try:
            size, mtime_ns, inode = stat_source(source.path)
        except OSError:
            # Gone between discovery and now: pruning below forgets it.
            seen.discard(path)
            continue
        state = SourceState(path, source.tool, size, mtime_ns, inode, parse_offset=size)
        before = known.get(path)
        if before is not None and not full and before.same_file(state):
            if before.parse_error:
                report.failed += 1
                report.errors.append(SourceFailure(path, before.parse_error))
            else:
                report.unchanged += 1
        else:
            try:
                result = parse_path(source.path, source.tool)
            except SessionParseError as exc:
                index.record_failure(state, exc.reason)
                report.failed += 1
                report.errors.append(SourceFailure(path, exc.reason))
            except Exception as exc:  # a parser bug must not stop the index; it is recorded
                reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
                index.record_failure(state, reason)
                report.failed += 1
                report.errors.append(SourceFailure(path, reason))
            else:
                index.store_source(state, result.sessions)
                report.sessions += len(result.sessions)
                if before is None:
                    report.added += 1
                else:
                    report.updated += 1
        if progress is not None:
            progress(done, len(sources))
    if prune:
        report.removed = index.remove_sources(path for path in known if path not in seen)
    return report
