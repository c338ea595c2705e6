"""Cursor: composer conversations kept in the editor's SQLite key-value store, ``state.vscdb``.

The database has two tables of ``(key, value)`` rows. ``cursorDiskKV`` holds one row
``composerData:<composerId>`` per conversation (``name``, ``createdAt``, ``lastUpdatedAt``,
``_v``, the bubble order in ``fullConversationHeadersOnly`` or, in older versions, the bubbles
inline in ``conversation``) and one row ``bubbleId:<composerId>:<bubbleId>`` per message
("bubble": ``type`` 1 = user, 2 = assistant, ``text``, ``thinking``, ``toolFormerData`` for a
tool call, ``timingInfo``, ``tokenCount``, ``modelInfo``/``modelType``, ``codeBlocks``,
``createdAt``). Older versions list the conversations in ``ItemTable`` under
``composer.composerData`` (``{"allComposers": [...]}``), possibly with inline bubbles.

One database holds many unrelated conversations: ``parse`` returns one session per composer
that has bubbles, the most recently updated first.

Records: every conversation row of the database is a record, accounted for in the session of
its composer: the ``composerData`` row (merged: it gives the session its title, times and
bubble order), each bubble (a ``bubbleId`` row or a bubble inline in a composer), and each
``allComposers`` entry of ``composer.composerData``. Rows that belong to no session (composers
without bubbles, unreadable rows) are accounted for in the first session, so the sessions'
totals add up to the number of conversation rows. Other keys (checkpoints, diffs, settings)
are not conversation records and are not read.

The user's database may be in use by Cursor: it is opened read-only and never locked; when it
is locked or busy, a private copy (with its ``-wal``/``-journal`` files) is read instead.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson

from opensession.hail import model as m
from opensession.hail.stats import compute_stats
from opensession.parsers.base import (
    SOURCE_RECORDS_ATTRIBUTE,
    Detection,
    ParseResult,
    ParseWarning,
    SessionParseError,
    SessionParser,
    SourceRecords,
)
from opensession.parsers.common import (
    keep_timestamps_in_order,
    parse_timestamp,
    provider_for_model,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type, tool_kind

_SQLITE_MAGIC = b"SQLite format 3\x00"
_DB_NAME = "state.vscdb"
_LEGACY_INDEX_KEY = "composer.composerData"
_BUSY_TIMEOUT_SECONDS = 0.5
_SIDE_FILES = ("-wal", "-shm", "-journal")

# Older bubbles name a tool only by number (newer ones carry ``name`` as well).
_TOOL_NAMES_BY_ID = {
    3: "grep_search",
    5: "read_file",
    6: "list_dir",
    7: "edit_file",
    8: "file_search",
    9: "codebase_search",
    12: "reapply",
    15: "run_terminal_cmd",
    18: "web_search",
    38: "search_replace",
    39: "list_dir",
    40: "read_file",
    41: "grep",
    42: "glob_file_search",
}
_ERROR_STATUSES = frozenset({"error", "failed", "cancelled", "canceled", "rejected"})
_FINISHED_STATUSES = _ERROR_STATUSES | {"completed", "done", "success"}
_OUTPUT_KEYS = ("output", "contents", "content", "result", "text", "message")


# --- Reading the database ---


@dataclass
class _Rows:
    """The conversation rows of one database, as read (values still JSON text)."""

    composers: list[tuple[str, bytes | str]] = field(default_factory=list)
    bubbles: list[tuple[str, bytes | str]] = field(default_factory=list)
    legacy_index: bytes | str | None = None


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return connection.execute(query, (name,)).fetchone() is not None


def _prefixed(connection: sqlite3.Connection, table: str, prefix: str) -> list[tuple[str, Any]]:
    """Rows whose key starts with ``prefix`` (a key range, so the key index is used)."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    query = f"SELECT key, value FROM {table} WHERE key >= ? AND key < ?"
    return connection.execute(query, (prefix, end)).fetchall()


