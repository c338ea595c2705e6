"""Gemini CLI sessions (``~/.gemini/tmp/<project-hash>/chats/session-*.json`` or ``.jsonl``).

Two shapes of the same conversation record are read:

* the JSON document written by older versions: ``{sessionId, projectHash, startTime,
  lastUpdated, summary?, messages: [...]}``, rewritten whole after every change;
* the JSONL log of newer versions, appended to as the session goes: a first line with the
  session's metadata (``sessionId``, ``projectHash``, ``startTime``, ``kind``…), then one line per
  message *version* (a message is written again, with the same ``id``, whenever its tokens or
  tool calls are updated: the last version wins, in the place of the first), ``{"$set": {...}}``
  metadata updates (a ``messages`` list replaces every message) and ``{"$rewindTo": id}``
  markers that drop that message and all later ones. The typed shape the reference reads
  (``{"type": "session_metadata"}``, ``{"type": "message_update", "id", ...}`` and content
  blocks with a ``type``) is accepted too.

Each message has ``id``, ``timestamp``, ``type`` (``user``, ``gemini``, ``info``, ``warning``,
``error``) and ``content`` (a string or a list of Gemini API parts: ``text``, ``thought``,
``functionCall``, ``functionResponse``, ``inlineData``, ``fileData``); ``gemini`` messages add
``thoughts`` (subject/description summaries), ``toolCalls`` (``id``, ``name``, ``args``,
``result`` parts, ``status``, ``resultDisplay``…), ``tokens`` and ``model``.

Mapping: ``user`` → UserMessage (text, images and files as blocks; tool responses in a user turn
become ToolResults unless the call already has its result); ``gemini`` → one Thinking per thought
(subject in bold, then the description), an AgentMessage for the text, and per tool call its
mapped event (``tool_events``) followed by a ToolResult when the call finished (``error`` and
``cancelled`` are errors; a call still scheduled or running keeps its ``status`` attribute and
has no result); ``info``/``warning``/``error`` → SystemMessage with a ``level`` attribute.
Tokens of a ``gemini`` message go on its AgentMessage (else its first event):
``input_tokens`` = prompt + tool-use prompt tokens (the prompt count already includes cached
tokens, also given as ``cached_input_tokens``), ``output_tokens`` = response + thought tokens
(thoughts also given as ``reasoning_tokens``), so that together they make Gemini's ``total``.

A source record is one message of the document, or one line of the JSONL log. A message line
superseded by a later version of the same message is *merged*; metadata lines, rewind markers
and rewound messages are *skipped* with their reason. Sub-agent logs (``chats/<parent session
id>/<id>.jsonl``, ``kind: subagent``) are auxiliary sessions linked to their parent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from opensession.hail import model as m
from opensession.hail.stats import compute_stats, token_count
from opensession.parsers.append_only import AppendOnlyParser
from opensession.parsers.base import (
    SOURCE_RECORDS_ATTRIBUTE,
    Detection,
    ParseResult,
    ParseWarning,
    SessionParseError,
    SourceRecords,
)
from opensession.parsers.common import (
    collector_paused,
    first_json_lines,
    keep_timestamps_in_order,
    parse_timestamp,
    provider_for_model,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type, tool_kind

TOOL = "gemini"
_MESSAGE_TYPES = frozenset({"user", "gemini", "info", "warning", "error"})
_SYSTEM_TYPES = frozenset({"info", "warning", "error"})
_FAILED_STATUSES = frozenset({"error", "cancelled"})
_FINISHED_STATUSES = frozenset({"success"}) | _FAILED_STATUSES
_EXIT_CODE = re.compile(r"^Exit Code: (-?\d+)\s*$", re.MULTILINE)
_MESSAGE_TYPE_IN_HEAD = re.compile(rb'(?<!\\)"type"\s*:\s*"(?:gemini|user|info|error|warning)"')
_MESSAGES_IN_HEAD = re.compile(rb'(?<!\\)"messages"\s*:\s*\[')
_DOCUMENT_KEY_IN_HEAD = re.compile(rb'(?<!\\)"(sessionId|projectHash|startTime|lastUpdated)"\s*:')


# --- Reading the source: records into an ordered set of messages ---


@dataclass
class _Message:
    record: dict[str, Any]
    line: int


@dataclass
class _Outcome:
    """What a message became: ``mapped`` (events), ``merged`` or ``skipped`` (with a reason)."""

    fate: str
    reason: str = ""


class GeminiSessionBuilder:
    """Builds a Gemini session from its records: the JSONL log's lines, or the messages of a
    JSON document (``unit="message"``, numbered from 1)."""

    def __init__(self, path: Path, unit: str = "line") -> None:
        self.path = path
        self.unit = unit
        self.warnings: list[ParseWarning] = []
        self._meta: dict[str, Any] = {}
        self._messages: dict[str, _Message] = {}
        self._carried: dict[int, list[str]] = {}
        """Lines that set messages, with the ids they set."""
        self._other: dict[int, str] = {}
        """Lines that set no message, with their skip reason."""
        self._dropped: dict[int, str] = {}
        """Message lines whose messages were dropped (rewound, replaced), with the reason."""

    def warning(self, number: int, reason: str) -> ParseWarning:
        """A warning naming the line (JSONL) or the message (JSON document)."""
        if self.unit == "line":
            return ParseWarning(str(self.path), reason, number)
        return ParseWarning(str(self.path), f"message {number}: {reason}")

    def warn(self, number: int, reason: str) -> None:
        """Record a warning about record ``number`` (kept by every later ``build``)."""
        self.warnings.append(self.warning(number, reason))

    def skip(self, number: int, reason: str) -> None:
        """Account for record ``number`` as skipped, for ``reason``."""
        self._other[number] = reason

    @property
    def start_time(self) -> datetime | None:
        """The session's start from its metadata."""
        return parse_timestamp(self._meta.get("startTime"))

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        """The session's metadata (a JSON document's top-level keys but ``messages``)."""
        self._meta.update(metadata)

    def add(self, record: dict[str, Any], line: int) -> None:
        """Take one JSONL record: a message version, metadata, an update or a rewind."""
        if isinstance(record.get("$rewindTo"), str):
            self._rewind(record["$rewindTo"])
            self._other[line] = "rewind marker"
        elif isinstance(record.get("$set"), dict):
            self._update(record["$set"], line)
        elif record.get("type") == "session_metadata":
            self._meta.update(record)
            self._other[line] = "session metadata"
        elif record.get("type") == "message_update":
            self._apply_update(record, line)
        elif isinstance(record.get("id"), str) and ("type" in record or "content" in record):
            self.add_message(record, line)
        elif isinstance(record.get("sessionId"), str):
            self._meta.update(record)
            self._other[line] = "session metadata"
        elif record.get("type") in _MESSAGE_TYPES:
            self.add_message(record, line)
        else:
            self._other[line] = "unknown record"
            self.warn(line, "a record that is neither a message nor session metadata; skipped")

    def add_message(self, record: dict[str, Any], line: int) -> None:
        """Take one message (a new one, or a later version of one already taken)."""
        message_id = record.get("id")
        if not isinstance(message_id, str) or not message_id:
            message_id = f"{TOOL}-{line}"
        self._messages[message_id] = _Message(record, line)
        self._carried.setdefault(line, []).append(message_id)

    def _rewind(self, message_id: str) -> None:
        ids = list(self._messages)
        start = ids.index(message_id) if message_id in self._messages else 0
        for removed in ids[start:]:
            self._dropped[self._messages.pop(removed).line] = "rewound"

    def _update(self, changes: dict[str, Any], line: int) -> None:
        messages = changes.get("messages")
        self._meta.update({key: value for key, value in changes.items() if key != "messages"})
        if not isinstance(messages, list):
            self._other[line] = "metadata update"
            return
        previous, self._messages = self._messages, {}
        self._carried[line] = []
        for index, message in enumerate(messages):
            if isinstance(message, dict):
                message_id = message.get("id")
                if not isinstance(message_id, str) or not message_id:
                    message_id = f"{TOOL}-{line}-{index}"
                self._messages[message_id] = _Message(message, line)
                self._carried[line].append(message_id)
            else:
                self.warn(line, f"messages[{index}] of a history update is not an object")
        for message_id, old in previous.items():
            if message_id not in self._messages:
                self._dropped[old.line] = "replaced by a history update"

    def _apply_update(self, record: dict[str, Any], line: int) -> None:
        message_id = record.get("id")
        old = self._messages.get(message_id) if isinstance(message_id, str) else None
        if old is None:
            self._other[line] = "update of an unknown message"
            self.warn(line, f"an update of message {message_id!r}, which is not in the log")
            return
        changes = {key: value for key, value in record.items() if key != "type"}
        self.add_message({**old.record, **changes}, line)

    def quick_reader(self) -> None:
        """Every line of a Gemini log is decoded."""
        return None

    def build(self, *, final: bool = False) -> ParseResult:
        """The session from the records so far (and its sub-agent sessions); callable again.
        Events are made anew on each call: ``final`` changes nothing."""
        if not self._messages and not self._meta and not self._carried:
            raise SessionParseError(self.path, "no Gemini CLI messages or session metadata")
        warnings = list(self.warnings)
        writer = _EventWriter(self, warnings)
        with collector_paused():
            outcomes = {
                message_id: writer.write(message_id, message)
                for message_id, message in self._messages.items()
            }
            session = self._session(writer, self._accounting(outcomes))
        sessions = [session, *self._subagents(session.session_id, warnings)]
        return ParseResult(sessions=sessions, warnings=warnings)

    def _accounting(self, outcomes: dict[str, _Outcome]) -> SourceRecords:
        records = SourceRecords()
        for reason in self._other.values():
            records.skip(reason)
        for line, ids in self._carried.items():
            live = [outcomes[i] for i in ids if self._is_live(i, line)]
            if any(outcome.fate == "mapped" for outcome in live):
                records.mapped += 1
            elif any(outcome.fate == "merged" for outcome in live):
                records.merged += 1
            elif live:
                records.skip(live[0].reason)
            elif line in self._dropped:
                records.skip(self._dropped[line])
            else:
                records.merged += 1
        return records

    def _is_live(self, message_id: str, line: int) -> bool:
        message = self._messages.get(message_id)
        return message is not None and message.line == line

    def _session(self, writer: _EventWriter, records: SourceRecords) -> m.Session:
        meta = self._meta
        events = writer.events
        keep_timestamps_in_order(events)
        start = parse_timestamp(meta.get("startTime"))
        last = parse_timestamp(meta.get("lastUpdated"))
        created = start or (events[0].timestamp if events else writer.fallback_time)
        updated = max(filter(None, [last, events[-1].timestamp if events else None, created]))
        model = writer.models.most_common(1)[0][0] if writer.models else "unknown"
        summary = meta.get("summary")
        title = summary.strip() if isinstance(summary, str) and summary.strip() else None
        session_id = meta.get("sessionId")
        attributes: dict[str, Any] = {"source_path": str(self.path)}
        if isinstance(meta.get("projectHash"), str):
            attributes["project_hash"] = meta["projectHash"]
        if isinstance(meta.get("directories"), list) and meta["directories"]:
            attributes["directories"] = meta["directories"]
        if meta.get("kind") == "subagent":
            attributes["session_role"] = "auxiliary"
            attributes["parent_session_id"] = self.path.parent.name
        else:
            attributes["session_role"] = "primary"
        attributes[SOURCE_RECORDS_ATTRIBUTE] = records.to_attribute()
        return m.Session(
            session_id=session_id if isinstance(session_id, str) and session_id else self.path.stem,
            agent=m.Agent(provider=provider_for_model(model, "google"), model=model, tool=TOOL),
            context=m.Context(
                title=title or writer.first_user_title,
                tags=[TOOL],
                created_at=created,
                updated_at=updated,
                attributes=attributes,
            ),
            events=events,
            stats=compute_stats(events),
        )

    def _subagents(self, session_id: str, warnings: list[ParseWarning]) -> list[m.Session]:
        """Sub-agent logs kept in ``<chats>/<session id>/``, linked to this session."""
        folder = self.path.parent / session_id
        if self._meta.get("kind") == "subagent" or not folder.is_dir():
            return []
        sessions = []
        for child in sorted(folder.glob("*.json*")):
            try:
                result = PARSER.parse(child)
            except SessionParseError as exc:
                warnings.append(ParseWarning(str(child), exc.reason))
                continue
            warnings.extend(result.warnings)
            for sub in result.sessions:
                sub.context.attributes["session_role"] = "auxiliary"
                sub.context.attributes["parent_session_id"] = session_id
                sessions.append(sub)
        return sessions


