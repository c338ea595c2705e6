"""OpenCode sessions: the JSON storage tree, or the SQLite database of OpenCode 1.2+.

The storage tree (``~/.local/share/opencode/storage/``) keeps one JSON file per record:

* ``session/<project>/<session id>.json``: ``id`` (``ses_…``), ``projectID``, ``directory``,
  ``title``, ``version``, ``time.created/updated`` (epoch ms), ``parentID`` for a sub-agent's
  session;
* ``message/<session id>/<message id>.json``: ``role`` (user/assistant), ``time``, ``modelID``
  and ``providerID`` (a user message has them under ``model``), ``tokens`` (``input``,
  ``output``, ``reasoning``, ``cache.read/write``), ``cost``, ``path.cwd``, ``error``;
* ``part/<message id>/<part id>.json``: the content, by ``type``: ``text``, ``reasoning``,
  ``tool`` (``tool``, ``callID``, ``state`` with ``status`` pending/running/completed/error,
  ``input``, ``output``/``error``, ``metadata``, ``time``), ``file``, ``patch`` (``hash``,
  ``files``), ``step-start``, ``step-finish`` (``tokens``, ``cost``), ``snapshot``, ``agent``,
  ``subtask``, ``retry``, ``compaction``.

The database (``~/.local/share/opencode/opencode.db``) has the same records as rows: tables
``session`` (snake_case columns: ``id``, ``project_id``, ``parent_id``, ``directory``, ``title``,
``version``, ``time_created``, ``time_updated``…), ``message`` (``id``, ``session_id``,
``time_created``, ``data``: the message JSON without its ids) and ``part`` (``id``,
``message_id``, ``session_id``, ``data``: the part JSON without its ids). It is opened read-only.

What is parsed: a session file gives that session, then its sub-agent sessions (the sessions of
the same project whose ``parentID`` leads to it) as auxiliary sessions; a storage folder (or the
data folder holding it) and a database give every session, primary sessions first (oldest
first), then the sub-agent sessions.

Mapping: messages in time order, parts in the order they started (a part without a time keeps
its place in id order: ids are time-sortable). A user message is one UserMessage: its text parts
(synthetic and ignored ones skipped) and its file parts as File or Image blocks; an ``@agent``
mention is its ``mentioned_agents`` attribute. In an assistant message, text → AgentMessage,
reasoning → Thinking (encrypted reasoning with no text is skipped), tool → the mapped call event
(``tool_events``; the tool's own diff of an edit, a write to an existing file as an edit, a
shell command's exit code) and a ToolResult when the call completed or failed (a pending or
running call keeps its ``status`` attribute and has no result), patch → Custom ``patch`` listing
the files the step changed (not FileEdits: the files' edits are already the tool calls' events),
subtask/retry/compaction/agent → Custom of that kind, and a message ``error`` → SystemMessage
with ``level: error``. A message's tokens go on its last event, once per message: the sum of its
``step-finish`` parts (one per model call) when it has any, else the message's own ``tokens``.
``input_tokens`` counts the whole prompt (``input`` + cache reads + cache writes);
``output_tokens`` counts ``output``, plus ``reasoning`` when the record's ``total`` shows
``output`` excludes it.

A source record is one JSON file (or one database row) of the session: the session itself
(skipped as "session info": it makes the context, not an event), its messages and their parts.
Parts folded into another record's event (a user message's texts and files, step-finish tokens)
are *merged*, an assistant message whose parts made its events is *merged* into them.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import orjson

from opensession.hail import model as m
from opensession.hail.stats import compute_stats, token_count
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
    collector_paused,
    keep_timestamps_in_order,
    parse_timestamp,
    provider_for_model,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type, tool_kind

TOOL = "opencode"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DATABASE_NAME = re.compile(r"^opencode(-[A-Za-z0-9._-]+)?\.db$")
_PLACEHOLDER_TITLE = re.compile(r"^(New|Child) session - \d{4}-\d{2}-\d{2}T")
_FINISHED = frozenset({"completed", "error"})
_CUSTOM_PARTS = frozenset({"subtask", "retry", "compaction", "agent"})
_QUIET_SKIPS = frozenset({"step-start", "snapshot"})


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- Sources: sessions with their messages and parts, from files or rows ---


@dataclass
class _Message:
    info: dict[str, Any]
    parts: list[dict[str, Any]]


@dataclass
class _SessionData:
    """One session as read: its info, its messages (with parts), and its records that could
    not be used (unreadable, duplicated, belonging to no message), by reason."""

    info: dict[str, Any]
    messages: list[_Message] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def _time_key(info: dict[str, Any]) -> tuple[float, str]:
    time = info.get("time")
    created = time.get("created") if isinstance(time, dict) else None
    number = created if isinstance(created, int | float) and not isinstance(created, bool) else 0
    return (number, str(info.get("id", "")))


def _part_start(part: dict[str, Any]) -> float | None:
    for time in (part.get("time"), _dict(part.get("state")).get("time")):
        start = _dict(time).get("start")
        if isinstance(start, int | float) and not isinstance(start, bool):
            return start
    return None


def _part_order(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parts in the order they started; by id (time-sortable) when they tell no time: a part
    without a time keeps its place after the part before it in id order."""
    by_id = sorted(parts, key=lambda part: str(part.get("id")))
    keyed = []
    latest = float("-inf")
    for index, part in enumerate(by_id):
        start = _part_start(part)
        latest = start if start is not None else latest
        keyed.append((latest, index, part))
    return [part for _, _, part in sorted(keyed, key=lambda item: item[:2])]