def _query(connection: sqlite3.Connection, path: Path) -> _Rows:
    tables = [name for name in ("cursorDiskKV", "ItemTable") if _has_table(connection, name)]
    if not tables:
        raise SessionParseError(path, "SQLite database without Cursor's ItemTable/cursorDiskKV")
    rows = _Rows()
    for table in tables:
        rows.composers += _prefixed(connection, table, "composerData:")
        rows.bubbles += _prefixed(connection, table, "bubbleId:")
    if "ItemTable" in tables:
        query = "SELECT value FROM ItemTable WHERE key = ?"
        found = connection.execute(query, (_LEGACY_INDEX_KEY,)).fetchone()
        rows.legacy_index = found[0] if found else None
    return rows


def _read_with(uri: str, path: Path) -> _Rows:
    connection = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_SECONDS)
    try:
        return _query(connection, path)
    finally:
        connection.close()


def _read_private_copy(path: Path) -> _Rows:
    """Reads a copy of the database (and its side files) in a temporary folder. Without side
    files the copy is opened ``immutable``; a copied WAL or hot journal needs a normal open
    (of the private copy) for SQLite to apply it."""
    with tempfile.TemporaryDirectory(prefix="opensession-cursor-") as folder:
        copy = Path(folder) / path.name
        shutil.copyfile(path, copy)
        copied_side_file = False
        for suffix in _SIDE_FILES:
            side = path.with_name(path.name + suffix)
            if side.is_file():
                shutil.copyfile(side, copy.with_name(copy.name + suffix))
                copied_side_file = True
        uri = copy.as_uri() + ("" if copied_side_file else "?immutable=1")
        return _read_with(uri, path)


def _read_rows(path: Path) -> _Rows:
    """The conversation rows, read without ever writing to or locking the user's database."""
    try:
        try:
            return _read_with(path.resolve().as_uri() + "?mode=ro", path)
        except sqlite3.OperationalError:
            return _read_private_copy(path)  # locked, busy, or its WAL index is not writable
    except SessionParseError:
        raise
    except sqlite3.DatabaseError as exc:
        raise SessionParseError(path, f"not a readable SQLite database ({exc})") from None
    except OSError as exc:
        raise SessionParseError(path, exc.strerror or str(exc)) from None


# --- Decoding rows into composers and bubbles ---


@dataclass
class _Composer:
    """One conversation: its own data, its bubbles, and the accounting of its records."""

    composer_id: str
    data: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Bubble rows by bubble id."""
    records: SourceRecords = field(default_factory=SourceRecords)
    has_own_row: bool = False


class _Decoder:
    """Turns the rows into composers, with a warning for each row that cannot be read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[ParseWarning] = []
        self.composers: dict[str, _Composer] = {}
        self.leftovers = SourceRecords()
        """Records that belong to no composer (their key names none)."""

    def composer(self, composer_id: str) -> _Composer:
        if composer_id not in self.composers:
            self.composers[composer_id] = _Composer(composer_id)
        return self.composers[composer_id]

    def _json_object(self, key: str, value: bytes | str | None) -> dict[str, Any] | None:
        try:
            decoded = orjson.loads(value) if value is not None else None
        except orjson.JSONDecodeError as exc:
            self._warn(f"row {key!r}: not JSON ({exc}); row skipped")
            return None
        if not isinstance(decoded, dict):
            self._warn(f"row {key!r}: expected a JSON object; row skipped")
            return None
        return decoded

    def _warn(self, reason: str) -> None:
        self.warnings.append(ParseWarning(str(self.path), reason))

    def add_composer_row(self, key: str, value: bytes | str) -> None:
        composer = self.composer(key.removeprefix("composerData:"))
        data = self._json_object(key, value)
        if data is None:
            composer.records.skip("unreadable row")
            return
        if composer.has_own_row:  # the same key in both tables
            composer.records.merged += 1
            return
        composer.data = data
        composer.has_own_row = True

    def add_bubble_row(self, key: str, value: bytes | str) -> None:
        composer_id, _, bubble_id = key.removeprefix("bubbleId:").partition(":")
        composer = self.composer(composer_id)
        bubble = self._json_object(key, value)
        if bubble is None:
            composer.records.skip("unreadable row")
            return
        if (bubble_id or key) in composer.rows:  # the same key in both tables
            composer.records.merged += 1
            return
        composer.rows[bubble_id or key] = bubble

    def add_legacy_index(self, value: bytes | str) -> None:
        index = self._json_object(_LEGACY_INDEX_KEY, value)
        entries = index.get("allComposers") if index is not None else None
        if index is None or not isinstance(entries, list):
            if index is not None:
                self._warn(f"{_LEGACY_INDEX_KEY}: no allComposers list; row skipped")
            self.leftovers.skip("unreadable row")
            return
        for entry in entries:
            composer_id = entry.get("composerId") if isinstance(entry, dict) else None
            if not isinstance(composer_id, str) or not composer_id:
                self._warn(f"{_LEGACY_INDEX_KEY}: an allComposers entry without composerId")
                self.leftovers.skip("unreadable row")
                continue
            self._add_legacy_entry(self.composer(composer_id), entry)

    def _add_legacy_entry(self, composer: _Composer, entry: dict[str, Any]) -> None:
        if composer.has_own_row:
            composer.records.merged += 1  # an index entry repeating the composer's own row
            for key, value in entry.items():
                composer.data.setdefault(key, value)
            return
        composer.data = {**entry, **composer.data}
        composer.has_own_row = True