# --- Messages into events ---


class _EventWriter:
    """Turns messages into HAIL events, remembering what the session-level fields need."""

    def __init__(self, builder: GeminiSessionBuilder, warnings: list[ParseWarning]) -> None:
        self.builder = builder
        self.warnings = warnings
        self.events: list[m.Event] = []
        self.models: Counter[str] = Counter()
        self.first_user_title: str | None = None
        self.fallback_time = _fallback_time(builder)
        self._answered: set[str] = set()

    def _warn(self, message: _Message, reason: str) -> None:
        self.warnings.append(self.builder.warning(message.line, reason))

    def _time(self, value: Any) -> datetime:
        parsed = parse_timestamp(value)
        if parsed is not None:
            return parsed
        return self.events[-1].timestamp if self.events else self.fallback_time

    def _add(
        self,
        event_id: str,
        timestamp: datetime,
        event_type: m.HailModel,
        blocks: list[m.HailModel],
        attributes: dict[str, Any] | None = None,
    ) -> m.Event:
        event = m.Event(
            event_id=event_id,
            timestamp=timestamp,
            event_type=event_type,
            content=m.Content(blocks=blocks),
            attributes=attributes or {},
        )
        self.events.append(event)
        return event

    def write(self, message_id: str, message: _Message) -> _Outcome:
        """Append the events of one message; what the message became."""
        kind = message.record.get("type")
        if kind == "user":
            return self._user(message_id, message)
        if kind == "gemini":
            return self._gemini(message_id, message)
        if kind in _SYSTEM_TYPES:
            return self._system(message_id, message, kind)
        self._warn(message, f"unknown message type {kind!r}; skipped")
        return _Outcome("skipped", f"unknown message type {kind}")

    def _user(self, message_id: str, message: _Message) -> _Outcome:
        record = message.record
        timestamp = self._time(record.get("timestamp"))
        parts = _parts(record.get("content"), lambda reason: self._warn(message, reason))
        display = record.get("displayContent")
        shown = _parts(display, lambda reason: self._warn(message, reason)) if display else parts
        blocks = _content_blocks(shown)
        before = len(self.events)
        if blocks:
            self._add(message_id, timestamp, m.UserMessage(), blocks)
            text = "\n".join(b.text for b in blocks if isinstance(b, m.TextBlock))
            if self.first_user_title is None:
                self.first_user_title = title_from_text(text)
        responses = [part for part in parts if _part_kind(part) == "response"]
        for index, part in enumerate(responses):
            self._function_response(f"{message_id}:response:{index}", timestamp, part)
        if len(self.events) > before:
            return _Outcome("mapped")
        if responses:
            return _Outcome("merged")
        return _Outcome("skipped", "empty message")

    def _system(self, message_id: str, message: _Message, level: str) -> _Outcome:
        record = message.record
        parts = _parts(record.get("content"), lambda reason: self._warn(message, reason))
        blocks = _content_blocks(parts)
        if not blocks:
            return _Outcome("skipped", "empty message")
        timestamp = self._time(record.get("timestamp"))
        self._add(message_id, timestamp, m.SystemMessage(), blocks, {"level": level})
        return _Outcome("mapped")

    def _gemini(self, message_id: str, message: _Message) -> _Outcome:
        record = message.record
        timestamp = self._time(record.get("timestamp"))
        if model := _string(record.get("model")):
            self.models[model] += 1
        before = len(self.events)
        self._thoughts(message_id, message)
        parts = _parts(record.get("content"), lambda reason: self._warn(message, reason))
        reply = self._reply(message_id, timestamp, parts)
        self._calls(message_id, message, timestamp, parts)
        produced = self.events[before:]
        if not produced:
            return _Outcome("skipped", "empty message")
        if record.get("tokens") is not None:
            target = reply or produced[0]
            target.attributes.update(self._tokens(record["tokens"], message))
        return _Outcome("mapped")

    def _reply(
        self, message_id: str, timestamp: datetime, parts: list[dict[str, Any]]
    ) -> m.Event | None:
        """Thought parts as Thinking, then the text (and media) as the AgentMessage."""
        thought_parts = [part for part in parts if _part_kind(part) == "thought"]
        for index, part in enumerate(thought_parts):
            text = m.TextBlock(text=_text_of(part))
            self._add(f"{message_id}:thought-part:{index}", timestamp, m.Thinking(), [text])
        blocks = _content_blocks(parts)
        return self._add(message_id, timestamp, m.AgentMessage(), blocks) if blocks else None

    def _calls(
        self, message_id: str, message: _Message, timestamp: datetime, parts: list[dict[str, Any]]
    ) -> None:
        """The recorded tool calls, then ``functionCall`` parts that no record covers."""
        calls = message.record.get("toolCalls") or []
        if not isinstance(calls, list):
            self._warn(message, "toolCalls is not a list; tool calls skipped")
            calls = []
        for index, call in enumerate(calls):
            if isinstance(call, dict):
                self._tool_call(f"{message_id}:call:{index}", timestamp, call)
            else:
                self._warn(message, f"toolCalls[{index}] is not an object; skipped")
        recorded = {call.get("id") for call in calls if isinstance(call, dict)}
        loose = [_function_call(part) for part in parts if _part_kind(part) == "call"]
        for index, call in enumerate(loose):
            covered = call["id"] in recorded if call["id"] is not None else bool(calls)
            if not covered:
                self._tool_call(f"{message_id}:function-call:{index}", timestamp, call)

    def _thoughts(self, message_id: str, message: _Message) -> None:
        thoughts = message.record.get("thoughts")
        if thoughts is None:
            return
        if not isinstance(thoughts, list):
            self._warn(message, "thoughts is not a list; skipped")
            return
        for index, thought in enumerate(thoughts):
            if not isinstance(thought, dict):
                self._warn(message, f"thoughts[{index}] is not an object; skipped")
                continue
            text = _thought_text(thought)
            if text:
                timestamp = self._time(thought.get("timestamp") or message.record.get("timestamp"))
                event_id = f"{message_id}:thought:{index}"
                self._add(event_id, timestamp, m.Thinking(), [m.TextBlock(text=text)])

    def _tokens(self, tokens: Any, message: _Message) -> dict[str, int]:
        if not isinstance(tokens, dict):
            self._warn(message, "tokens is not an object; token counts skipped")
            return {}
        counts: dict[str, int] = {}
        for key in ("input", "output", "cached", "thoughts", "tool"):
            if key in tokens and tokens[key] is not None:
                value = token_count(tokens[key])
                if value is None:
                    self._warn(message, f"tokens.{key} is not a token count; ignored")
                else:
                    counts[key] = value
        attributes: dict[str, int] = {}
        if "input" in counts or "tool" in counts:
            attributes["input_tokens"] = counts.get("input", 0) + counts.get("tool", 0)
        if "output" in counts or "thoughts" in counts:
            attributes["output_tokens"] = counts.get("output", 0) + counts.get("thoughts", 0)
        if "cached" in counts:
            attributes["cached_input_tokens"] = counts["cached"]
        if "thoughts" in counts:
            attributes["reasoning_tokens"] = counts["thoughts"]
        return attributes

    def _tool_call(self, event_id: str, timestamp: datetime, call: dict[str, Any]) -> None:
        name = _string(call.get("name")) or "tool"
        args = call.get("args") if isinstance(call.get("args"), dict) else {}
        call_id = _string(call.get("id")) or event_id
        display = call.get("resultDisplay")
        event_type = _call_event_type(name, args, display)
        status = _string(call.get("status"))
        output = _result_output(call.get("result"), display)
        if isinstance(event_type, m.ShellCommand) and output.text is not None:
            event_type.data.exit_code = _exit_code(output.text)
        attributes: dict[str, Any] = {"semantic.call_id": call_id, "source.raw_type": "toolCall"}
        if (kind := tool_kind(name)) is not None:
            attributes["semantic.tool_kind"] = kind
        if status:
            attributes["status"] = status
        if description := _string(call.get("description")):
            attributes["description"] = description
        call_time = parse_timestamp(call.get("timestamp")) or timestamp
        self._add(event_id, call_time, event_type, tool_call_blocks(event_type, args), attributes)
        finished = status in _FINISHED_STATUSES or call.get("result") is not None
        if not finished:
            return
        failed = status in _FAILED_STATUSES or output.is_error
        result = m.ToolResult(data=m.ToolResultData(name=name, is_error=failed, call_id=call_id))
        result_attributes: dict[str, Any] = {"semantic.call_id": call_id}
        if status:
            result_attributes["status"] = status
        self._add(f"{event_id}:result", call_time, result, output.blocks, result_attributes)
        self._answered.add(call_id)

    def _function_response(self, event_id: str, timestamp: datetime, part: dict[str, Any]) -> None:
        response = part.get("functionResponse")
        body = response if isinstance(response, dict) else part
        call_id = _string(body.get("id"))
        if call_id is not None and call_id in self._answered:
            return
        name = _string(body.get("name")) or "tool"
        output = _result_output([part], None)
        call_id = call_id or event_id
        result = m.ToolResult(
            data=m.ToolResultData(name=name, is_error=output.is_error, call_id=call_id)
        )
        self._add(event_id, timestamp, result, output.blocks, {"semantic.call_id": call_id})
        self._answered.add(call_id)


