"""Cline (and its forks Roo Code and Kilo Code): one folder per task, ``<tasks>/<taskId>/``.

- ``api_conversation_history.json``: the messages sent to the model, Anthropic-style
  (``role``, ``content`` as a string or ``text``/``image``/``thinking``/``tool_use``/
  ``tool_result`` blocks, sometimes ``modelInfo``; Roo Code adds ``ts``). Older versions write
  tool calls as XML tags in the assistant's text (``<read_file><path>a.py</path></read_file>``,
  ``<thinking>…</thinking>``) and tool results as user text blocks headed
  ``[read_file for 'a.py'] Result:``; the user's own words come in ``<task>``, ``<feedback>``,
  ``<answer>`` or ``<user_message>`` tags, next to ``<environment_details>`` context.
- ``ui_messages.json``: what the panel showed, ``{ts (epoch ms), type: say|ask, say|ask: kind,
  text}``; ``api_req_started`` texts are JSON with ``tokensIn``, ``tokensOut``,
  ``cacheWrites``, ``cacheReads`` and ``cost`` of one model request.
- ``task_metadata.json``: ``files_in_context``, ``model_usage`` (``model_id``,
  ``model_provider_id``, ``mode``, ``ts``) and ``environment_history`` (``cline_version``).

Times and tokens. The API history has no times (except Roo Code's ``ts``); they come from the
UI messages, aligned by order: the n-th ``api_req_started`` is the n-th model request, so it
gives the n-th assistant message its time and token usage, and the user message sent with that
request (the one just before it) the same time; the first user message takes the time of the
``task`` UI message. A message without a time takes the previous event's. Usage goes on the
answer's first event (``input_tokens``, ``output_tokens``, ``cache_creation_input_tokens``,
``cache_read_input_tokens``, ``cost_usd``); reasoning that only the UI kept (providers whose
reasoning the API history leaves out) becomes a Thinking event before its answer.

Records: every element of the API history (mapped, or skipped when it yields no event) and
every UI message. UI messages echoing what the API history already holds (the task, texts,
tool asks, command output…) are merged; an ``api_req_started`` is merged into its assistant
message; errors the model never saw (``error``, ``api_req_failed``…) and requests without an
answer that still used tokens become events of their own; notices and prompts are skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
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
    read_json_document,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type, tool_kind

API_FILE = "api_conversation_history.json"
UI_FILE = "ui_messages.json"
METADATA_FILE = "task_metadata.json"
_TASK_FILES = (API_FILE, UI_FILE, METADATA_FILE)
_VARIANTS = (("rooveterinaryinc.roo-cline", "roo-code"), ("kilocode.kilo-code", "kilo-code"))

# --- Tool calls written as XML in the assistant's text (older versions) ---

_XML_TOOLS = (
    "read_file", "write_to_file", "replace_in_file", "apply_diff", "insert_content",
    "search_and_replace", "execute_command", "search_files", "list_files",
    "list_code_definition_names", "browser_action", "use_mcp_tool", "access_mcp_resource",
    "ask_followup_question", "attempt_completion", "plan_mode_respond", "new_task",
    "load_mcp_documentation", "web_fetch", "web_search", "condense", "summarize_task",
    "report_bug", "new_rule", "switch_mode", "fetch_instructions", "codebase_search",
    "update_todo_list", "focus_chain",
)  # fmt: skip
_OPEN_TAG = re.compile(r"<(thinking|" + "|".join(_XML_TOOLS) + r")>")
_PARAMETER_TAG = re.compile(r"<([a-z_]+)>")
_LONG_PARAMETERS = frozenset({"content", "diff", "result", "response"})
"""Parameters whose value may itself hold tags: they end at the last closing tag."""

# Tools whose "call" is the agent talking: shown as an AgentMessage with this argument's text.
_SPOKEN_TOOLS = {
    "attempt_completion": "result",
    "ask_followup_question": "question",
    "plan_mode_respond": "response",
}
_DIFF_TOOLS = frozenset({"replace_in_file", "apply_diff"})
_WRITE_TOOLS = frozenset({"write_to_file"})

# --- What the user messages carry ---

_RESULT_HEADER = re.compile(r"\[(\w+)(?: for .*?)?\] Result:[ \t]*\n?")
_USER_WORDS = re.compile(r"<(task|feedback|answer|user_message)>\s*(.*?)\s*</\1>", re.S)
_ENVIRONMENT = re.compile(r"<environment_details>.*?(?:</environment_details>|\Z)", re.S)
_WORKING_DIRECTORY = re.compile(r"# Current (?:Working|Workspace) Directory \((.+?)\) Files")
_SYSTEM_PREFIXES = ("[TASK RESUMPTION]", "[ERROR]", "[IMPORTANT", "[NOTE]")
_CONTEXT_PREFIXES = ("# task_progress", "# TODO LIST", "<environment_details>")
_ERROR_RESULT = re.compile(
    r"\s*(?:The tool execution failed|The user denied this operation|Missing value for "
    r"required parameter|<error>|Error:|Error executing)",
    re.I,
)
_EXIT_CODE = re.compile(r"exit code:?\s*(-?\d+)", re.I)

# --- UI messages: echoes of the API history, errors, and what is only shown ---

_UI_ECHOES = frozenset(
    {
        "say:task", "say:text", "say:reasoning", "say:completion_result", "say:user_feedback",
        "say:user_feedback_diff", "say:command", "say:command_output", "say:tool",
        "say:browser_action", "say:browser_action_result", "say:browser_action_launch",
        "say:mcp_server_request_started", "say:mcp_server_response", "say:use_mcp_server",
        "say:subagent", "say:use_subagents", "say:subtask_result", "ask:followup",
        "ask:plan_mode_respond", "ask:act_mode_respond", "ask:command", "ask:command_output",
        "ask:tool", "ask:browser_action_launch", "ask:use_mcp_server", "ask:new_task",
        "ask:condense", "ask:summarize_task", "ask:report_bug", "ask:use_subagents",
        "ask:completion_result",
    }
)  # fmt: skip
_UI_ERRORS = frozenset(
    {
        "say:error", "say:diff_error", "say:clineignore_error", "say:rooignore_error",
        "say:command_permission_denied", "ask:api_req_failed", "ask:mistake_limit_reached",
    }
)  # fmt: skip
_UI_SKIPS = {
    "say:checkpoint_created": "checkpoint",
    "say:api_req_finished": "legacy api_req_finished",
    "say:api_req_retried": "api retry notice",
    "say:api_req_retry_delayed": "api retry notice",
    "say:deleted_api_reqs": "deleted requests notice",
    "ask:resume_task": "resume prompt",
    "ask:resume_completed_task": "resume prompt",
}
_REQUEST = "say:api_req_started"
_TOKEN_FIELDS = (
    ("tokensIn", "input_tokens"),
    ("tokensOut", "output_tokens"),
    ("cacheWrites", "cache_creation_input_tokens"),
    ("cacheReads", "cache_read_input_tokens"),
)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


# --- Parsing assistant text ---


def _parameters(body: str) -> dict[str, str]:
    """The ``<name>value</name>`` parameters of an XML tool call."""
    parameters: dict[str, str] = {}
    position = 0
    while match := _PARAMETER_TAG.search(body, position):
        name = match.group(1)
        closing = f"</{name}>"
        if name in _LONG_PARAMETERS:
            end = body.rfind(closing, match.end())
        else:
            end = body.find(closing, match.end())
        if end < 0:
            parameters[name] = body[match.end() :].strip()
            break
        parameters[name] = body[match.end() : end].strip()
        position = end + len(closing)
    return parameters


def _assistant_pieces(text: str) -> list[tuple[str, Any]]:
    """Assistant text split into ``("text", str)``, ``("thinking", str)`` and
    ``("tool", (name, parameters))`` pieces, in order."""
    pieces: list[tuple[str, Any]] = []
    position = 0
    while match := _OPEN_TAG.search(text, position):
        if text[position : match.start()].strip():
            pieces.append(("text", text[position : match.start()].strip()))
        name = match.group(1)
        closing = f"</{name}>"
        end = text.find(closing, match.end())
        body = text[match.end() : end] if end >= 0 else text[match.end() :]
        position = end + len(closing) if end >= 0 else len(text)
        if name == "thinking":
            pieces.append(("thinking", body.strip()))
        else:
            pieces.append(("tool", (name, _parameters(body))))
    if text[position:].strip():
        pieces.append(("text", text[position:].strip()))
    return pieces


_SEARCH = re.compile(r"^(?:<{3,}|-{3,}) SEARCH>?\s*$")
_DIVIDER = re.compile(r"^={3,}\s*$")
_REPLACE = re.compile(r"^(?:>{3,}|\+{3,}) REPLACE<?\s*$")
_ROO_MARKERS = re.compile(r"^(?::start_line:\s*\d+|:end_line:\s*\d+|-{3,})\s*$")


def _search_replace_edits(diff: str) -> list[dict[str, str]]:
    """The old/new text pairs of SEARCH/REPLACE blocks (Cline's and Roo Code's markers)."""
    edits: list[dict[str, str]] = []
    old: list[str] | None = None
    new: list[str] | None = None
    for line in diff.splitlines():
        if _SEARCH.match(line):
            old, new = [], None
        elif old is not None and new is None and _DIVIDER.match(line):
            new = []
        elif new is not None and _REPLACE.match(line):
            edits.append({"old_string": "\n".join(old or []), "new_string": "\n".join(new)})
            old, new = None, None
        elif new is not None:
            new.append(line)
        elif old is not None and (old or not _ROO_MARKERS.match(line)):
            old.append(line)  # Roo Code's :start_line: and ------- lines open a block
    return edits


# --- UI messages ---


def _ui_kind(message: dict[str, Any]) -> str:
    kind = message.get("type")
    return f"{kind}:{message.get(kind) if kind in ('say', 'ask') else None}"


@dataclass
class _Request:
    """One model request (an ``api_req_started`` UI message)."""

    position: int
    time: datetime | None
    info: dict[str, Any]
    reasoning: list[tuple[int, str]] = field(default_factory=list)
    """The model's reasoning the panel showed (position, text): for providers whose reasoning
    the API history does not keep."""


@dataclass
class _Note:
    """A UI message the API history does not hold, shown as an event of its own."""

    anchor: int
    """How many requests had started when it was shown: it goes after that many answers."""
    position: int
    time: datetime | None
    kind: str
    raw_type: str
    text: str
    attributes: dict[str, Any] = field(default_factory=dict)


class _Ui:
    """The UI messages read once: request times and usage, notes, and their accounting."""

    def __init__(self, messages: list[Any], warn: Callable[[str], None]) -> None:
        self.requests: list[_Request] = []
        self.notes: list[_Note] = []
        self.records = SourceRecords()
        self.task_time: datetime | None = None
        self.times: list[datetime] = []
        self.models: Counter[tuple[str, str | None]] = Counter()
        self._warn = warn
        for position, message in enumerate(messages):
            self._add(position, message)

    def _add(self, position: int, message: Any) -> None:
        if not isinstance(message, dict):
            self._warn(f"{UI_FILE}: message {position} is not a JSON object; skipped")
            self.records.skip("unreadable ui message")
            return
        time = parse_timestamp(message.get("ts"))
        if time is not None:
            self.times.append(time)
        self._add_model(message.get("modelInfo"))
        kind = _ui_kind(message)
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        if kind == _REQUEST:
            self.requests.append(_Request(position, time, self._request_info(position, text)))
        elif message.get("partial") is True:
            self.records.skip("partial ui message")
        elif kind in _UI_SKIPS:
            self.records.skip(_UI_SKIPS[kind])
        elif kind in _UI_ERRORS and text.strip():
            self.notes.append(
                _Note(len(self.requests), position, time, "error", kind, text.strip())
            )
        elif not text.strip() and not message.get("images"):
            self.records.skip("empty ui message")
        elif kind in _UI_ECHOES:
            self.records.merged += 1
            if kind == "say:task" and self.task_time is None:
                self.task_time = time
            if kind == "say:reasoning" and self.requests:
                self.requests[-1].reasoning.append((position, text.strip()))
        else:
            self.records.skip(f"ui {kind.replace(':', ' ')}")

    def _add_model(self, info: Any) -> None:
        if isinstance(info, dict) and isinstance(info.get("modelId"), str):
            provider = info.get("providerId")
            self.models[info["modelId"], provider if isinstance(provider, str) else None] += 1

    def _request_info(self, position: int, text: str) -> dict[str, Any]:
        if not text.strip():
            return {}
        try:
            info = orjson.loads(text)
        except orjson.JSONDecodeError:
            self._warn(f"{UI_FILE}: api_req_started {position} is not JSON; no usage read")
            return {}
        return info if isinstance(info, dict) else {}


def _usage_attributes(info: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for source, target in _TOKEN_FIELDS:
        value = _number(info.get(source))
        if value:
            attributes[target] = int(value)
    cost = _number(info.get("cost"))
    if cost:
        attributes["cost_usd"] = cost
    return attributes


# --- Building the session ---


@dataclass
class _Call:
    name: str
    call_id: str
    event: m.Event


class _TaskBuilder:
    """Events of one task: the API history in order, with the UI's times, usage and notes."""

    def __init__(self, folder: Path, ui: _Ui, start: datetime) -> None:
        self.folder = folder
        self.ui = ui
        self.events: list[m.Event] = []
        self.records = SourceRecords()
        self.warnings: list[ParseWarning] = []
        self.models: Counter[tuple[str, str | None]] = Counter()
        self.cwd: str | None = None
        self._time = start
        self._message = 0
        self._block = 0
        self._answers = 0
        self._next_note = 0
        self._pending: list[_Call] = []
        self._calls: dict[str, _Call] = {}
        self._touched_paths: set[str] = set()

    def warn(self, reason: str) -> None:
        self.warnings.append(ParseWarning(str(self.folder), reason))

    def _event(
        self,
        event_type: Any,
        blocks: list[Any],
        attributes: dict[str, Any] | None = None,
        *,
        event_id: str | None = None,
        time: datetime | None = None,
    ) -> m.Event:
        self._block += 1
        event = m.Event(
            event_id=event_id or f"cline-{self._message}-{self._block}",
            timestamp=time or self._time,
            event_type=event_type,
            content=m.Content(blocks=blocks),
            attributes=attributes or {},
        )
        self.events.append(event)
        return event

    # API history

    def _message_time(self, number: int, message: dict[str, Any]) -> datetime | None:
        own = parse_timestamp(message.get("ts"))
        if own is not None:
            return own
        if number == 0 and self.ui.task_time is not None:
            return self.ui.task_time
        if self._answers < len(self.ui.requests):
            return self.ui.requests[self._answers].time
        return None

    def add_message(self, number: int, message: Any) -> None:
        """Maps element ``number`` of the API history and accounts for it."""
        self._message, self._block = number, 0
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            self.warn(f"{API_FILE}: message {number} has no user/assistant role; skipped")
            self.records.skip("unreadable message")
            return
        self._time = self._message_time(number, message) or self._time
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        before = len(self.events)
        if not isinstance(blocks, list):
            self.warn(f"{API_FILE}: message {number} content is not text or blocks; skipped")
            self.records.skip("unreadable message")
        else:
            self._content(role, [block for block in blocks if isinstance(block, dict)], message)
        produced = self.events[before:]
        if role == "assistant":
            self._answered(produced)
        self._place_notes(self._answers)

    def _content(self, role: str, blocks: list[dict[str, Any]], message: dict[str, Any]) -> None:
        before = len(self.events)
        if role == "assistant":
            self._assistant(blocks, message.get("modelInfo"))
        else:
            self._user(blocks)
        if len(self.events) > before:
            self.records.mapped += 1
        else:
            self.records.skip("empty message")

    def _answered(self, produced: list[m.Event]) -> None:
        """Gives the answer its request's usage (an empty answer leaves it to a note)."""
        if self._answers < len(self.ui.requests):
            request = self.ui.requests[self._answers]
            if produced:
                produced = self._shown_reasoning(request, produced) + produced
                produced[0].attributes.update(_usage_attributes(request.info))
                self.ui.records.merged += 1
            else:
                self._request_note(request, self._answers + 1)
        self._answers += 1

    def _shown_reasoning(self, request: _Request, produced: list[m.Event]) -> list[m.Event]:
        """Thinking events, put before the answer, for reasoning only the UI kept."""
        if any(isinstance(event.event_type, m.Thinking) for event in produced):
            return []
        at = len(self.events) - len(produced)
        thoughts = [
            m.Event(
                event_id=f"cline-ui-{position}",
                timestamp=produced[0].timestamp,
                event_type=m.Thinking(),
                content=m.Content(blocks=[m.TextBlock(text=text)]),
                attributes={"source.raw_type": "say:reasoning"},
            )
            for position, text in request.reasoning
        ]
        self.events[at:at] = thoughts
        return thoughts

    def _request_note(self, request: _Request, anchor: int) -> None:
        usage = _usage_attributes(request.info)
        if not usage:
            self.ui.records.skip("request without answer")
            return
        text = "model request without an answer"
        reason = request.info.get("cancelReason") or request.info.get("streamingFailedMessage")
        if isinstance(reason, str) and reason:
            text += f" ({reason})"
        note = _Note(anchor, request.position, request.time, "api_request", _REQUEST, text, usage)
        order = (note.anchor, note.position)
        notes = self.ui.notes
        at = self._next_note
        while at < len(notes) and (notes[at].anchor, notes[at].position) < order:
            at += 1
        notes.insert(at, note)

    def finish(self) -> None:
        """Places what is left: requests no answer matched, and the last notes."""
        for number in range(self._answers, len(self.ui.requests)):
            self._request_note(self.ui.requests[number], number + 1)
        self._place_notes(len(self.ui.requests) + 1)

    def _place_notes(self, answers: int) -> None:
        notes = self.ui.notes
        while self._next_note < len(notes) and notes[self._next_note].anchor <= answers:
            note = notes[self._next_note]
            self._next_note += 1
            attributes = {"source.raw_type": note.raw_type, **note.attributes}
            event_type = m.Custom(data=m.CustomData(kind=note.kind))
            self._event(
                event_type,
                [m.TextBlock(text=note.text)],
                attributes,
                event_id=f"cline-ui-{note.position}",
                time=note.time,
            )
            self.ui.records.mapped += 1

    # Assistant messages

    def _assistant(self, blocks: list[dict[str, Any]], model_info: Any) -> None:
        self._pending = []
        before = len(self.events)
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                self._assistant_text(_text(block.get("text")))
            elif kind == "thinking":
                self._thinking(_text(block.get("thinking")))
            elif kind == "tool_use":
                name = block.get("name") if isinstance(block.get("name"), str) else "unknown"
                arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
                call_id = block.get("id") if isinstance(block.get("id"), str) else None
                self._call(name, arguments, call_id)
        if isinstance(model_info, dict) and isinstance(model_info.get("modelId"), str):
            provider = model_info.get("providerId")
            model = model_info["modelId"]
            self.models[model, provider if isinstance(provider, str) else None] += 1
            if len(self.events) > before:
                self.events[before].attributes["model"] = model

    def _thinking(self, text: str) -> None:
        if text:
            self._event(m.Thinking(), [m.TextBlock(text=text)])

    def _assistant_text(self, text: str) -> None:
        for kind, piece in _assistant_pieces(text):
            if kind == "text":
                self._event(m.AgentMessage(), [m.TextBlock(text=piece)])
            elif kind == "thinking":
                self._thinking(piece)
            else:
                name, parameters = piece
                self._call(name, parameters, None)

    def _call(self, name: str, arguments: dict[str, Any], call_id: str | None) -> None:
        call_id = call_id or f"cline-{self._message}-{self._block + 1}"
        attributes: dict[str, Any] = {"semantic.call_id": call_id, "source.raw_type": name}
        spoken = _SPOKEN_TOOLS.get(name)
        if spoken is not None:
            text = arguments.get(spoken)
            blocks = [m.TextBlock(text=text.strip())] if isinstance(text, str) and text else []
            event = self._event(m.AgentMessage(), blocks, attributes)
        else:
            mapped = self._mapping_arguments(name, arguments)
            path = arguments.get("path") if isinstance(arguments.get("path"), str) else None
            existed = name in _WRITE_TOOLS and path in self._touched_paths
            event_type = tool_event_type(name, mapped, file_existed=existed)
            if path and tool_kind(name) in ("read", "edit", "write"):
                self._touched_paths.add(path)
            attributes["semantic.tool_kind"] = tool_kind(name) or "tool"
            event = self._event(event_type, tool_call_blocks(event_type, mapped), attributes)
        call = _Call(name, call_id, event)
        self._pending.append(call)
        self._calls[call_id] = call

    @staticmethod
    def _mapping_arguments(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """SEARCH/REPLACE diffs as old/new pairs, so that the edit gets a unified diff."""
        diff = arguments.get("diff")
        if name not in _DIFF_TOOLS or not isinstance(diff, str):
            return arguments
        edits = _search_replace_edits(diff)
        if not edits:
            return arguments
        return {**{k: v for k, v in arguments.items() if k != "diff"}, "edits": edits}

    # User messages

    def _user(self, blocks: list[dict[str, Any]]) -> None:
        index = 0
        while index < len(blocks):
            block = blocks[index]
            kind = block.get("type")
            text = block.get("text") if isinstance(block.get("text"), str) else ""
            header = _RESULT_HEADER.match(text) if kind == "text" else None
            index += 1
            if header is not None:
                outputs = [text[header.end() :]]
                while index < len(blocks) and _continues_result(blocks[index]):
                    outputs.append(blocks[index].get("text") or "")
                    index += 1
                output = "\n".join(part for part in outputs if part.strip())
                self._result(header.group(1), self._pending_call(header.group(1)), output)
            elif kind == "text":
                self._user_text(text)
            elif kind == "tool_result":
                self._native_result(block)
            elif kind == "image":
                self._user_image(block)

    def _pending_call(self, name: str) -> _Call | None:
        for position, call in enumerate(self._pending):
            if call.name == name:
                return self._pending.pop(position)
        return None

    def _user_text(self, text: str) -> None:
        if self.cwd is None and (directory := _WORKING_DIRECTORY.search(text)):
            self.cwd = directory.group(1)
        remaining = _ENVIRONMENT.sub("", text).strip()
        if not remaining or remaining.startswith(_CONTEXT_PREFIXES):
            return
        words = [match.group(2) for match in _USER_WORDS.finditer(remaining)]
        if remaining.startswith(_SYSTEM_PREFIXES):
            notice = _USER_WORDS.sub("", remaining).strip()
            self._event(m.SystemMessage(), [m.TextBlock(text=notice)])
        elif not words:
            words = [remaining]
        for said in words:
            if said.strip():
                self._event(m.UserMessage(), [m.TextBlock(text=said.strip())])

    def _user_image(self, block: dict[str, Any]) -> None:
        source = block.get("source")
        data = source.get("data") if isinstance(source, dict) else None
        if not isinstance(data, str):
            return
        mime = source.get("media_type")
        mime = mime if isinstance(mime, str) and mime else "image/png"
        image = m.ImageBlock(url=f"data:{mime};base64,{data}", mime=mime)
        last = self.events[-1] if self.events else None
        if last is not None and self._block and isinstance(last.event_type, m.UserMessage):
            last.content.blocks.append(image)
        else:
            self._event(m.UserMessage(), [image])

    def _native_result(self, block: dict[str, Any]) -> None:
        call_id = block.get("tool_use_id")
        call = self._calls.get(call_id) if isinstance(call_id, str) else None
        if call is not None and call in self._pending:
            self._pending.remove(call)
        content = block.get("content")
        if isinstance(content, list):
            texts = [part.get("text") for part in content if isinstance(part, dict)]
            content = "\n".join(text for text in texts if isinstance(text, str))
        output = content if isinstance(content, str) else ""
        name = call.name if call is not None else "unknown"
        explicit_id = call_id if isinstance(call_id, str) and call_id else None
        self._result(name, call, output, explicit_id, block.get("is_error") is True)

    def _result(
        self,
        name: str,
        call: _Call | None,
        output: str,
        call_id: str | None = None,
        is_error: bool = False,
    ) -> None:
        call_id = call.call_id if call is not None else call_id
        is_error = is_error or bool(_ERROR_RESULT.match(output))
        code = _EXIT_CODE.search(output) if name == "execute_command" else None
        if (
            code is not None
            and call is not None
            and isinstance(call.event.event_type, m.ShellCommand)
        ):
            call.event.event_type.data.exit_code = int(code.group(1))
            is_error = is_error or code.group(1) != "0"
        attributes = {"semantic.call_id": call_id} if call_id else {}
        data = m.ToolResultData(name=name, is_error=is_error, call_id=call_id)
        text = output.strip()
        self._event(m.ToolResult(data=data), [m.TextBlock(text=text)] if text else [], attributes)
        for match in _USER_WORDS.finditer(output):
            if match.group(2).strip():
                self._event(m.UserMessage(), [m.TextBlock(text=match.group(2).strip())])


def _continues_result(block: dict[str, Any]) -> bool:
    """Whether a user block is more output of the tool result before it."""
    if block.get("type") == "image":
        return True
    text = block.get("text")
    if block.get("type") != "text" or not isinstance(text, str):
        return False
    stripped = text.lstrip()
    return not (_RESULT_HEADER.match(text) or stripped.startswith((*_CONTEXT_PREFIXES, "<task>")))


# --- Reading the task folder ---


def _task_folder(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def _optional_document(path: Path, warn: Callable[[str], None]) -> Any:
    if not path.is_file():
        return None
    try:
        return read_json_document(path)
    except SessionParseError as exc:
        warn(f"{path.name}: {exc.reason}; not used")
        return None


def _variant(folder: Path) -> str | None:
    lowered = str(folder).lower()
    return next((name for marker, name in _VARIANTS if marker in lowered), None)


def _model(builder: _TaskBuilder, metadata: dict[str, Any], ui: _Ui) -> tuple[str, str | None]:
    """The most used model and its provider: the answers', else the metadata's, else the UI's."""
    usage = metadata.get("model_usage")
    declared: Counter[tuple[str, str | None]] = Counter()
    for entry in usage if isinstance(usage, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("model_id"), str):
            provider = entry.get("model_provider_id")
            declared[entry["model_id"], provider if isinstance(provider, str) else None] += 1
    for counter in (builder.models, declared, ui.models):
        if counter:
            return counter.most_common(1)[0][0]
    return "unknown", None


def _tool_version(metadata: dict[str, Any]) -> str | None:
    history = metadata.get("environment_history")
    if isinstance(history, list) and history and isinstance(history[-1], dict):
        version = history[-1].get("cline_version")
        return version if isinstance(version, str) and version else None
    return None


def _files_in_context(metadata: dict[str, Any]) -> list[str]:
    files = metadata.get("files_in_context")
    entries = files if isinstance(files, list) else []
    return [e["path"] for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]


class ClineParser(SessionParser):
    """Cline's (and Roo Code's, Kilo Code's) task folders: one session per task."""

    tool: ClassVar[str] = "cline"

    def detect(self, path: Path, head: bytes) -> Detection | None:
        """A folder holding ``api_conversation_history.json``, or one of its task files."""
        folder = _task_folder(path)
        if path.is_dir() or path.name in _TASK_FILES:
            if (folder / API_FILE).is_file():
                where = "a task folder" if path.is_dir() else f"{path.name} in a task folder"
                return Detection(self.tool, 95, f"{where} with {API_FILE}")
            if path.name in _TASK_FILES and head.lstrip().startswith((b"[", b"{")):
                return Detection(self.tool, 50, f"{path.name} without {API_FILE} beside it")
        return None

    def parse(self, path: Path) -> ParseResult:
        """The task whose folder is ``path`` or holds the file ``path``."""
        folder = _task_folder(path)
        warnings: list[ParseWarning] = []

        def warn(reason: str) -> None:
            warnings.append(ParseWarning(str(folder), reason))

        api_path = folder / API_FILE
        if not api_path.is_file():
            raise SessionParseError(folder, f"no {API_FILE} in the task folder")
        history = read_json_document(api_path)
        if not isinstance(history, list):
            raise SessionParseError(api_path, "expected a JSON list of messages")
        ui_messages = _optional_document(folder / UI_FILE, warn)
        if ui_messages is not None and not isinstance(ui_messages, list):
            warn(f"{UI_FILE}: expected a JSON list; not used")
        ui = _Ui(ui_messages if isinstance(ui_messages, list) else [], warn)
        metadata = _optional_document(folder / METADATA_FILE, warn)
        metadata = metadata if isinstance(metadata, dict) else {}
        start = min(ui.times, default=None) or parse_timestamp(folder.name)
        builder = _TaskBuilder(folder, ui, start or datetime.now(UTC))
        for number, message in enumerate(history):
            builder.add_message(number, message)
        builder.finish()
        if not builder.events:
            raise SessionParseError(folder, "the task has no readable messages")
        session = self._session(folder, builder, ui, metadata)
        return ParseResult(sessions=[session], warnings=warnings + builder.warnings)

    def _session(
        self, folder: Path, builder: _TaskBuilder, ui: _Ui, metadata: dict[str, Any]
    ) -> m.Session:
        events = builder.events
        keep_timestamps_in_order(events)
        records = builder.records
        records.merged += ui.records.merged
        records.mapped += ui.records.mapped
        records.skipped.update(ui.records.skipped)
        attributes: dict[str, Any] = {
            "source_path": str(folder),
            "session_role": "primary",
            SOURCE_RECORDS_ATTRIBUTE: records.to_attribute(),
        }
        if builder.cwd:
            attributes["cwd"] = builder.cwd
        if variant := _variant(folder):
            attributes["variant"] = variant
        if files := _files_in_context(metadata):
            attributes["files_in_context"] = files
        model, provider = _model(builder, metadata, ui)
        first_user = next((e.text() for e in events if isinstance(e.event_type, m.UserMessage)), "")
        return m.Session(
            session_id=folder.name,
            agent=m.Agent(
                provider=provider or provider_for_model(model),
                model=model,
                tool=self.tool,
                tool_version=_tool_version(metadata),
            ),
            context=m.Context(
                title=title_from_text(first_user),
                tags=[self.tool],
                created_at=min([events[0].timestamp, *ui.times]),
                updated_at=max([events[-1].timestamp, *ui.times]),
                attributes=attributes,
            ),
            events=events,
            stats=compute_stats(events),
        )


PARSER = ClineParser()