# --- Sessions from composers ---


def _bubble_time(bubble: dict[str, Any]) -> datetime | None:
    created = parse_timestamp(bubble.get("createdAt"))
    if created is not None:
        return created
    timing = bubble.get("timingInfo")
    if isinstance(timing, dict):
        return parse_timestamp(timing.get("clientStartTime") or timing.get("clientRpcSendTime"))
    return None


def _duration_ms(bubble: dict[str, Any]) -> int | None:
    timing = bubble.get("timingInfo")
    if not isinstance(timing, dict):
        return None
    start, end = timing.get("clientStartTime"), timing.get("clientEndTime")
    if isinstance(start, int | float) and isinstance(end, int | float) and end > start:
        return int(end - start)
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _model_of(bubble: dict[str, Any]) -> str | None:
    info = bubble.get("modelInfo")
    name = info.get("modelName") if isinstance(info, dict) else None
    name = name or bubble.get("modelType")
    return name if isinstance(name, str) and name.strip() else None


def _token_attributes(bubble: dict[str, Any]) -> dict[str, int]:
    counts = bubble.get("tokenCount")
    if not isinstance(counts, dict):
        return {}
    attributes = {}
    for source, target in (("inputTokens", "input_tokens"), ("outputTokens", "output_tokens")):
        value = counts.get(source)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            attributes[target] = value
    return attributes