def _fallback_time(builder: GeminiSessionBuilder) -> datetime:
    """The session start for records without a time: its metadata, else the file's mtime."""
    if builder.start_time is not None:
        return builder.start_time
    try:
        return datetime.fromtimestamp(builder.path.stat().st_mtime, tz=UTC)
    except OSError:
        return datetime.fromtimestamp(0, tz=UTC)


# --- Parts, tool calls and results ---


def _string(value: Any) -> str | None:
    """``value`` when it is a non-empty string."""
    return value if isinstance(value, str) and value else None


def _parts(content: Any, warn: Callable[[str], None]) -> list[dict[str, Any]]:
    """A message's content as a list of part objects (a string is one text part)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    if isinstance(content, dict):
        return [content]
    if not isinstance(content, list):
        warn(f"content is a {type(content).__name__}, not text or parts; skipped")
        return []
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append({"text": part})
        elif isinstance(part, dict):
            parts.append(part)
        else:
            warn(f"a content part is a {type(part).__name__}; skipped")
    return parts


def _part_kind(part: dict[str, Any]) -> str:
    """``thought``, ``text``, ``call``, ``response``, ``media`` or ``other``."""
    tagged = part.get("type")
    if part.get("thought") is True or tagged == "thinking":
        return "thought"
    if "functionCall" in part or tagged == "functionCall":
        return "call"
    if "functionResponse" in part or tagged == "functionResponse":
        return "response"
    if isinstance(part.get("text"), str):
        return "text"
    if isinstance(part.get("inlineData"), dict) or isinstance(part.get("fileData"), dict):
        return "media"
    return "other"


def _text_of(part: dict[str, Any]) -> str:
    text = part.get("text")
    return text if isinstance(text, str) else ""


def _content_blocks(parts: Iterable[dict[str, Any]]) -> list[m.HailModel]:
    """Text, images and files of a message's parts (tool calls, responses, thoughts apart)."""
    blocks: list[m.HailModel] = []
    texts: list[str] = []
    for part in parts:
        kind = _part_kind(part)
        if kind == "text":
            texts.append(_text_of(part))
        elif kind == "media":
            blocks.append(_media_block(part))
        elif kind == "other" and part:
            blocks.append(m.JsonBlock(data=part))
    text = "".join(texts)
    if text.strip():
        blocks.insert(0, m.TextBlock(text=text))
    return blocks


