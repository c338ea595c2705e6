"""Parsers of append-only JSONL logs (Claude Code, Codex), and their incremental re-parse.

Such a parser turns records into a session through a builder fed one record at a time; a full
parse feeds every line, an incremental parse keeps the builder and feeds only the lines
appended since the last byte offset it read. Both give the same session. An incremental parse
can be saved to a file and resumed from it by another process.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from abc import abstractmethod
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from opensession.parsers.base import ParseResult, ParseWarning, SessionParseError, SessionParser
from opensession.parsers.common import LineCursor, collector_paused, read_json_lines

STATE_FORMAT = 1
"""The layout of what ``IncrementalParse.save`` writes; bump it when that changes."""
_FINGERPRINT_SPAN = 4096


class SessionBuilder(Protocol):
    """Builds sessions from one log's records, fed in file order."""

    warnings: list[ParseWarning]

    def add(self, record: dict[str, Any], line: int) -> None:
        """Take the next record (line number ``line``)."""

    def build(self, *, final: bool = False) -> ParseResult:
        """The sessions from the records so far; may be called again after more are added,
        unless ``final``: the sessions may then hold the builder's own data, not copies."""

    def quick_reader(self) -> Callable[[bytes, int], bool] | None:
        """``read_json_lines``'s ``quick``: takes the records it can read from a line's bytes
        without decoding it (True when it took one); None when the builder has none."""


class AppendOnlyParser(SessionParser):
    @abstractmethod
    def new_builder(self, path: Path) -> SessionBuilder:
        """An empty builder for the log at ``path``."""

    def parse(self, path: Path) -> ParseResult:
        builder = self.new_builder(path)
        try:
            with collector_paused():
                read_json_lines(path, builder.warnings, builder.add, quick=builder.quick_reader())
                return builder.build(final=True)
        except OSError as exc:
            raise SessionParseError(path, exc.strerror or str(exc)) from None


def resumable(parser: SessionParser) -> bool:
    """Whether an ``IncrementalParse`` with ``parser`` gives what its full parse gives: its full
    parse is the line-by-line one (Gemini's, which also reads JSON documents, is not)."""
    return isinstance(parser, AppendOnlyParser) and type(parser).parse is AppendOnlyParser.parse


class IncrementalParse:
    """A log parsed once, then re-parsed from where it was left as the tool appends to it.

    ``update`` reads only the complete lines written since the last call; a file that was
    replaced or truncated (another inode, or shorter than what was read) is read from the start.
    ``save`` and ``resume`` carry the parse over to another process.
    """

    def __init__(self, parser: AppendOnlyParser, path: Path) -> None:
        self.parser = parser
        self.path = path
        self.cursor = LineCursor()
        self._inode: int | None = None
        self._fingerprint = b""
        """``_fingerprint`` of the bytes read, taken as they were read."""
        self._builder = parser.new_builder(path)

    @classmethod
    def resume(cls, parser: AppendOnlyParser, path: Path, file: Path) -> IncrementalParse | None:
        """The parse of ``path`` that ``save`` wrote to ``file``, if it is still good: written
        by this same code (``state_key``), of the same file only appended to since (same inode,
        no shorter than what was read, same ``_fingerprint``). None otherwise, and when ``file``
        is missing or unreadable: it is a cache, a full parse is the answer."""
        live = cls(parser, path)
        try:
            saved = _read_state(file, path)
        except Exception:  # whatever is wrong with a cache file, it is not used
            return None
        if saved is None or type(saved[3]) is not type(live._builder):
            return None
        live._inode, live._fingerprint, live.cursor, live._builder = saved
        return live

    def save(self, file: Path) -> None:
        """Write the parse to ``file`` for ``resume``. The file is replaced whole: a reader
        finds the old one or the new one, never a part."""
        header = (state_key(), str(self.path), self._inode, self.cursor.offset, self._fingerprint)
        file.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=file.parent, prefix=file.name, suffix=".tmp")
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                pickle.dump(header, stream, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump((self.cursor, self._builder), stream, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.replace(file)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def update(self) -> ParseResult:
        status = self.path.stat()
        if status.st_ino != self._inode or status.st_size < self.cursor.offset:
            self._inode = status.st_ino
            self.cursor = LineCursor()
            self._builder = self.parser.new_builder(self.path)
        builder = self._builder
        with collector_paused():
            read_json_lines(
                self.path,
                builder.warnings,
                builder.add,
                self.cursor,
                complete_lines_only=True,
                quick=builder.quick_reader(),
            )
            self._fingerprint = _fingerprint(self.path, self.cursor.offset)
            return self._builder.build()


def _read_state(file: Path, path: Path) -> tuple[int, bytes, LineCursor, Any] | None:
    """What ``save`` wrote to ``file`` (inode, fingerprint, cursor, builder), or None when it is
    of another file, by other code, or ``path`` has changed other than by appending. The header
    is checked before the builder, by far the larger part, is read."""
    with file.open("rb") as stream:
        key, saved_path, inode, offset, fingerprint = pickle.load(stream)
        if (key, saved_path) != (state_key(), str(path)):
            return None
        status = path.stat()
        if status.st_ino != inode or status.st_size < offset:
            return None
        if _fingerprint(path, offset) != fingerprint:
            return None
        with collector_paused():
            cursor, builder = pickle.load(stream)
    if type(cursor) is not LineCursor or cursor.offset != offset:
        return None
    return inode, fingerprint, cursor, builder


def _fingerprint(path: Path, offset: int) -> bytes:
    """A digest of the first ``offset`` bytes of ``path``, from their first and last 4 KiB: a
    log rewritten, not appended to, differs there (but for an edit that keeps its length and
    leaves both ends alone)."""
    with path.open("rb") as stream:
        head = stream.read(min(offset, _FINGERPRINT_SPAN))
        start = max(offset - _FINGERPRINT_SPAN, 0)
        stream.seek(start)
        tail = stream.read(offset - start)
    return hashlib.blake2b(head + tail, digest_size=16).digest()


@cache
def state_key() -> str:
    """What a saved parse must have been saved by: this state format, opensession version,
    Python and pydantic versions, and the same parser and HAIL code (a digest of their sources,
    which an editable install changes without a new version)."""
    import pydantic

    import opensession

    package = Path(opensession.__file__).parent
    digest = hashlib.blake2b(digest_size=16)
    for source in sorted([*package.glob("parsers/*.py"), *package.glob("hail/*.py")]):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    python = ".".join(map(str, sys.version_info[:2]))
    return (
        f"{STATE_FORMAT}/opensession {opensession.__version__}/python {python}/"
        f"pydantic {pydantic.VERSION}/{digest.hexdigest()}"
    )
