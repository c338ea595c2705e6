"""Helpers every parser uses: timestamps, JSON lines and documents read with warnings."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from opensession.hail.model import Event, format_timestamp
from opensession.parsers.base import ParseWarning, SessionParseError

_EPOCH_MS_THRESHOLD = 10**11  # numbers above this are milliseconds (year 5138 in seconds)


def parse_timestamp(value: Any) -> datetime | None:
    """A UTC-aware datetime from what tools write: RFC 3339 / ISO 8601 strings (a missing offset
    means UTC), or epoch seconds / milliseconds as numbers or digit strings. None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():  # "²" is a digit to isdigit(), not to int()
            return parse_timestamp(int(text))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > _EPOCH_MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


@dataclass
class LineCursor:
    """Where reading a JSONL file got to: the byte offset and number of the next line."""

    offset: int = 0
    line: int = 1


def read_json_lines(
    path: Path,
    warnings: list[ParseWarning],
    take: Callable[[dict[str, Any], int], object],
    cursor: LineCursor | None = None,
    *,
    complete_lines_only: bool = False,
    quick: Callable[[bytes, int], bool] | None = None,
) -> None:
    """Call ``take(record, line number)`` for each JSON-object line of a JSONL file, from
    ``cursor`` (the start by default), which is moved past every line consumed.

    Blank lines are passed over; other unreadable lines add a warning and are skipped; an
    unterminated last line that is not JSON is reported as truncated, unless
    ``complete_lines_only`` (a log still being written), which stops before it. Each line is
    offered to ``quick(raw bytes, line number)`` first: when it returns True it has taken the
    record from its bytes alone, and the line is not decoded.

    A callback rather than a generator: resuming a generator for every line of a large log
    costs a few percent of its parse.
    """
    cursor = cursor if cursor is not None else LineCursor()
    offset, next_line = cursor.offset, cursor.line  # locals: this loop runs once per line
    loads = orjson.loads
    with path.open("rb", buffering=1024 * 1024) as stream:
        stream.seek(offset)
        try:
            for raw in stream:
                if complete_lines_only and not raw.endswith(b"\n"):
                    return
                line, next_line, offset = next_line, next_line + 1, offset + len(raw)
                if quick is not None and quick(raw, line):
                    continue
                try:
                    record = loads(raw)
                except orjson.JSONDecodeError as exc:
                    if raw.strip():
                        truncated = not raw.endswith(b"\n")
                        reason = "truncated last line" if truncated else f"not JSON ({exc})"
                        warnings.append(ParseWarning(str(path), f"{reason}; line skipped", line))
                    continue
                if type(record) is not dict:
                    reason = f"expected a JSON object, found {type(record).__name__}; line skipped"
                    warnings.append(ParseWarning(str(path), reason, line))
                    continue
                take(record, line)
        finally:
            cursor.offset, cursor.line = offset, next_line


def read_json_document(path: Path) -> Any:
    """A whole JSON file; SessionParseError naming the file when it cannot be read."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SessionParseError(path, exc.strerror or str(exc)) from None
    except orjson.JSONDecodeError as exc:
        raise SessionParseError(path, f"not valid JSON ({exc})") from None


def read_head(path: Path, size: int = 64 * 1024) -> bytes:
    """The first bytes of a file (empty for a folder or an unreadable file), for detection."""
    if not path.is_file():
        return b""
    try:
        with path.open("rb") as stream:
            return stream.read(size)
    except OSError:
        return b""


def first_json_lines(head: bytes, count: int = 5) -> list[dict[str, Any]]:
    """The JSON objects among the first complete lines of ``head`` (for detection)."""
    records = []
    for raw in head.split(b"\n")[:count]:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def title_from_text(text: str, limit: int = 80) -> str | None:
    """A session title from its first user message: the first line, cut at ``limit`` chars."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first_line:
        return None
    return first_line if len(first_line) <= limit else first_line[: limit - 3].rstrip() + "..."


_PROVIDER_PREFIXES = (
    ("claude", "anthropic"),
    ("gpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("codex", "openai"),
    ("gemini", "google"),
    ("grok", "xai"),
    ("deepseek", "deepseek"),
    ("qwen", "alibaba"),
    ("mistral", "mistral"),
    ("llama", "meta"),
)


def provider_for_model(model: str, default: str = "unknown") -> str:
    """The provider that serves ``model``, judged from its name (``claude-…`` → anthropic)."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    for prefix, provider in _PROVIDER_PREFIXES:
        if name.startswith(prefix):
            return provider
    return default


def keep_timestamps_in_order(events: list[Event]) -> None:
    """Make timestamps non-decreasing in event order, as HAIL requires: an event stamped
    earlier than the one before it takes that time, its own kept in ``source.timestamp``."""
    latest: datetime | None = None
    for event in events:
        if latest is not None and event.timestamp < latest:
            event.attributes["source.timestamp"] = format_timestamp(event.timestamp)
            event.timestamp = latest
        else:
            latest = event.timestamp


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a session is built.

    A parse creates many small containers per event (pydantic keeps a set of fields per model)
    and keeps them all; the collector would walk the whole growing heap again and again, a
    quarter or more of the parse time. Nothing a parser builds is in a reference cycle, so
    reference counting frees it all. The collector's previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                # Move what the parse made to the oldest generation: the young collection
                # that re-enabling sets off would otherwise scan all of it at once (a tenth of
                # a parse). Cycles among them are still collected, by full collections.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def file_time(path: Path) -> datetime:
    """When ``path`` was last modified (UTC): the time of a session whose records carry none.
    The epoch when it cannot be read, so that such a session sorts last, never as new."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return datetime.fromtimestamp(0, tz=UTC)