def _media_block(part: dict[str, Any]) -> m.HailModel:
    """An inline (base64 ``data:`` URL) or referenced file as an image/video/audio/reference."""
    inline = part.get("inlineData")
    if isinstance(inline, dict):
        mime = str(inline.get("mimeType") or "application/octet-stream")
        url = f"data:{mime};base64,{inline.get('data') or ''}"
    else:
        data = part["fileData"]
        mime = str(data.get("mimeType") or "application/octet-stream")
        url = str(data.get("fileUri") or "")
    if mime.startswith("image/"):
        return m.ImageBlock(url=url, mime=mime)
    if mime.startswith("video/"):
        return m.VideoBlock(url=url, mime=mime)
    if mime.startswith("audio/"):
        return m.AudioBlock(url=url, mime=mime)
    return m.ReferenceBlock(uri=url, media_type=mime)


def _thought_text(thought: dict[str, Any]) -> str:
    subject = thought.get("subject")
    description = thought.get("description")
    subject = subject.strip() if isinstance(subject, str) else ""
    description = description.strip() if isinstance(description, str) else ""
    if subject and description:
        return f"**{subject}**\n\n{description}"
    return f"**{subject}**" if subject else description


def _exit_code(output: str) -> int | None:
    """The exit code a shell result reports on its ``Exit Code:`` line (after the output, so the
    last one near the end), or None."""
    codes = _EXIT_CODE.findall(output[-4096:])
    return int(codes[-1]) if codes else None