def _session_order(sessions: list[_SessionData]) -> list[_SessionData]:
    """Primary sessions first, then sub-agent sessions; each group oldest first."""
    return sorted(sessions, key=lambda s: (bool(s.info.get("parentID")), _time_key(s.info)))


def _read_object(path: Path) -> tuple[dict[str, Any] | None, str]:
    """A JSON file's object, or None and the reason it cannot be read."""
    try:
        value = orjson.loads(path.read_bytes())
    except OSError as exc:
        return None, exc.strerror or str(exc)
    except orjson.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    return value, ""


class _Storage:
    """The JSON storage tree: ``session/``, ``message/`` and ``part/`` under ``root``."""

    def __init__(self, root: Path, warnings: list[ParseWarning]) -> None:
        self.root = root
        self.warnings = warnings

    def read(self, path: Path) -> dict[str, Any] | None:
        """A record file's object, or None (with a warning) when it cannot be read."""
        value, reason = _read_object(path)
        if value is None:
            self.warnings.append(ParseWarning(str(path), reason + "; skipped"))
        return value

    def session_files(self) -> list[Path]:
        return sorted((self.root / "session").glob("*/*.json"))

    def load(self, info: dict[str, Any], session_id: str) -> _SessionData:
        """The session's messages (in time order) with their parts (in id order)."""
        data = _SessionData(info)
        files = sorted((self.root / "message" / session_id).glob("*.json"))
        for path in files:
            message = self.read(path)
            if message is None:
                data.skipped["unreadable record"] += 1
                continue
            message.setdefault("id", path.stem)
            parts = self._parts(str(message["id"]), data.skipped)
            data.messages.append(_Message(message, parts))
        data.messages.sort(key=lambda message: _time_key(message.info))
        return data

    def part_folder(self, message_id: str) -> Path:
        """Where a message's parts are: ``part/<message id>/`` (else ``part/msg_<id>/``)."""
        folder = self.root / "part" / message_id
        prefixed = self.root / "part" / f"msg_{message_id}"
        return prefixed if not folder.is_dir() and prefixed.is_dir() else folder

    def _parts(self, message_id: str, skipped: Counter[str]) -> list[dict[str, Any]]:
        parts: dict[str, dict[str, Any]] = {}
        for path in sorted(self.part_folder(message_id).glob("*.json")):
            part = self.read(path)
            if part is None:
                skipped["unreadable record"] += 1
                continue
            owner = part.get("messageID")
            part_id = str(part.setdefault("id", path.stem))
            if isinstance(owner, str) and owner != message_id:
                reason = f"a part of message {owner!r} in the folder of {message_id!r}; skipped"
                self.warnings.append(ParseWarning(str(path), reason))
                skipped["part of another message"] += 1
            elif part_id in parts:
                self.warnings.append(ParseWarning(str(path), f"a second part {part_id}; skipped"))
                skipped["duplicate part"] += 1
            else:
                parts[part_id] = part
        return _part_order(list(parts.values()))

    def sessions(self) -> list[tuple[Path, dict[str, Any]]]:
        """Every readable session file with its info."""
        found = []
        for path in self.session_files():
            info = self.read(path)
            if info is not None:
                info.setdefault("id", path.stem)
                found.append((path, info))
        return found