def _json_argument(value: Any) -> Any:
    """A tool's arguments or result: Cursor stores them as JSON text."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def _result_text(result: Any, raw: Any) -> str:
    if isinstance(result, dict):
        for key in _OUTPUT_KEYS:
            if isinstance(result.get(key), str):
                return result[key]
    if isinstance(result, str):
        return result
    return raw if isinstance(raw, str) else orjson.dumps(result).decode()


def _exit_code(result: Any) -> int | None:
    if not isinstance(result, dict):
        return None
    for key in ("exitCodeV2", "exitCode", "exit_code"):
        value = result.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


@dataclass
class _SessionBuilder:
    """Events of one composer's bubbles, in conversation order."""

    composer: _Composer
    start: datetime
    events: list[m.Event] = field(default_factory=list)
    models: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    cwd: str | None = None
    _last_time: datetime | None = None
    _ids: set[str] = field(default_factory=set)

    def _event(
        self,
        event_id: str,
        timestamp: datetime,
        event_type: Any,
        blocks: list[Any],
        attributes: dict[str, Any],
    ) -> m.Event:
        unique, copy = event_id, 1
        while unique in self._ids:
            copy += 1
            unique = f"{event_id}#{copy}"
        self._ids.add(unique)
        event = m.Event(
            event_id=unique,
            timestamp=timestamp,
            event_type=event_type,
            content=m.Content(blocks=blocks),
            attributes=attributes,
        )
        self.events.append(event)
        return event

    def add_bubble(self, bubble: dict[str, Any], fallback_id: str) -> None:
        """Maps one bubble to its events and accounts for it."""
        bubble_id = bubble.get("bubbleId") if isinstance(bubble.get("bubbleId"), str) else None
        bubble_id = bubble_id or fallback_id
        timestamp = _bubble_time(bubble) or self._last_time or self.start
        self._last_time = timestamp
        directory = bubble.get("workspaceProjectDir")
        if self.cwd is None and isinstance(directory, str) and directory:
            self.cwd = directory
        kind = bubble.get("type")
        if kind == 1:
            produced = self._user(bubble, bubble_id, timestamp)
        elif kind == 2:
            produced = self._assistant(bubble, bubble_id, timestamp)
        else:
            self.warnings.append(f"bubble {bubble_id!r}: unknown type {kind!r}; skipped")
            self.composer.records.skip("unknown bubble type")
            return
        if not produced:
            self.composer.records.skip("empty message")
            return
        self.composer.records.mapped += 1
        first = produced[0]
        first.attributes.update(_token_attributes(bubble))
        first.duration_ms = _duration_ms(bubble)

    def _user(self, bubble: dict[str, Any], bubble_id: str, timestamp: datetime) -> list[m.Event]:
        text = _text(bubble.get("text"))
        if not text:
            return []
        attributes = {"source.raw_type": "bubble:user"}
        blocks = [m.TextBlock(text=text)]
        return [self._event(f"{bubble_id}:user", timestamp, m.UserMessage(), blocks, attributes)]

    def _assistant(
        self, bubble: dict[str, Any], bubble_id: str, timestamp: datetime
    ) -> list[m.Event]:
        model = _model_of(bubble)
        if model:
            self.models[model] += 1
        produced = []
        thinking = bubble.get("thinking")
        thought = _text(thinking.get("text")) if isinstance(thinking, dict) else ""
        if thought:
            blocks = [m.TextBlock(text=thought)]
            attributes = {"source.raw_type": "bubble:thinking"}
            event = self._event(
                f"{bubble_id}:thinking", timestamp, m.Thinking(), blocks, attributes
            )
            produced.append(event)
        text = _text(bubble.get("text"))
        code = _code_blocks(bubble.get("codeBlocks"), text)
        if text or code:
            blocks = ([m.TextBlock(text=text)] if text else []) + code
            attributes = {"source.raw_type": "bubble:assistant"}
            if model:
                attributes["model"] = model
            produced.append(
                self._event(f"{bubble_id}:text", timestamp, m.AgentMessage(), blocks, attributes)
            )
        tool = bubble.get("toolFormerData")
        if isinstance(tool, dict):
            produced += self._tool(tool, bubble_id, timestamp)
        return produced

    def _tool(self, tool: dict[str, Any], bubble_id: str, timestamp: datetime) -> list[m.Event]:
        name = tool.get("name") if isinstance(tool.get("name"), str) else None
        number = tool.get("tool")
        name = name or (_TOOL_NAMES_BY_ID.get(number) if isinstance(number, int) else None)
        name = name or "unknown_tool"
        arguments = _json_argument(tool.get("rawArgs") or tool.get("params"))
        if not isinstance(arguments, dict):
            arguments = {"rawArgs": arguments} if arguments else {}
        call_id = tool.get("toolCallId") if isinstance(tool.get("toolCallId"), str) else None
        call_id = call_id or bubble_id
        event_type = tool_event_type(name, arguments)
        attributes: dict[str, Any] = {
            "source.raw_type": "bubble:tool",
            "semantic.call_id": call_id,
            "semantic.tool_kind": tool_kind(name) or "tool",
        }
        status = tool.get("status") if isinstance(tool.get("status"), str) else None
        if status:
            attributes["status"] = status
        blocks = tool_call_blocks(event_type, arguments)
        call = self._event(f"{bubble_id}:call", timestamp, event_type, blocks, attributes)
        raw_result = tool.get("result")
        if raw_result in (None, "") and status not in _FINISHED_STATUSES:
            return [call]
        result = _json_argument(raw_result)
        exit_code = _exit_code(result)
        if isinstance(event_type, m.ShellCommand) and exit_code is not None:
            event_type.data.exit_code = exit_code
        rejected = isinstance(result, dict) and result.get("rejected") is True
        is_error = status in _ERROR_STATUSES or rejected or tool.get("userDecision") == "rejected"
        is_error = is_error or (exit_code is not None and exit_code != 0)
        output = _result_text(result, raw_result) if raw_result not in (None, "") else ""
        result_type = m.ToolResult(
            data=m.ToolResultData(name=name, is_error=is_error, call_id=call_id)
        )
        result_blocks = [m.TextBlock(text=output)] if output else []
        result_attributes = {"source.raw_type": "bubble:tool_result", "semantic.call_id": call_id}
        result_event = self._event(
            f"{bubble_id}:result", timestamp, result_type, result_blocks, result_attributes
        )
        return [call, result_event]