def _function_call(part: dict[str, Any]) -> dict[str, Any]:
    """A ``functionCall`` part as a tool call record (``id``, ``name``, ``args``)."""
    call = part.get("functionCall")
    body = call if isinstance(call, dict) else part
    return {"id": body.get("id"), "name": body.get("name"), "args": body.get("args")}


def _call_event_type(name: str, args: dict[str, Any], display: Any) -> m.HailModel:
    """The mapped event of a call; the tool's own diff of an edit or write when it shows one."""
    shown = display if isinstance(display, dict) else {}
    existed = isinstance(shown.get("originalContent"), str) and shown.get("isNewFile") is not True
    event_type = tool_event_type(name, args, file_existed=existed)
    diff = shown.get("fileDiff")
    if isinstance(event_type, m.FileEdit) and isinstance(diff, str) and diff.strip():
        event_type.data.diff = diff
    return event_type


@dataclass
class _Output:
    blocks: list[m.HailModel] = field(default_factory=list)
    text: str | None = None
    is_error: bool = False


def _result_output(result: Any, display: Any) -> _Output:
    """A tool's output from its result parts (or its display text when there are none)."""
    texts: list[str] = []
    media: list[m.HailModel] = []
    is_error = False
    for part in _parts(result, lambda _reason: None):
        kind = _part_kind(part)
        if kind == "response":
            text, failed = _response_text(part)
            is_error = is_error or failed
            if text:
                texts.append(text)
        elif kind == "text":
            texts.append(_text_of(part))
        elif kind == "media":
            media.append(_media_block(part))
    if not texts and isinstance(display, str) and display:
        texts.append(display)
    text = "\n".join(texts) if texts else None
    blocks: list[m.HailModel] = [m.TextBlock(text=text)] if text else []
    return _Output(blocks + media, text, is_error)