class _Database:
    """OpenCode's SQLite database, opened read-only."""

    def __init__(self, path: Path, warnings: list[ParseWarning]) -> None:
        self.path = path
        self.warnings = warnings
        self.connection = _connect(path)

    def close(self) -> None:
        self.connection.close()

    def _json(self, table: str, row_id: str, text: Any) -> dict[str, Any] | None:
        try:
            value = orjson.loads(text)
        except (orjson.JSONDecodeError, TypeError) as exc:
            reason = f"{table} {row_id}: data is not valid JSON ({exc}); skipped"
            self.warnings.append(ParseWarning(str(self.path), reason))
            return None
        if not isinstance(value, dict):
            reason = f"{table} {row_id}: data is not a JSON object; skipped"
            self.warnings.append(ParseWarning(str(self.path), reason))
            return None
        return value

    def sessions(self) -> list[dict[str, Any]]:
        """Every session row, shaped like a session file."""
        cursor = self.connection.cursor()
        cursor.row_factory = sqlite3.Row
        return [_session_info(dict(row)) for row in cursor.execute("SELECT * FROM session")]

    def load(self, info: dict[str, Any]) -> _SessionData:
        data = _SessionData(info)
        session_id = info["id"]
        parts: dict[str, list[dict[str, Any]]] = {}
        query = "SELECT id, message_id, data FROM part WHERE session_id = ? ORDER BY message_id, id"
        for part_id, message_id, text in self.connection.execute(query, (session_id,)):
            part = self._json("part", part_id, text)
            if part is None:
                data.skipped["unreadable record"] += 1
                continue
            part.update(id=part_id, messageID=message_id, sessionID=session_id)
            parts.setdefault(message_id, []).append(part)
        query = "SELECT id, data FROM message WHERE session_id = ? ORDER BY time_created, id"
        for message_id, text in self.connection.execute(query, (session_id,)):
            message = self._json("message", message_id, text)
            if message is None:
                data.skipped["unreadable record"] += 1
                data.skipped["part of a missing message"] += len(parts.pop(message_id, []))
                continue
            message.update(id=message_id, sessionID=session_id)
            data.messages.append(_Message(message, _part_order(parts.pop(message_id, []))))
        data.skipped["part of a missing message"] += sum(map(len, parts.values()))
        return data


def _connect(path: Path) -> sqlite3.Connection:
    """A read-only connection; an immutable one when the database is locked or its WAL is not
    readable (OpenCode may be running)."""
    uri = path.resolve().as_uri()
    connection = sqlite3.connect(f"{uri}?mode=ro", uri=True)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        connection.close()
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    return connection


def _session_info(row: dict[str, Any]) -> dict[str, Any]:
    """A session row in the shape of a session file."""
    info = {
        "id": row.get("id"),
        "projectID": row.get("project_id"),
        "parentID": row.get("parent_id"),
        "directory": row.get("directory"),
        "title": row.get("title"),
        "version": row.get("version"),
        "slug": row.get("slug"),
        "time": {"created": row.get("time_created"), "updated": row.get("time_updated")},
    }
    return {key: value for key, value in info.items() if value is not None}


# --- One session into HAIL ---


