"""Parsers of append-only JSONL logs (Claude Code, Codex), and their incremental re-parse.

Such a parser turns records into a session through a builder fed one record at a time; a full
parse feeds every line, an incremental parse keeps the builder and feeds only the lines
appended since the last byte offset it read. Both give the same session.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, Protocol

from opensession.parsers.base import ParseResult, ParseWarning, SessionParseError, SessionParser
from opensession.parsers.common import LineCursor, collector_paused, iter_json_lines


class SessionBuilder(Protocol):
    """Builds sessions from one log's records, fed in file order."""

    warnings: list[ParseWarning]

    def add(self, record: dict[str, Any], line: int) -> None:
        """Take the next record (line number ``line``)."""

    def build(self) -> ParseResult:
        """The sessions from the records so far; may be called again after more are added."""


class AppendOnlyParser(SessionParser):
    @abstractmethod
    def new_builder(self, path: Path) -> SessionBuilder:
        """An empty builder for the log at ``path``."""

    def parse(self, path: Path) -> ParseResult:
        builder = self.new_builder(path)
        try:
            with collector_paused():
                for number, record in iter_json_lines(path, builder.warnings):
                    builder.add(record, number)
                return builder.build()
        except OSError as exc:
            raise SessionParseError(path, exc.strerror or str(exc)) from None


class IncrementalParse:
    """A log parsed once, then re-parsed from where it was left as the tool appends to it.

    ``update`` reads only the complete lines written since the last call; a file that was
    replaced or truncated (another inode, or shorter than what was read) is read from the start.
    """

    def __init__(self, parser: AppendOnlyParser, path: Path) -> None:
        self.parser = parser
        self.path = path
        self.cursor = LineCursor()
        self._inode: int | None = None
        self._builder = parser.new_builder(path)

    def update(self) -> ParseResult:
        status = self.path.stat()
        if status.st_ino != self._inode or status.st_size < self.cursor.offset:
            self._inode = status.st_ino
            self.cursor = LineCursor()
            self._builder = self.parser.new_builder(self.path)
        lines = iter_json_lines(
            self.path, self._builder.warnings, self.cursor, complete_lines_only=True
        )
        with collector_paused():
            for number, record in lines:
                self._builder.add(record, number)
            return self._builder.build()