def _code_blocks(value: Any, text: str) -> list[m.CodeBlock]:
    """Suggested code of an assistant bubble that its text does not already show."""
    blocks = []
    for block in value if isinstance(value, list) else []:
        code = block.get("content") if isinstance(block, dict) else None
        if isinstance(code, str) and code.strip() and code.strip() not in text:
            language = block.get("languageId")
            language = language if isinstance(language, str) and language else None
            blocks.append(m.CodeBlock(code=code, language=language))
    return blocks


def _ordered_bubbles(composer: _Composer) -> Iterator[tuple[dict[str, Any], str]]:
    """The composer's bubbles in conversation order, each with an id to fall back on; bubble
    rows the conversation no longer lists (an edited-away branch) are accounted as skipped."""
    inline = composer.data.get("conversation")
    headers = composer.data.get("fullConversationHeadersOnly")
    if isinstance(inline, list) and inline:
        for number, bubble in enumerate(inline):
            if isinstance(bubble, dict):
                yield bubble, f"{composer.composer_id}-{number}"
            else:
                composer.records.skip("unreadable bubble")
    elif isinstance(headers, list) and headers:
        for header in headers:
            bubble_id = header.get("bubbleId") if isinstance(header, dict) else None
            bubble = composer.rows.pop(bubble_id, None) if isinstance(bubble_id, str) else None
            if bubble is not None:
                yield bubble, bubble_id
    else:
        yield from _by_time(composer.rows)
        return
    for _ in composer.rows:
        composer.records.skip("bubble not in conversation")


def _by_time(rows: dict[str, dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str]]:
    """Bubbles of a composer that lists no order, by creation time then id."""
    ordered = sorted(
        rows.items(),
        key=lambda item: (_bubble_time(item[1]) or datetime.min.replace(tzinfo=UTC), item[0]),
    )
    for bubble_id, bubble in ordered:
        yield bubble, bubble_id


def _has_bubbles(composer: _Composer) -> bool:
    inline = composer.data.get("conversation")
    return bool(composer.rows) or (isinstance(inline, list) and bool(inline))


def _updated_sort_key(composer: _Composer) -> datetime:
    for key in ("lastUpdatedAt", "createdAt"):
        moment = parse_timestamp(composer.data.get(key))
        if moment is not None:
            return moment
    return datetime.min.replace(tzinfo=UTC)


def _session(composer: _Composer, path: Path) -> tuple[m.Session | None, list[str]]:
    data = composer.data
    created = parse_timestamp(data.get("createdAt"))
    updated = parse_timestamp(data.get("lastUpdatedAt"))
    if composer.has_own_row:
        composer.records.merged += 1  # the composer row: title, times and bubble order
    builder = _SessionBuilder(composer, created or updated or datetime.now(UTC))
    for bubble, fallback_id in _ordered_bubbles(composer):
        builder.add_bubble(bubble, fallback_id)
    if not builder.events:
        return None, builder.warnings
    keep_timestamps_in_order(builder.events)
    events = builder.events
    model = builder.models.most_common(1)[0][0] if builder.models else _configured_model(data)
    first_user = next((e.text() for e in events if isinstance(e.event_type, m.UserMessage)), "")
    name = data.get("name")
    title = name.strip() if isinstance(name, str) and name.strip() else None
    attributes: dict[str, Any] = {
        "source_path": str(path),
        "session_role": "primary",
        SOURCE_RECORDS_ATTRIBUTE: composer.records.to_attribute(),
    }
    if builder.cwd:
        attributes["cwd"] = builder.cwd
    context = m.Context(
        title=title or title_from_text(first_user),
        tags=[CursorParser.tool],
        created_at=min(filter(None, (created, events[0].timestamp))),
        updated_at=max(filter(None, (updated, events[-1].timestamp))),
        attributes=attributes,
    )
    agent = m.Agent(provider=provider_for_model(model), model=model, tool=CursorParser.tool)
    session = m.Session(
        session_id=composer.composer_id,
        agent=agent,
        context=context,
        events=events,
        stats=compute_stats(events),
    )
    return session, builder.warnings


