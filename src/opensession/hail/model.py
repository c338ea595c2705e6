"""The HAIL session model, with the reference implementation's field names, tags and nesting.

Every model keeps keys it does not know (``extra="allow"``), and event types and content blocks
with an unknown tag are kept as ``UnknownEventType`` / ``UnknownBlock``: a file written by a newer
version reads and writes back unchanged instead of failing or losing data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

HAIL_VERSION = "hail-1.0.0"


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z``, e.g. ``2026-02-21T00:39:28.356Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


# Any offset and precision is accepted on input (RFC 3339 requires an offset, so naive times are
# refused); output is always UTC milliseconds. Kept as read in memory: no per-event Python call.
Timestamp = Annotated[AwareDatetime, PlainSerializer(format_timestamp, when_used="json")]


def _is_none(value: object) -> bool:
    return value is None


def _is_empty(value: object) -> bool:
    return not value


def _optional() -> Any:
    """A field that is absent from the output when it is ``None``."""
    return Field(default=None, exclude_if=_is_none)


def _omitted_when_empty(factory: type = dict) -> Any:
    return Field(default_factory=factory, exclude_if=_is_empty)


class HailModel(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- Event types: adjacently tagged, {"type": ..., "data": {...}}, exactly as on the wire ---


class UserMessage(HailModel):
    type: Literal["UserMessage"] = "UserMessage"


class AgentMessage(HailModel):
    type: Literal["AgentMessage"] = "AgentMessage"


class SystemMessage(HailModel):
    type: Literal["SystemMessage"] = "SystemMessage"


class Thinking(HailModel):
    type: Literal["Thinking"] = "Thinking"


class NameData(HailModel):
    name: str


class ToolCall(HailModel):
    type: Literal["ToolCall"] = "ToolCall"
    data: NameData


class ToolResultData(HailModel):
    name: str
    is_error: bool = False
    call_id: str | None = _optional()


class ToolResult(HailModel):
    type: Literal["ToolResult"] = "ToolResult"
    data: ToolResultData


class PathData(HailModel):
    path: str


class FileRead(HailModel):
    type: Literal["FileRead"] = "FileRead"
    data: PathData


class QueryData(HailModel):
    query: str


class CodeSearch(HailModel):
    type: Literal["CodeSearch"] = "CodeSearch"
    data: QueryData


class PatternData(HailModel):
    pattern: str


class FileSearch(HailModel):
    type: Literal["FileSearch"] = "FileSearch"
    data: PatternData


class FileEditData(HailModel):
    path: str
    diff: str | None = _optional()


class FileEdit(HailModel):
    type: Literal["FileEdit"] = "FileEdit"
    data: FileEditData


class FileCreate(HailModel):
    type: Literal["FileCreate"] = "FileCreate"
    data: PathData


class FileDelete(HailModel):
    type: Literal["FileDelete"] = "FileDelete"
    data: PathData


class ShellCommandData(HailModel):
    command: str
    exit_code: int | None = _optional()


class ShellCommand(HailModel):
    type: Literal["ShellCommand"] = "ShellCommand"
    data: ShellCommandData


class PromptData(HailModel):
    prompt: str


class ImageGenerate(HailModel):
    type: Literal["ImageGenerate"] = "ImageGenerate"
    data: PromptData


class VideoGenerate(HailModel):
    type: Literal["VideoGenerate"] = "VideoGenerate"
    data: PromptData


class AudioGenerate(HailModel):
    type: Literal["AudioGenerate"] = "AudioGenerate"
    data: PromptData


class WebSearch(HailModel):
    type: Literal["WebSearch"] = "WebSearch"
    data: QueryData


class UrlData(HailModel):
    url: str


class WebFetch(HailModel):
    type: Literal["WebFetch"] = "WebFetch"
    data: UrlData


class TaskStartData(HailModel):
    title: str | None = _optional()


class TaskStart(HailModel):
    type: Literal["TaskStart"] = "TaskStart"
    data: TaskStartData = Field(default_factory=TaskStartData)


class TaskEndData(HailModel):
    summary: str | None = _optional()


class TaskEnd(HailModel):
    type: Literal["TaskEnd"] = "TaskEnd"
    data: TaskEndData = Field(default_factory=TaskEndData)


class CustomData(HailModel):
    kind: str


class Custom(HailModel):
    type: Literal["Custom"] = "Custom"
    data: CustomData


KNOWN_EVENT_TYPES: tuple[type[HailModel], ...] = (
    UserMessage, AgentMessage, SystemMessage, Thinking, ToolCall, ToolResult, FileRead,
    CodeSearch, FileSearch, FileEdit, FileCreate, FileDelete, ShellCommand, ImageGenerate,
    VideoGenerate, AudioGenerate, WebSearch, WebFetch, TaskStart, TaskEnd, Custom,
)  # fmt: skip


def _tag_of(model: type[HailModel]) -> str:
    return model.model_fields["type"].default


def _not_known(known: frozenset[str]) -> AfterValidator:
    """Rejects a known tag, so that a malformed known variant is an error, not an unknown one."""

    def check(tag: str) -> str:
        if tag in known:
            raise ValueError(f"malformed {tag!r}: its fields do not match the HAIL definition")
        return tag

    return AfterValidator(check)


class UnknownEventType(HailModel):
    """An event type this version does not know, kept exactly as read (``data`` and all)."""

    type: Annotated[str, _not_known(frozenset(map(_tag_of, KNOWN_EVENT_TYPES)))]


# The known variants are told apart by pydantic's native discriminator (fast); only a tag it
# does not know falls through, left to right, to the catch-all.
EventType = Annotated[
    Annotated[
        UserMessage | AgentMessage | SystemMessage | Thinking | ToolCall | ToolResult | FileRead
        | CodeSearch | FileSearch | FileEdit | FileCreate | FileDelete | ShellCommand
        | ImageGenerate | VideoGenerate | AudioGenerate | WebSearch | WebFetch | TaskStart
        | TaskEnd | Custom,
        Field(discriminator="type"),
    ]
    | UnknownEventType,
    Field(union_mode="left_to_right"),
]  # fmt: skip


# --- Content blocks: internally tagged by "type" ---


class TextBlock(HailModel):
    type: Literal["Text"] = "Text"
    text: str


class CodeBlock(HailModel):
    type: Literal["Code"] = "Code"
    code: str
    language: str | None = _optional()
    start_line: int | None = _optional()


class ImageBlock(HailModel):
    type: Literal["Image"] = "Image"
    url: str
    alt: str | None = _optional()
    mime: str


class VideoBlock(HailModel):
    type: Literal["Video"] = "Video"
    url: str
    mime: str


class AudioBlock(HailModel):
    type: Literal["Audio"] = "Audio"
    url: str
    mime: str


class FileBlock(HailModel):
    type: Literal["File"] = "File"
    path: str
    content: str | None = _optional()


class JsonBlock(HailModel):
    type: Literal["Json"] = "Json"
    data: Any


class ReferenceBlock(HailModel):
    type: Literal["Reference"] = "Reference"
    uri: str
    media_type: str


KNOWN_BLOCK_TYPES: tuple[type[HailModel], ...] = (
    TextBlock,
    CodeBlock,
    ImageBlock,
    VideoBlock,
    AudioBlock,
    FileBlock,
    JsonBlock,
    ReferenceBlock,
)


class UnknownBlock(HailModel):
    """A content block this version does not know, kept exactly as read."""

    type: Annotated[str, _not_known(frozenset(map(_tag_of, KNOWN_BLOCK_TYPES)))]


ContentBlock = Annotated[
    Annotated[
        TextBlock
        | CodeBlock
        | ImageBlock
        | VideoBlock
        | AudioBlock
        | FileBlock
        | JsonBlock
        | ReferenceBlock,
        Field(discriminator="type"),
    ]
    | UnknownBlock,
    Field(union_mode="left_to_right"),
]


class Content(HailModel):
    blocks: list[ContentBlock] = Field(default_factory=list)


# --- Events, sessions, stats ---


class Event(HailModel):
    event_id: str
    timestamp: Timestamp
    event_type: EventType
    task_id: str | None = _optional()
    content: Content = Field(default_factory=Content)
    duration_ms: int | None = _optional()
    attributes: dict[str, Any] = _omitted_when_empty()

    def text(self) -> str:
        """The event's text blocks joined by blank lines."""
        return "\n\n".join(b.text for b in self.content.blocks if isinstance(b, TextBlock))