def _token_attributes(tokens: Any) -> dict[str, int]:
    """HAIL token attributes of one OpenCode ``tokens`` object (empty when it has none)."""
    if not isinstance(tokens, dict):
        return {}
    cache = tokens.get("cache") if isinstance(tokens.get("cache"), dict) else {}
    counts = {
        "input": token_count(tokens.get("input")) or 0,
        "output": token_count(tokens.get("output")) or 0,
        "reasoning": token_count(tokens.get("reasoning")) or 0,
        "read": token_count(cache.get("read")) or 0,
        "write": token_count(cache.get("write")) or 0,
    }
    prompt = counts["input"] + counts["read"] + counts["write"]
    output = counts["output"]
    if token_count(tokens.get("total")) == prompt + output + counts["reasoning"]:
        output += counts["reasoning"]
    attributes = {"input_tokens": prompt, "output_tokens": output}
    for key, name in (
        ("read", "cache_read_tokens"),
        ("write", "cache_write_tokens"),
        ("reasoning", "reasoning_tokens"),
    ):
        if counts[key]:
            attributes[name] = counts[key]
    return attributes if any(attributes.values()) else {}


def _add_tokens(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


def _file_block(part: dict[str, Any]) -> m.HailModel:
    """A file part as an Image block (an image) or a File block (its path)."""
    url = _string(part.get("url")) or ""
    mime = _string(part.get("mime")) or ""
    name = _string(part.get("filename"))
    if mime.startswith("image/") and url:
        return m.ImageBlock(url=url, mime=mime, alt=name)
    if url.startswith("data:"):
        return m.ReferenceBlock(uri=url, media_type=mime or "application/octet-stream")
    source = _dict(part.get("source"))
    path = _string(source.get("path"))
    if path is None and url.startswith("file://"):
        path = unquote(urlparse(url).path)
    return m.FileBlock(path=path or name or url or "file")


class _SessionMapper:
    """Builds one HAIL session from an OpenCode session's records."""

    def __init__(self, data: _SessionData, source_path: str, warnings: list[ParseWarning]) -> None:
        self.data = data
        self.source_path = source_path
        self.warnings = warnings
        self.events: list[m.Event] = []
        self.records = SourceRecords()
        self.models: Counter[tuple[str, str]] = Counter()
        self.first_user_text: str | None = None
        self.cwd: str | None = None
        self.start = parse_timestamp(_dict(data.info.get("time")).get("created"))

    def _warn(self, reason: str) -> None:
        self.warnings.append(ParseWarning(self.source_path, reason))

    def _time(self, *values: Any) -> datetime:
        for value in values:
            parsed = parse_timestamp(value)
            if parsed is not None:
                return parsed
        if self.events:
            return self.events[-1].timestamp
        return self.start or datetime.fromtimestamp(0, tz=UTC)

    def _add(
        self,
        event_id: str,
        timestamp: datetime,
        event_type: m.HailModel,
        blocks: list[m.HailModel],
        attributes: dict[str, Any] | None = None,
        duration_ms: int | None = None,
    ) -> m.Event:
        event = m.Event(
            event_id=event_id,
            timestamp=timestamp,
            event_type=event_type,
            content=m.Content(blocks=blocks),
            attributes=attributes or {},
            duration_ms=duration_ms,
        )
        self.events.append(event)
        return event

    def session(self) -> m.Session:
        """The HAIL session, its events in order and every record accounted for."""
        self.records.skip("session info")
        self.records.skipped.update(+self.data.skipped)
        for message in self.data.messages:
            role = message.info.get("role")
            if role == "user":
                self._user(message)
            elif role == "assistant":
                self._assistant(message)
            else:
                self._warn(f"message {message.info.get('id')}: unknown role {role!r}; skipped")
                self.records.skip("unknown message role")
                for _ in message.parts:
                    self.records.skip("part of a skipped message")
        keep_timestamps_in_order(self.events)
        return self._assemble()

    def _model(self, info: dict[str, Any]) -> None:
        model_ref = _dict(info.get("model"))
        model = _string(info.get("modelID")) or _string(model_ref.get("modelID"))
        provider = _string(info.get("providerID")) or _string(model_ref.get("providerID"))
        if model:
            weight = 2 if info.get("role") == "assistant" else 1
            self.models[(provider or "", model)] += weight

    def _user(self, message: _Message) -> None:
        """One UserMessage of the message's texts and files; its other parts after it."""
        info = message.info
        self._model(info)
        message_id = str(info.get("id"))
        texts: list[str] = []
        files: list[m.HailModel] = []
        agents: list[str] = []
        others: list[dict[str, Any]] = []
        for part in message.parts:
            kind = part.get("type")
            if kind == "text" and (skip := _text_skip(part)):
                self.records.skip(skip)
            elif kind == "text":
                texts.append(part["text"])
            elif kind == "file":
                files.append(_file_block(part))
            elif kind == "agent" and _string(part.get("name")):
                agents.append(part["name"])
            else:
                others.append(part)
        folded = len(texts) + len(files) + len(agents)
        if texts or files:
            text = "\n\n".join(texts)
            blocks: list[m.HailModel] = [m.TextBlock(text=text)] if text else []
            attributes: dict[str, Any] = {"mentioned_agents": agents} if agents else {}
            timestamp = self._time(_dict(info.get("time")).get("created"))
            self._add(message_id, timestamp, m.UserMessage(), blocks + files, attributes)
            self.first_user_text = self.first_user_text or text or None
            self.records.mapped += 1
            self.records.merged += folded
        else:
            self.records.skip("empty message")
            for _ in range(folded):
                self.records.skip("agent mention without text")
        for part in others:
            self._part(part, message_id)

    def _assistant(self, message: _Message) -> None:
        info = message.info
        self._model(info)
        if self.cwd is None:
            self.cwd = _string(_dict(info.get("path")).get("cwd"))
        message_id = str(info.get("id"))
        before = len(self.events)
        tokens: dict[str, int] = {}
        steps = 0
        for part in message.parts:
            if part.get("type") == "step-finish":
                steps += 1
                _add_tokens(tokens, _token_attributes(part.get("tokens")))
            else:
                self._part(part, message_id)
        if not steps:
            tokens = _token_attributes(info.get("tokens"))
        had_content = len(self.events) > before
        error = self._error(info, message_id)
        produced = self.events[before:]
        if produced and tokens:
            produced[-1].attributes.update(tokens)
        if produced:
            self.records.merged += steps
        else:
            for _ in range(steps):
                self.records.skip("step-finish without events")
        if error:
            self.records.mapped += 1
        elif had_content:
            self.records.merged += 1
        else:
            self.records.skip("message without content")

    def _error(self, info: dict[str, Any], message_id: str) -> bool:
        """A SystemMessage for the message's error, if it has one."""
        error = info.get("error")
        if not isinstance(error, dict):
            return False
        name = _string(error.get("name")) or "error"
        detail = _string(_dict(error.get("data")).get("message")) or name
        time = _dict(info.get("time"))
        timestamp = self._time(time.get("completed"), time.get("created"))
        attributes = {"level": "error", "error_name": name}
        blocks: list[m.HailModel] = [m.TextBlock(text=detail)]
        self._add(f"{message_id}:error", timestamp, m.SystemMessage(), blocks, attributes)
        return True

    def _part(self, part: dict[str, Any], message_id: str) -> None:
        """One part of a message into its events (or accounted for as skipped)."""
        kind = part.get("type")
        part_id = str(part.get("id"))
        start = _dict(part.get("time")).get("start")
        if kind == "text":
            skip = _text_skip(part)
            if skip:
                self.records.skip(skip)
                return
            text = m.TextBlock(text=part["text"])
            self._add(part_id, self._time(start), m.AgentMessage(), [text])
        elif kind == "reasoning":
            text = part.get("text")
            if not isinstance(text, str) or not text.strip():
                self.records.skip("reasoning without text")
                return
            self._add(part_id, self._time(start), m.Thinking(), [m.TextBlock(text=text)])
        elif kind == "tool":
            self._tool(part, part_id)
        elif kind == "file":
            self._add(part_id, self._time(start), m.AgentMessage(), [_file_block(part)])
        elif kind == "patch":
            self._patch(part, part_id, start)
        elif kind in _CUSTOM_PARTS:
            self._custom(part, part_id, str(kind))
        elif kind in _QUIET_SKIPS:
            self.records.skip(str(kind))
            return
        else:
            self._warn(f"message {message_id}: part {part_id} of unknown type {kind!r}; skipped")
            self.records.skip("unknown part type")
            return
        self.records.mapped += 1

    def _patch(self, part: dict[str, Any], part_id: str, start: Any) -> None:
        files = [name for name in part.get("files") or [] if isinstance(name, str)]
        blocks: list[m.HailModel] = [m.FileBlock(path=name) for name in files]
        attributes: dict[str, Any] = {"files": files}
        if hash_ := _string(part.get("hash")):
            attributes["snapshot_hash"] = hash_
        event_type = m.Custom(data=m.CustomData(kind="patch"))
        self._add(part_id, self._time(start), event_type, blocks, attributes)

    def _custom(self, part: dict[str, Any], part_id: str, kind: str) -> None:
        blocks: list[m.HailModel] = []
        attributes: dict[str, Any] = {}
        error = _dict(_dict(part.get("error")).get("data"))
        text = _string(part.get("prompt")) or _string(error.get("message"))
        if text:
            blocks.append(m.TextBlock(text=text))
        for key in ("agent", "description", "command", "name", "attempt", "auto"):
            if isinstance(part.get(key), str | int | bool):
                attributes[key] = part[key]
        time = _dict(part.get("time"))
        timestamp = self._time(time.get("start"), time.get("created"))
        self._add(part_id, timestamp, m.Custom(data=m.CustomData(kind=kind)), blocks, attributes)

    def _tool(self, part: dict[str, Any], part_id: str) -> None:
        name = _string(part.get("tool")) or "tool"
        state = part.get("state")
        if not isinstance(state, dict):
            self._warn(f"part {part_id}: tool {name!r} has no state object")
            state = {}
        status = str(state.get("status") or "unknown").lower()
        args = state.get("input") if isinstance(state.get("input"), dict) else {}
        metadata = _dict(state.get("metadata"))
        call_id = (_string(part.get("callID")) or "").strip() or part_id
        event_type = _call_event_type(name, args, metadata, status)
        time = _dict(state.get("time"))
        start, end = parse_timestamp(time.get("start")), parse_timestamp(time.get("end"))
        duration = int((end - start).total_seconds() * 1000) if start and end else None
        attributes: dict[str, Any] = {
            "semantic.call_id": call_id,
            "source.raw_type": "tool",
            "status": status,
        }
        if (kind := tool_kind(name)) is not None:
            attributes["semantic.tool_kind"] = kind
        if title := _string(state.get("title")):
            attributes["title"] = title
        if child := _string(metadata.get("sessionId")):
            attributes["subagent_session_id"] = child
        call_time = start or self._time()
        blocks = tool_call_blocks(event_type, args)
        self._add(part_id, call_time, event_type, blocks, attributes, duration)
        if status not in _FINISHED:
            return
        result = m.ToolResult(
            data=m.ToolResultData(name=name, is_error=status == "error", call_id=call_id)
        )
        result_attributes = {"semantic.call_id": call_id, "status": status}
        output = _tool_output(state)
        self._add(f"{part_id}:result", end or call_time, result, output, result_attributes)

    def _assemble(self) -> m.Session:
        info = self.data.info
        events = self.events
        time = _dict(info.get("time"))
        created = self.start or (events[0].timestamp if events else datetime.fromtimestamp(0, UTC))
        updated_candidates = [parse_timestamp(time.get("updated")), created]
        if events:
            updated_candidates.append(events[-1].timestamp)
        provider, model = self.models.most_common(1)[0][0] if self.models else ("", "unknown")
        provider = provider or provider_for_model(model)
        title = _string(info.get("title"))
        if title is None or _PLACEHOLDER_TITLE.match(title):
            title = title_from_text(self.first_user_text or "") or title
        attributes: dict[str, Any] = {"source_path": self.source_path}
        if cwd := _string(info.get("directory")) or self.cwd:
            attributes["cwd"] = cwd
        if project := _string(info.get("projectID")):
            attributes["project_id"] = project
        if version := _string(info.get("version")):
            attributes["version"] = version
        if parent := _string(info.get("parentID")):
            attributes["session_role"] = "auxiliary"
            attributes["parent_session_id"] = parent
        else:
            attributes["session_role"] = "primary"
        attributes[SOURCE_RECORDS_ATTRIBUTE] = self.records.to_attribute()
        return m.Session(
            session_id=str(info.get("id")),
            agent=m.Agent(provider=provider, model=model, tool=TOOL, tool_version=version),
            context=m.Context(
                title=title,
                tags=[TOOL],
                created_at=created,
                updated_at=max(t for t in updated_candidates if t is not None),
                attributes=attributes,
            ),
            events=events,
            stats=compute_stats(events),
        )


def _text_skip(part: dict[str, Any]) -> str | None:
    """Why a text part makes no message (synthetic, ignored, empty), or None."""
    if part.get("synthetic") is True:
        return "synthetic text"
    if part.get("ignored") is True:
        return "ignored text"
    text = part.get("text")
    if not isinstance(text, str) or not text.strip():
        return "empty text"
    return None


def _call_event_type(
    name: str, args: dict[str, Any], metadata: dict[str, Any], status: str
) -> m.HailModel:
    """The mapped event of a tool call, with what OpenCode's metadata adds: the edit's own
    diff, whether a written file existed, a finished shell command's exit code."""
    event_type = tool_event_type(name, args, file_existed=metadata.get("exists") is True)
    diff = metadata.get("diff")
    if isinstance(event_type, m.FileEdit) and isinstance(diff, str) and "@@" in diff:
        event_type.data.diff = diff
    exit_code = metadata.get("exit")
    if (
        isinstance(event_type, m.ShellCommand)
        and status in _FINISHED
        and isinstance(exit_code, int)
        and not isinstance(exit_code, bool)
    ):
        event_type.data.exit_code = exit_code
    return event_type


def _tool_output(state: dict[str, Any]) -> list[m.HailModel]:
    """A finished call's output (or error) as text, and its image attachments."""
    texts = [
        text for text in (state.get("output"), state.get("error")) if isinstance(text, str) and text
    ]
    blocks: list[m.HailModel] = [m.TextBlock(text="\n\n".join(texts))] if texts else []
    for attachment in state.get("attachments") or []:
        if isinstance(attachment, dict):
            blocks.append(_file_block(attachment))
    return blocks


# --- Finding what to parse ---


def _storage_root(folder: Path) -> Path | None:
    """The storage tree at ``folder`` or in its ``storage/`` sub-folder."""
    for root in (folder, folder / "storage"):
        if (root / "session").is_dir() and (root / "message").is_dir():
            return root
    return None


def _database_in(folder: Path) -> Path | None:
    try:
        return next((p for p in sorted(folder.iterdir()) if _DATABASE_NAME.match(p.name)), None)
    except OSError:
        return None


def _has_sqlite_magic(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def _is_opencode_database(path: Path) -> bool:
    try:
        connection = _connect(path)
    except sqlite3.Error:
        return False
    try:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
            "('session', 'message', 'part')"
        ).fetchall()
        if len(rows) != 3:
            return False
        columns = {row[1] for row in connection.execute("PRAGMA table_info(part)")}
        return {"message_id", "session_id", "data"} <= columns
    except sqlite3.Error:
        return False
    finally:
        connection.close()


def _is_session_info(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("id"), str)
        and value["id"].startswith("ses")
        and ("projectID" in value or isinstance(value.get("time"), dict))
        and "role" not in value
    )