def _response_text(part: dict[str, Any]) -> tuple[str, bool]:
    """The text of a ``functionResponse`` part, and whether it reports an error."""
    body = part.get("functionResponse")
    body = body if isinstance(body, dict) else part
    response = body.get("response")
    if isinstance(response, str):
        return response, False
    if not isinstance(response, dict):
        return "", False
    for key in ("output", "content", "llmContent"):
        if isinstance(response.get(key), str):
            return response[key], False
    if isinstance(response.get("error"), str):
        return response["error"], True
    return (json.dumps(response, ensure_ascii=False) if response else ""), "error" in response


# --- Detection and parsing ---


def _detect_document(head: bytes) -> Detection | None:
    stripped = head.lstrip()
    if not stripped.startswith(b"{"):
        return None
    try:
        document = orjson.loads(head)
    except orjson.JSONDecodeError:
        document = None
    if isinstance(document, dict):
        messages = document.get("messages")
        if not isinstance(document.get("sessionId"), str) or not isinstance(messages, list):
            return None
        types = {msg.get("type") for msg in messages if isinstance(msg, dict)}
        if types and types <= _MESSAGE_TYPES | {None}:
            return Detection(TOOL, 95, "Gemini CLI session: sessionId and user/gemini messages")
        return Detection(TOOL, 60, "a sessionId and messages document")
    keys = set(_DOCUMENT_KEY_IN_HEAD.findall(head))
    if (
        _MESSAGES_IN_HEAD.search(head)
        and _MESSAGE_TYPE_IN_HEAD.search(head)
        and len(keys) >= 2
        and keys & {b"projectHash", b"startTime"}
    ):
        return Detection(TOOL, 85, "Gemini CLI session document (messages of type gemini)")
    return None


