"""What every tool parser shares: its interface, its result, warnings and source accounting."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # the model (pydantic) loads only when a parser runs, keeping the CLI quick
    from opensession.hail.model import Session

SOURCE_RECORDS_ATTRIBUTE = "source_records"
"""Context attribute accounting for every record of the source (see ``SourceRecords``)."""


@dataclass(frozen=True)
class ParseWarning:
    """Something in a source that could not be read as it should; parsing went on."""

    source: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Detection:
    """How sure a parser is that it can read a source (0-100), and why."""

    tool: str
    confidence: int
    reason: str


@dataclass
class SourceRecords:
    """Every record of a source accounted for: mapped to events, merged into a record already
    mapped (a streamed duplicate, an echo), or skipped for a reason that is named.

    ``total == mapped + merged + sum(skipped.values())`` always holds.
    """

    mapped: int = 0
    merged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.mapped + self.merged + sum(self.skipped.values())

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def to_attribute(self) -> dict[str, object]:
        return {
            "total": self.total,
            "mapped": self.mapped,
            "merged": self.merged,
            "skipped": dict(sorted(self.skipped.items())),
        }


@dataclass
class ParseResult:
    """The sessions read from one source: the main session first, then its sub-agent sessions."""

    sessions: list[Session]
    warnings: list[ParseWarning] = field(default_factory=list)

    @property
    def session(self) -> Session:
        return self.sessions[0]


class SessionParseError(Exception):
    """A source with nothing readable in it: names the source and the reason on one line."""

    def __init__(self, source: str | Path, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class SessionParser(ABC):
    """One AI coding tool's session format."""

    tool: ClassVar[str]
    """The HAIL ``agent.tool`` name (``claude-code``, ``codex`` …)."""

    @abstractmethod
    def detect(self, path: Path, head: bytes) -> Detection | None:
        """Whether ``path`` looks like this tool's session, judged from its name and ``head``
        (the first bytes of a file; empty for a folder). None when it surely is not."""

    @abstractmethod
    def parse(self, path: Path) -> ParseResult:
        """Read the session(s) at ``path``. Keeps everything readable, recording a warning per
        problem; raises SessionParseError only when nothing at all can be read."""
