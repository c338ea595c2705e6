"""Amp (Sourcegraph): one JSON document per thread, ``~/.local/share/amp/threads/T-<uuid>.json``.

A thread is ``{v, id: "T-…", created (epoch ms), title, env, messages}``. Each message has a
``role`` (``user``, ``assistant``, ``info``), ``content`` blocks much like Anthropic's (``text``,
``thinking``, ``redacted_thinking``, ``image``, ``tool_use`` ``{id, name, input}``,
``tool_result`` ``{toolUseID, run: {status, result, progress, error}}``, ``summary`` in ``info``
messages), ``meta.sentAt`` (epoch ms), ``usage`` ``{model, inputTokens, outputTokens,
cacheCreationInputTokens, cacheReadInputTokens}`` and ``state`` ``{type, stopReason}``.
``env.initial`` tells the workspace (``trees[].uri``, ``trees[].repository``) and the client
(``platform.client``, ``platform.clientVersion``).

Records: one record per message. Messages are mapped in order; a message without a ``sentAt``
takes the time of the message before it (the thread's ``created`` time for the first). A
message's usage goes on its first event (``input_tokens``, ``output_tokens``,
``cache_creation_input_tokens``, ``cache_read_input_tokens``, ``model``).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse

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
    read_json_document,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type, tool_kind

_THREAD_ID = re.compile(rb'"id"\s*:\s*"T-[0-9A-Za-z-]{6,}"')
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_ROLE = re.compile(rb'"role"\s*:\s*"(?:user|assistant)"')
_ERROR_STATUSES = frozenset({"error", "cancelled", "canceled", "rejected-by-user", "rejected"})
_TOKEN_FIELDS = (
    ("inputTokens", "input_tokens"),
    ("outputTokens", "output_tokens"),
    ("cacheCreationInputTokens", "cache_creation_input_tokens"),
    ("cacheReadInputTokens", "cache_read_input_tokens"),
)
_OUTPUT_KEYS = ("output", "content", "text", "result", "stdout")
_WRITE_TOOLS = frozenset({"create_file", "write", "write_file"})


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _output_text(value: Any) -> str:
    """The text of a tool's result: a string, an object's output field, or JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in _OUTPUT_KEYS:
            if isinstance(value.get(key), str):
                return value[key]
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "\n".join(value)
    if isinstance(value, list) and all(isinstance(part, dict) for part in value):
        texts = [part.get("text") for part in value if isinstance(part.get("text"), str)]
        if texts:
            return "\n".join(texts)
    return orjson.dumps(value).decode()


def _image_block(block: dict[str, Any]) -> m.ImageBlock | None:
    source = block.get("source")
    if not isinstance(source, dict):
        return None
    mime = source.get("media_type") or source.get("mediaType")
    mime = mime if isinstance(mime, str) and mime else "image/png"
    if isinstance(source.get("data"), str):
        return m.ImageBlock(url=f"data:{mime};base64,{source['data']}", mime=mime)
    if isinstance(source.get("url"), str):
        return m.ImageBlock(url=source["url"], mime=mime)
    return None


def _path_from_uri(uri: Any) -> str | None:
    if not isinstance(uri, str) or not uri:
        return None
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path) or None
    return uri