def _detect_log(head: bytes) -> Detection | None:
    records = first_json_lines(head)
    if not records:
        return None
    first = records[0]
    metadata = isinstance(first.get("sessionId"), str) and isinstance(first.get("projectHash"), str)
    if metadata and "messages" not in first:
        return Detection(TOOL, 95, "Gemini CLI JSONL log: session metadata line")
    if first.get("type") == "session_metadata" and isinstance(first.get("sessionId"), str):
        return Detection(TOOL, 90, "Gemini session log: session_metadata line")
    for record in records:
        if (
            isinstance(record.get("id"), str)
            and record.get("type") in {"user", "gemini"}
            and "content" in record
            and not {"message", "uuid", "payload"} & record.keys()
        ):
            return Detection(TOOL, 75, "JSON lines of Gemini CLI messages")
    return None


def _is_document(path: Path) -> bool:
    """A JSON document (the older format) rather than a JSONL log: its first line is not a
    whole JSON object, or is one holding the ``messages`` list."""
    try:
        with path.open("rb") as stream:
            first_line = stream.readline().strip() or stream.readline().strip()
    except OSError as exc:
        raise SessionParseError(path, exc.strerror or str(exc)) from None
    try:
        first = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        return True
    return not isinstance(first, dict) or isinstance(first.get("messages"), list)


