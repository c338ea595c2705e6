"""Bringing the local index up to date with the session sources found on disk.

Only sources that are new or whose size, mtime or inode changed are parsed; a second run over
unchanged sources only stats them. Each source's sessions are replaced in one transaction, so
two processes indexing at once (the daemon and the TUI) each see a consistent index.

A large append-only log (Claude Code, Codex) that grows between runs keeps its parse in the
index's ``parse-state/`` folder: when it has grown again, the next run, in any process, reads on
from there (``resumed``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from opensession.localdb.store import LocalIndex, SourceState, stat_source
from opensession.parsers.discovery import SessionSource

if TYPE_CHECKING:
    from opensession.parsers.append_only import IncrementalParse
    from opensession.parsers.base import ParseResult

log = logging.getLogger(__name__)

RESUME_MIN_BYTES = 8 * 1024 * 1024
"""Append-only logs this large or larger keep their parse for the next run. Saving one costs
from half a full parse (10 MB) to more than one (100 MB), and resuming saves about half of one
(``benchmarks/index.py --resume``); below this a full parse takes well under 100 ms, and the
first index of many logs is not slowed down by saving their parses."""
RESAVE_GROWTH = 0.25
"""A resumed parse is saved again once it has read on by this fraction of what the saved one
had read: a saved parse stays good as long as the log is only appended to, and saving it after
every append would cost more than resuming saves."""

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
    resumed: int = 0
    """Of the sources parsed, those read on from their saved parse rather than from the start."""
    sessions: int = 0
    """Sessions written by this run (sub-agents included)."""
    errors: list[SourceFailure] = field(default_factory=list)
    """Every failed source, with its error: new failures and earlier ones not retried."""
    changed: list[str] = field(default_factory=list)
    """The sources added or updated by this run, whose sessions were written anew."""

    @property
    def total(self) -> int:
        """Sources looked at (removed ones are no longer there)."""
        return self.added + self.updated + self.unchanged + self.failed

    def summary(self) -> str:
        """``indexed N sources: A added, U updated, C unchanged, R removed, F failed``, then
        ``; S resumed`` when some were read on from their saved parse."""
        counts = (
            f"indexed {self.total} sources: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {self.failed} failed"
        )
        return f"{counts}; {self.resumed} resumed" if self.resumed else counts

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict of the counts and errors."""
        return {
            "sources": self.total,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": self.failed,
            "resumed": self.resumed,
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

    A source whose parse failed is retried only once it changes (or when ``full``). A large
    append-only log is read on from its saved parse when that is still good (not when ``full``).
    """
    from opensession.parsers.base import SessionParseError

    report = IndexReport()
    # Without pruning only the sources given matter (the daemon indexes a few at a time).
    known = index.source_states(None if prune else (str(source.path) for source in sources))
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
                result, offset, resumed = _parse(index, source, full=full, seen=before is not None)
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
                if offset is not None:
                    state = replace(state, parse_offset=offset)
                index.store_source(state, result.sessions)
                report.changed.append(path)
                report.resumed += resumed
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


def _parse(
    index: LocalIndex, source: SessionSource, *, full: bool, seen: bool
) -> tuple[ParseResult, int | None, bool]:
    """Parse ``source``. An append-only log of ``RESUME_MIN_BYTES`` or more that was ``seen``
    (indexed) before and has changed since, so is likely still being written, is read on from
    its saved parse when that is still good (from the start when ``full``), and its parse saved
    for the next run. A log seen for the first time saves nothing: most never change again, and
    saving costs about one more parse.

    Returns the sessions (as a full parse gives them), the offset a resumed parse would go on
    from (None for a source parsed whole), and whether the parse was resumed.
    """
    from opensession.parsers.append_only import IncrementalParse, resumable
    from opensession.parsers.base import SessionParseError
    from opensession.parsers.registry import get_parser, parse_path

    parser = get_parser(source.tool)
    if not seen or not resumable(parser) or _file_size(source.path) < RESUME_MIN_BYTES:
        return parse_path(source.path, source.tool), None, False
    state = index.parse_state_file(str(source.path))
    saved = None if full else IncrementalParse.resume(parser, source.path, state)
    read_before = saved.cursor.offset if saved is not None else 0
    live = saved or IncrementalParse(parser, source.path)
    try:
        result = live.update()
    except OSError as exc:
        state.unlink(missing_ok=True)
        raise SessionParseError(source.path, exc.strerror or str(exc)) from None
    except BaseException:  # a parse that failed is not resumed
        state.unlink(missing_ok=True)
        raise
    if live.cursor.offset - read_before >= read_before * RESAVE_GROWTH:
        _save(live, state)
    if live.cursor.offset < _file_size(source.path):
        # The tool is writing its last line: a full parse reads it as well (or warns).
        result = parse_path(source.path, source.tool)
    return result, live.cursor.offset, saved is not None


def _save(live: IncrementalParse, file: Path) -> None:
    """Save ``live`` to ``file``, if it can be: a parse that cannot be saved (a full disk, a
    builder that cannot be pickled) is only parsed whole the next time."""
    try:
        live.save(file)
    except Exception:
        log.debug("the parse of %s could not be saved to %s", live.path, file, exc_info=True)


def _file_size(path: Path) -> int:
    """The size of the file itself (0 when it cannot be read: the parse then says why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