def _configured_model(data: dict[str, Any]) -> str:
    config = data.get("modelConfig")
    name = config.get("modelName") if isinstance(config, dict) else None
    return name if isinstance(name, str) and name.strip() else "unknown"


def _sessions(rows: _Rows, path: Path) -> ParseResult:
    decoder = _Decoder(path)
    for key, value in rows.composers:
        decoder.add_composer_row(key, value)
    for key, value in rows.bubbles:
        decoder.add_bubble_row(key, value)
    if rows.legacy_index is not None:
        decoder.add_legacy_index(rows.legacy_index)
    sessions: list[m.Session] = []
    leftovers = decoder.leftovers
    warnings = decoder.warnings
    for composer in sorted(decoder.composers.values(), key=_updated_sort_key, reverse=True):
        if not _has_bubbles(composer):
            _absorb(leftovers, composer.records)
            if composer.has_own_row:
                leftovers.skip("composer without bubbles")
            continue
        if not composer.has_own_row:
            warnings.append(
                ParseWarning(str(path), f"bubbles of composer {composer.composer_id!r} without "
                             "its composerData row; kept as a conversation")
            )  # fmt: skip
        session, notes = _session(composer, path)
        warnings += [ParseWarning(str(path), f"{composer.composer_id}: {n}") for n in notes]
        if session is None:
            _absorb(leftovers, composer.records)
            continue
        sessions.append(session)
    if not sessions:
        listed = len(decoder.composers)
        raise SessionParseError(
            path,
            f"no Cursor conversation with messages ({listed} composer(s) listed; a workspace "
            "database keeps its conversations' messages in globalStorage/state.vscdb)",
        )
    _account_leftovers(sessions[0], leftovers)
    return ParseResult(sessions=sessions, warnings=warnings)


def _absorb(target: SourceRecords, records: SourceRecords) -> None:
    target.mapped += records.mapped
    target.merged += records.merged
    target.skipped.update(records.skipped)


def _account_leftovers(session: m.Session, leftovers: SourceRecords) -> None:
    """Adds the records that belong to no session to the first session's accounting."""
    own = session.context.attributes[SOURCE_RECORDS_ATTRIBUTE]
    records = SourceRecords(own["mapped"], own["merged"])
    records.skipped.update(own["skipped"])
    _absorb(records, leftovers)
    session.context.attributes[SOURCE_RECORDS_ATTRIBUTE] = records.to_attribute()


def _database_in(path: Path) -> Path:
    if path.is_dir() and (path / _DB_NAME).is_file():
        return path / _DB_NAME
    return path


class CursorParser(SessionParser):
    """Cursor's ``state.vscdb``: one session per composer conversation, newest first."""

    tool: ClassVar[str] = "cursor"

    def detect(self, path: Path, head: bytes) -> Detection | None:
        """SQLite with Cursor's tables (their schema is on the first page, inside ``head``).
        A folder is not claimed: its ``state.vscdb`` is found inside it."""
        if not head.startswith(_SQLITE_MAGIC):
            return None
        named = path.name == _DB_NAME
        if b"cursorDiskKV" in head:
            confidence = 95 if named else 80
            return Detection(self.tool, confidence, "SQLite database with Cursor's cursorDiskKV")
        if b"ItemTable" in head:
            in_cursor = any(part.lower() == "cursor" for part in path.parts)
            confidence = 60 if named and in_cursor else 40 if named or in_cursor else 20
            return Detection(self.tool, confidence, "VS Code-style state database (ItemTable)")
        if named:
            return Detection(self.tool, 30, "named state.vscdb, but without Cursor's tables")
        return None

    def parse(self, path: Path) -> ParseResult:
        """Every composer conversation with messages in the ``state.vscdb`` at ``path`` (or in
        the folder ``path``), the most recently updated first. The sessions are unrelated
        conversations, each primary; see the module docstring for the record accounting."""
        database = _database_in(path)
        if not database.is_file():
            raise SessionParseError(path, "no such database file")
        with database.open("rb") as stream:
            if not stream.read(len(_SQLITE_MAGIC)).startswith(_SQLITE_MAGIC):
                raise SessionParseError(path, "not a SQLite database (no SQLite header)")
        return _sessions(_read_rows(database), database)


PARSER = CursorParser()