def _salvage(text: str, path: Path, warnings: list[ParseWarning]) -> dict[str, Any]:
    """What can be read of a truncated JSON document: its metadata and complete messages."""
    decoder = json.JSONDecoder()
    document: dict[str, Any] = {}
    for key in ("sessionId", "projectHash", "startTime", "lastUpdated", "summary"):
        found = re.search(rf'"{key}"\s*:\s*"((?:[^"\\]|\\.)*)"', text)
        if found:
            document[key] = json.loads(f'"{found.group(1)}"')
    messages: list[Any] = []
    start = re.search(r'"messages"\s*:\s*\[', text)
    position = start.end() if start else len(text)
    while start:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            break
        try:
            message, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        messages.append(message)
    document["messages"] = messages
    reason = f"not complete JSON; read the metadata and {len(messages)} complete message(s)"
    warnings.append(ParseWarning(str(path), reason))
    return document


def _read_document(path: Path, builder: GeminiSessionBuilder) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SessionParseError(path, exc.strerror or str(exc)) from None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        document = _salvage(data.decode("utf-8", "replace"), path, builder.warnings)
        if not document["messages"] and "sessionId" not in document:
            raise SessionParseError(path, "not valid JSON, and no message could be read") from None
    if not isinstance(document, dict):
        raise SessionParseError(path, f"a JSON {type(document).__name__}, not a Gemini session")
    return document


class GeminiParser(AppendOnlyParser):
    """Gemini CLI chat recordings: the JSON document, or the append-only JSONL log."""

    tool = TOOL

    def detect(self, path: Path, head: bytes) -> Detection | None:
        if path.is_dir() or not head:
            return None
        found = _detect_document(head) or _detect_log(head)
        if found is not None:
            return found
        if path.name.startswith("session-") and path.parent.name == "chats":
            return Detection(TOOL, 40, "named like a Gemini CLI chat recording")
        return None

    def new_builder(self, path: Path) -> GeminiSessionBuilder:
        return GeminiSessionBuilder(path)

    def parse(self, path: Path) -> ParseResult:
        with collector_paused():
            return self._parse(path)

    def _parse(self, path: Path) -> ParseResult:
        if not _is_document(path):
            return super().parse(path)
        builder = GeminiSessionBuilder(path, unit="message")
        document = _read_document(path, builder)
        messages = document.get("messages")
        if not isinstance(messages, list):
            raise SessionParseError(path, "no messages list: not a Gemini CLI session")
        builder.set_metadata({k: v for k, v in document.items() if k != "messages"})
        for number, message in enumerate(messages, start=1):
            if isinstance(message, dict):
                builder.add_message(message, number)
            else:
                builder.skip(number, "not a JSON object")
                builder.warn(number, f"a {type(message).__name__}, not a message object; skipped")
        return builder.build()


PARSER = GeminiParser()
