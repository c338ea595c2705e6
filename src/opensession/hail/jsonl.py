"""HAIL JSONL (``*.hail.jsonl``): a header line, one line per event, a stats line.

Reading streams: the header is decoded at once, events one at a time as the caller iterates, so a
file of any size is never held whole. In lenient mode (the default) a line that cannot be read
is skipped with a warning naming its number; in strict mode it is an error.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from opensession.hail.errors import HailFormatError, describe_validation_error
from opensession.hail.model import Event, Header, Session, Stats
from opensession.hail.stats import StatsAccumulator

logger = logging.getLogger("opensession.hail")


@dataclass(frozen=True)
class ReadWarning:
    """Something in a file that was skipped or distrusted while reading it."""

    source: str
    line: int
    reason: str
    corrupt: bool
    """True when the line could not be read at all (its content is lost)."""

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


WarningHandler = Callable[[ReadWarning], None]
_M = TypeVar("_M", bound=BaseModel)

_STATS_TAIL_BYTES = 64 * 1024
_READ_BUFFER = 1024 * 1024


def _log_warning(warning: ReadWarning) -> None:
    logger.warning("%s", warning)


class HailReader:
    """Streams one HAIL JSONL file.

    ``header`` is read on construction; iterate the reader for events; once iteration ends,
    ``file_stats`` holds the stats line as written (``None`` when the file has none) and
    ``stats()`` the stats to use: the written ones, else recomputed from the events read.
    ``warnings`` collects every warning, also passed to ``on_warning`` as it happens.
    """

    def __init__(
        self,
        stream: IO[bytes],
        source: str = "<stream>",
        *,
        strict: bool = False,
        on_warning: WarningHandler = _log_warning,
    ) -> None:
        self._lines = enumerate(stream, start=1)
        self.source = source
        self.strict = strict
        self._on_warning = on_warning
        self.warnings: list[ReadWarning] = []
        self.file_stats: Stats | None = None
        self._consumed = False
        self.header = self._read_header()
        # Recomputing stats costs a fifth of the reading time; skip it when the file ends with
        # the stats line it would only confirm.
        has_stats = stream.seekable() and _trailing_stats(stream) is not None
        self._accumulator = None if has_stats else StatsAccumulator()

    def _warn(self, line: int, reason: str, *, corrupt: bool = False) -> None:
        warning = ReadWarning(self.source, line, reason, corrupt)
        self.warnings.append(warning)
        self._on_warning(warning)

    def _bad_line(self, line: int, reason: str) -> None:
        if self.strict:
            raise HailFormatError(self.source, reason, line)
        self._warn(line, f"{reason}; line skipped", corrupt=True)

    def _read_header(self) -> Header:
        for number, raw in self._lines:
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                reason = f"not a HAIL JSONL file: the first line is not JSON ({exc})"
                raise HailFormatError(self.source, reason, number) from None
            kind = record.get("type") if isinstance(record, dict) else None
            if kind != "header":
                found = repr(kind) if kind is not None else "no 'type'"
                raise HailFormatError(
                    self.source,
                    f"expected a 'header' line first, found {found}; is this a HAIL JSONL file?",
                    number,
                )
            del record["type"]
            try:
                return Header.model_validate(record)
            except ValidationError as exc:
                reason = f"bad header: {describe_validation_error(exc)}"
                raise HailFormatError(self.source, reason, number) from None
        raise HailFormatError(self.source, "empty file: expected a HAIL header line")

    def __iter__(self) -> Iterator[Event]:
        if self._consumed:
            raise RuntimeError("a HailReader's events can be iterated only once")
        self._consumed = True
        for number, raw in self._lines:
            event = self._decode_line(number, raw)
            if event is not None:
                if self._accumulator is not None:
                    self._accumulator.add(event)
                yield event

    def _decode_line(self, number: int, raw: bytes) -> Event | None:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if not raw.strip():
                return None
            truncated = not raw.endswith(b"\n")
            self._bad_line(number, "truncated last line" if truncated else f"not JSON ({exc})")
            return None
        kind = record.pop("type", None) if isinstance(record, dict) else None
        if kind == "event":
            if self.file_stats is not None:
                self._warn(number, "event after the stats line; the written stats are stale")
                self.file_stats = None
            return self._validated(Event, record, number)
        if kind == "stats":
            self.file_stats = self._validated(Stats, record, number)
        elif kind == "header":
            self._bad_line(number, "a second header line")
        else:
            self._warn(number, f"unknown line type {kind!r}; line skipped")
        return None

    def _validated(self, model: type[_M], record: Any, number: int) -> _M | None:
        try:
            return model.model_validate(record)
        except ValidationError as exc:
            reason = f"bad {model.__name__.lower()}: {describe_validation_error(exc)}"
            self._bad_line(number, reason)
            return None

    def stats(self) -> Stats:
        """The file's stats line, or stats recomputed from the events when it has none."""
        if not self._consumed:
            raise RuntimeError("stats are known only after the events have been read")
        if self.file_stats is not None or self._accumulator is None:
            return self.file_stats or Stats()
        return self._accumulator.result()