class Agent(HailModel):
    provider: str
    model: str
    tool: str
    tool_version: str | None = _optional()


class Context(HailModel):
    title: str | None = _optional()
    description: str | None = _optional()
    tags: list[str] = Field(default_factory=list)
    created_at: Timestamp
    updated_at: Timestamp
    related_session_ids: list[str] = _omitted_when_empty(list)
    attributes: dict[str, Any] = _omitted_when_empty()

    @property
    def is_auxiliary(self) -> bool:
        """A sub-agent session, by the reference's rule: role, then related ids, then parent."""
        role = self.attributes.get("session_role")
        if isinstance(role, str) and role:
            return role == "auxiliary"
        return bool(self.related_session_ids) or bool(self.attributes.get("parent_session_id"))


class Stats(HailModel):
    event_count: int = 0
    message_count: int = 0
    tool_call_count: int = 0
    task_count: int = 0
    duration_seconds: int = 0
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    user_message_count: int = 0
    files_changed: int = 0
    lines_added: int = 0
    lines_removed: int = 0


class Header(HailModel):
    """Everything of a session but its events and stats: the first line of a HAIL JSONL file."""

    version: str = HAIL_VERSION
    session_id: str
    agent: Agent
    context: Context


class Session(Header):
    events: list[Event] = Field(default_factory=list)
    stats: Stats = Field(default_factory=Stats)

    @classmethod
    def assemble(cls, header: Header, events: list[Event], stats: Stats) -> Session:
        """A session from a header (unknown header keys included), its events and stats."""
        return cls(**_fields_of(header), events=events, stats=stats)

    @property
    def header(self) -> Header:
        return Header(**_fields_of(self))


def _fields_of(header: Header) -> dict[str, Any]:
    return {
        **{name: getattr(header, name) for name in Header.model_fields},
        **(header.__pydantic_extra__ or {}),
    }