def _environment(thread: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Context attributes from ``env.initial`` (cwd, git, originator) and the client version."""
    env = thread.get("env")
    initial = env.get("initial") if isinstance(env, dict) else None
    if not isinstance(initial, dict):
        return {}, None
    attributes: dict[str, Any] = {}
    trees = initial.get("trees")
    tree = trees[0] if isinstance(trees, list) and trees and isinstance(trees[0], dict) else {}
    cwd = initial.get("cwd") if isinstance(initial.get("cwd"), str) else None
    cwd = cwd or _path_from_uri(tree.get("uri"))
    if cwd:
        attributes["cwd"] = cwd
    repository = tree.get("repository")
    if isinstance(repository, dict):
        ref = repository.get("ref")
        git = {
            "branch": ref.removeprefix("refs/heads/") if isinstance(ref, str) else None,
            "commit_hash": repository.get("sha"),
            "repository_url": repository.get("url"),
        }
        attributes["git"] = {key: value for key, value in git.items() if isinstance(value, str)}
    platform = initial.get("platform")
    platform = platform if isinstance(platform, dict) else {}
    if isinstance(platform.get("client"), str):
        attributes["originator"] = platform["client"]
    version = platform.get("clientVersion")
    return attributes, version if isinstance(version, str) and version else None


class _ThreadBuilder:
    """Events of one thread's messages, in order."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.events: list[m.Event] = []
        self.records = SourceRecords()
        self.warnings: list[ParseWarning] = []
        self.models: Counter[str] = Counter()
        self._time = start
        self._calls: dict[str, tuple[str, m.Event]] = {}
        self._last_call: tuple[str, str | None, m.Event] | None = None
        self._touched_paths: set[str] = set()
        self._message = 0
        self._block = 0

    def _warn(self, reason: str) -> None:
        self.warnings.append(ParseWarning(str(self.path), reason))

    def _event(
        self, event_type: Any, blocks: list[Any], attributes: dict[str, Any] | None = None
    ) -> m.Event:
        self._block += 1
        event = m.Event(
            event_id=f"amp-{self._message}-{self._block}",
            timestamp=self._time,
            event_type=event_type,
            content=m.Content(blocks=blocks),
            attributes=attributes or {},
        )
        self.events.append(event)
        return event

    def add_message(self, number: int, message: Any) -> None:
        """Maps message ``number`` of the thread to its events and accounts for it."""
        self._message, self._block = number, 0
        if not isinstance(message, dict):
            self._warn(f"message {number}: expected a JSON object; skipped")
            self.records.skip("unreadable message")
            return
        meta = message.get("meta")
        sent = meta.get("sentAt") if isinstance(meta, dict) else None
        self._time = parse_timestamp(sent) or self._time
        role = message.get("role")
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if role not in ("user", "assistant", "info"):
            self._warn(f"message {number}: unknown role {role!r}; skipped")
            self.records.skip("unknown role")
            return
        if not isinstance(content, list):
            self._warn(f"message {number}: content is not a list of blocks; skipped")
            self.records.skip("unreadable message")
            return
        before = len(self.events)
        for block in content:
            if isinstance(block, dict):
                self._add_block(role, block)
        produced = self.events[before:]
        if not produced:
            self.records.skip("empty message")
            return
        self.records.mapped += 1
        self._add_usage(message.get("usage"), produced[0], number)
        state = message.get("state")
        if isinstance(state, dict) and isinstance(state.get("type"), str):
            produced[-1].attributes.setdefault("amp.state", state["type"])

    def _add_usage(self, usage: Any, event: m.Event, number: int) -> None:
        if usage is None:
            return
        if not isinstance(usage, dict):
            self._warn(f"message {number}: field 'usage' is not an object; ignored")
            return
        model = usage.get("model")
        if isinstance(model, str) and model:
            self.models[model] += 1
            event.attributes["model"] = model
        for source, target in _TOKEN_FIELDS:
            value = _int(usage.get(source))
            if value:
                event.attributes[target] = value

    def _add_block(self, role: str, block: dict[str, Any]) -> None:
        kind = block.get("type")
        if kind == "text":
            self._add_text(role, _text(block.get("text")))
        elif kind == "thinking":
            thought = _text(block.get("thinking"))
            if thought:
                self._event(m.Thinking(), [m.TextBlock(text=thought)])
        elif kind == "image":
            image = _image_block(block)
            if image is not None:
                self._event(m.UserMessage() if role == "user" else m.AgentMessage(), [image])
        elif kind == "tool_use":
            self._add_call(block)
        elif kind == "tool_result":
            self._add_result(block)
        elif kind == "summary":
            self._add_summary(block.get("summary"))

    def _add_text(self, role: str, text: str) -> None:
        if not text:
            return
        event_type = {"user": m.UserMessage, "assistant": m.AgentMessage}.get(role, m.SystemMessage)
        self._event(event_type(), [m.TextBlock(text=text)])

    def _add_summary(self, summary: Any) -> None:
        text = summary.get("summary") if isinstance(summary, dict) else summary
        if isinstance(text, str) and text.strip():
            self._event(m.SystemMessage(), [m.TextBlock(text=text.strip())], {"amp.summary": True})

    def _add_call(self, block: dict[str, Any]) -> None:
        name = block.get("name") if isinstance(block.get("name"), str) else "unknown"
        arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
        call_id = block.get("id") if isinstance(block.get("id"), str) else None
        path = arguments.get("path") or arguments.get("file_path")
        path = path if isinstance(path, str) else None
        existed = name.lower() in _WRITE_TOOLS and path in self._touched_paths
        event_type = tool_event_type(name, arguments, file_existed=existed)
        if path:
            self._touched_paths.add(path)
        attributes: dict[str, Any] = {"semantic.tool_kind": tool_kind(name) or "tool"}
        if call_id:
            attributes["semantic.call_id"] = call_id
        event = self._event(event_type, tool_call_blocks(event_type, arguments), attributes)
        if call_id:
            self._calls[call_id] = (name, event)
        self._last_call = (name, call_id, event)

    def _paired_call(self, block: dict[str, Any]) -> tuple[str, str | None, m.Event | None]:
        """The name, id and event of the call a result answers: by its id, else the last call."""
        call_id = block.get("toolUseID") or block.get("tool_use_id")
        if isinstance(call_id, str) and call_id:
            name, call = self._calls.get(call_id, ("unknown", None))
            return name, call_id, call
        return self._last_call or ("unknown", None, None)

    def _add_result(self, block: dict[str, Any]) -> None:
        name, call_id, call = self._paired_call(block)
        run = block.get("run")
        if isinstance(run, dict):
            output = run.get("result") if run.get("result") is not None else run.get("progress")
            error = run.get("error")
            if output is None and error is not None:
                output = error.get("message", error) if isinstance(error, dict) else error
            status = run.get("status")
            is_error = (isinstance(status, str) and status in _ERROR_STATUSES) or error is not None
        else:
            output = block.get("content")
            is_error = block.get("is_error") is True
        exit_code = _int(output.get("exitCode")) if isinstance(output, dict) else None
        if exit_code is not None and call is not None:
            if isinstance(call.event_type, m.ShellCommand):
                call.event_type.data.exit_code = exit_code
            is_error = is_error or exit_code != 0
        text = _output_text(output)
        attributes = {"semantic.call_id": call_id} if call_id else {}
        result = m.ToolResult(data=m.ToolResultData(name=name, is_error=is_error, call_id=call_id))
        self._event(result, [m.TextBlock(text=text)] if text else [], attributes)


def _thread(path: Path) -> dict[str, Any]:
    thread = read_json_document(path)
    if not isinstance(thread, dict):
        raise SessionParseError(path, "not an Amp thread (expected a JSON object)")
    if not isinstance(thread.get("messages"), list):
        raise SessionParseError(path, "not an Amp thread (no messages list)")
    return thread


class AmpParser(SessionParser):
    """Amp's thread documents: one session per thread."""

    tool: ClassVar[str] = "amp"

    def detect(self, path: Path, head: bytes) -> Detection | None:
        """A JSON object with a ``T-…`` id and role-tagged messages; ``T-*.json`` alone is a
        weaker hint."""
        if path.is_dir() or not head.lstrip().startswith(b"{"):
            return None
        if _THREAD_ID.search(head) and _MESSAGES.search(head):
            if _ROLE.search(head) or b'"messages": []' in head or b'"messages":[]' in head:
                return Detection(self.tool, 95, "JSON thread with a T- id and role messages")
            return Detection(self.tool, 70, "JSON thread with a T- id and a messages list")
        if path.name.startswith("T-") and path.suffix == ".json":
            return Detection(self.tool, 40, "file named like an Amp thread (T-*.json)")
        return None

    def parse(self, path: Path) -> ParseResult:
        """The thread at ``path`` as one session."""
        thread = _thread(path)
        created = parse_timestamp(thread.get("created"))
        builder = _ThreadBuilder(path, created or datetime.now(UTC))
        for number, message in enumerate(thread["messages"]):
            builder.add_message(number, message)
        events = builder.events
        if not events:
            raise SessionParseError(path, "the thread has no readable messages")
        keep_timestamps_in_order(events)
        thread_id = thread.get("id") if isinstance(thread.get("id"), str) else None
        attributes, version = _environment(thread)
        attributes |= {
            "source_path": str(path),
            "session_role": "primary",
            SOURCE_RECORDS_ATTRIBUTE: builder.records.to_attribute(),
        }
        if isinstance(thread.get("agentMode"), str):
            attributes["amp.agent_mode"] = thread["agentMode"]
        title = _text(thread.get("title"))
        first_user = next((e.text() for e in events if isinstance(e.event_type, m.UserMessage)), "")
        model = builder.models.most_common(1)[0][0] if builder.models else "unknown"
        session = m.Session(
            session_id=thread_id or path.stem,
            agent=m.Agent(
                provider=provider_for_model(model),
                model=model,
                tool=self.tool,
                tool_version=version,
            ),
            context=m.Context(
                title=title or title_from_text(first_user),
                tags=[self.tool],
                created_at=min(filter(None, (created, events[0].timestamp))),
                updated_at=events[-1].timestamp,
                attributes=attributes,
            ),
            events=events,
            stats=compute_stats(events),
        )
        return ParseResult(sessions=[session], warnings=builder.warnings)


PARSER = AmpParser()