def _descendants(
    root_id: str, candidates: list[tuple[Path, dict[str, Any]]]
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The sessions whose ``parentID`` chain leads to ``root_id``, parents before children."""
    children: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for path, info in candidates:
        parent = info.get("parentID")
        if isinstance(parent, str):
            children.setdefault(parent, []).append((path, info))
    queue, seen = [root_id], {root_id}
    while queue:
        for path, info in sorted(children.get(queue.pop(0), []), key=lambda c: _time_key(c[1])):
            if info["id"] not in seen:
                seen.add(info["id"])
                queue.append(info["id"])
                yield path, info


class OpenCodeParser(SessionParser):
    """OpenCode's storage tree (a session file or the whole folder) or its SQLite database."""

    tool = TOOL

    def detect(self, path: Path, head: bytes) -> Detection | None:
        if path.is_dir():
            if _storage_root(path) is not None:
                return Detection(TOOL, 95, "OpenCode storage folder (session/, message/, part/)")
            database = _database_in(path)
            if database is not None and _is_opencode_database(database):
                return Detection(TOOL, 90, f"OpenCode data folder with {database.name}")
            return None
        if head.startswith(_SQLITE_MAGIC):
            if _is_opencode_database(path):
                return Detection(TOOL, 95, "OpenCode database (session, message, part tables)")
            return None
        try:
            value = orjson.loads(head)
        except orjson.JSONDecodeError:
            return None
        if _is_session_info(value):
            return Detection(TOOL, 95, "OpenCode session file (ses_ id, project, time)")
        return None

    def parse(self, path: Path) -> ParseResult:
        with collector_paused():
            return self._parse(path)

    def _parse(self, path: Path) -> ParseResult:
        warnings: list[ParseWarning] = []
        if path.is_dir():
            root = _storage_root(path)
            database = None if root else _database_in(path)
            if root is not None:
                sessions = self._parse_storage(root, warnings)
            elif database is not None and _is_opencode_database(database):
                sessions = self._parse_database(database, warnings)
            else:
                raise SessionParseError(path, "no OpenCode storage folder or database in it")
        elif _has_sqlite_magic(path):
            if not _is_opencode_database(path):
                raise SessionParseError(path, "a SQLite database without OpenCode's tables")
            sessions = self._parse_database(path, warnings)
        else:
            sessions = self._parse_session_file(path, warnings)
        if not sessions:
            raise SessionParseError(path, "no OpenCode session in it")
        return ParseResult(sessions=sessions, warnings=warnings)

    def _parse_session_file(self, path: Path, warnings: list[ParseWarning]) -> list[m.Session]:
        storage = _Storage(path.parent.parent.parent, warnings)
        info, reason = _read_object(path)
        if info is None:
            raise SessionParseError(path, reason)
        info.setdefault("id", path.stem)
        if not _is_session_info(info):
            raise SessionParseError(path, "not an OpenCode session file")
        if not (storage.root / "message").is_dir():
            warnings.append(ParseWarning(str(path), "no storage message/ folder beside it"))
        chosen = [(path, info)]
        siblings = [(p, storage.read(p)) for p in sorted(path.parent.glob("*.json")) if p != path]
        readable = [(p, i) for p, i in siblings if i is not None and isinstance(i.get("id"), str)]
        chosen += list(_descendants(info["id"], readable))
        return [
            _SessionMapper(storage.load(i, i["id"]), str(p), warnings).session() for p, i in chosen
        ]

    def _parse_storage(self, root: Path, warnings: list[ParseWarning]) -> list[m.Session]:
        storage = _Storage(root, warnings)
        found = storage.sessions()
        loaded = [storage.load(info, str(info["id"])) for _, info in found]
        paths = {str(info["id"]): str(path) for path, info in found}
        return [
            _SessionMapper(data, paths[str(data.info["id"])], warnings).session()
            for data in _session_order(loaded)
        ]

    def _parse_database(self, path: Path, warnings: list[ParseWarning]) -> list[m.Session]:
        try:
            database = _Database(path, warnings)
        except sqlite3.Error as exc:
            raise SessionParseError(path, f"cannot open the OpenCode database ({exc})") from None
        try:
            loaded = [database.load(info) for info in database.sessions()]
        except sqlite3.Error as exc:
            raise SessionParseError(path, f"cannot read the OpenCode database ({exc})") from None
        finally:
            database.close()
        return [
            _SessionMapper(data, str(path), warnings).session() for data in _session_order(loaded)
        ]


PARSER = OpenCodeParser()