@contextmanager
def open_hail(
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    on_warning: WarningHandler = _log_warning,
) -> Iterator[HailReader]:
    """Open a HAIL JSONL file for streaming; the header is already read when this yields."""
    with Path(path).open("rb", buffering=_READ_BUFFER) as stream:
        yield HailReader(stream, str(path), strict=strict, on_warning=on_warning)


def read_header(path: str | os.PathLike[str]) -> Header:
    """Only the header line: what a listing needs, without decoding a single event."""
    with open_hail(path, strict=True) as reader:
        return reader.header


def read_summary(path: str | os.PathLike[str]) -> tuple[Header, Stats]:
    """Header and stats; the stats line is read from the end of the file when present."""
    with open_hail(path) as reader:
        with Path(path).open("rb") as stream:
            stats = _trailing_stats(stream)
        if stats is None:
            for _ in reader:
                pass
            stats = reader.stats()
        return reader.header, stats


def _trailing_stats(stream: IO[bytes]) -> Stats | None:
    """The stats line if it is the last line of a seekable stream, whose position is kept.

    A stats line is small: only the file's last 64 KiB are read.
    """
    kept = stream.tell()
    try:
        end = stream.seek(0, os.SEEK_END)
        stream.seek(max(0, end - _STATS_TAIL_BYTES))
        tail = stream.read().rstrip()
    finally:
        stream.seek(kept)
    newline = tail.rfind(b"\n")
    if newline < 0:
        return None
    try:
        record = orjson.loads(tail[newline + 1 :])
        if isinstance(record, dict) and record.pop("type", None) == "stats":
            return Stats.model_validate(record)
    except (orjson.JSONDecodeError, ValidationError):
        pass
    return None


def read_session(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    strict: bool = False,
    on_warning: WarningHandler = _log_warning,
) -> Session:
    """A whole session in memory. Stats come from the stats line, else are recomputed."""
    if isinstance(source, str | os.PathLike):
        with open_hail(source, strict=strict, on_warning=on_warning) as reader:
            return _collect(reader)
    return _collect(HailReader(source, strict=strict, on_warning=on_warning))


def _collect(reader: HailReader) -> Session:
    events = list(reader)
    return Session.assemble(reader.header, events, reader.stats())


def _line(kind: bytes, model: BaseModel) -> list[bytes | memoryview]:
    """``{"type":"<kind>", ...model's fields}``, without copying a large event's JSON again."""
    body = model.__pydantic_serializer__.to_json(model)
    return [b'{"type":"', kind, b'",', memoryview(body)[1:], b"\n"]


class HailWriter:
    """Writes a HAIL JSONL stream event by event; ``close`` writes the stats line."""

    def __init__(self, stream: IO[bytes], header: Header) -> None:
        self._stream = stream
        self._accumulator = StatsAccumulator()
        self._stream.writelines(_line(b"header", header))

    def write(self, event: Event) -> None:
        self._accumulator.add(event)
        self._stream.writelines(_line(b"event", event))

    def close(self, stats: Stats | None = None) -> Stats:
        """Write the stats line: ``stats`` as given, else computed from the events written."""
        final = stats if stats is not None else self._accumulator.result()
        self._stream.writelines(_line(b"stats", final))
        return final


def write_session(session: Session, destination: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write a session as HAIL JSONL, with its stats as they are.

    A path is written atomically (temporary file, then rename): a failed write never leaves a
    half-written file in place of a good one.
    """
    if not isinstance(destination, str | os.PathLike):
        _write_all(session, destination)
        return
    target = Path(destination)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            _write_all(session, stream)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_all(session: Session, stream: IO[bytes]) -> None:
    writer = HailWriter(stream, session.header)
    for event in session.events:
        writer.write(event)
    writer.close(session.stats)


def dumps_session(session: Session) -> bytes:
    """The session as HAIL JSONL bytes (for uploads and downloads)."""
    buffer = BytesIO()
    _write_all(session, buffer)
    return buffer.getvalue()
