"""Session uploads: the size-capped body, its two forms, the checks and the summary row.

An upload is either JSON, ``{"session": HAIL, ...options}``, or a HAIL JSONL file
(``application/x-ndjson`` or ``application/jsonl``) with the options in the query string; query
options apply to a JSON upload too, and its body's own options win. The session is validated,
its stats are recomputed from its events (a client cannot inflate them), and it is sanitized
unless the uploader opts out; what is stored is the HAIL JSONL of that session, and the summary
row is derived from it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Annotated, Any, Literal

import orjson
from fastapi import Request
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from opensession.hail import HailFormatError, HailReader, Session, dumps_session
from opensession.hail.errors import describe_validation_error
from opensession.hail.metrics import has_errors, max_active_agents
from opensession.hail.model import FileCreate, FileDelete, FileEdit, FileRead, UserMessage
from opensession.hail.sanitize import redact_text, sanitize_session
from opensession.hail.scoring import UnknownScorePluginError, get_score_plugin
from opensession.hail.stats import compute_stats
from opensession.hail.validate import validate_session
from opensession.server.errors import ApiError, bad_request

JSONL_TYPES = ("application/x-ndjson", "application/jsonl")

# Column limits of the ``sessions`` and ``session_links`` tables (PostgreSQL enforces them).
_ID_LENGTH = 200
_NAME_LENGTH = 64
_MODEL_LENGTH = 200
_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
# Summary fields shown on every feed page: bounded, whatever the session holds (its body keeps
# them whole).
_FILES_LIMIT = 500
_TITLE_LIMIT = 1000
_DESCRIPTION_LIMIT = 4000
_TAGS_LIMIT = 50
_TAG_LENGTH = 100
_SEARCH_TEXT_LIMIT = 2000
_SEARCHED_MESSAGES = 3
_REPOSITORY = re.compile(r"[:/]([^/:]+/[^/]+?)(?:\.git)?/?$")


def no_nul(text: str) -> str:
    """``text``, if PostgreSQL can hold it (ValueError for a NUL character)."""
    if "\x00" in text:
        raise ValueError("must not contain a NUL character")
    return text


def _web_address(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// URL")
    return url


Url = Annotated[str, Field(max_length=2048), AfterValidator(no_nul)]
WebUrl = Annotated[Url, AfterValidator(_web_address)]
Label = Annotated[str, Field(max_length=256), AfterValidator(no_nul)]
Name = Annotated[str, Field(max_length=_NAME_LENGTH), AfterValidator(no_nul)]
LinkedId = Annotated[str, Field(min_length=1, max_length=_ID_LENGTH), AfterValidator(no_nul)]


class UploadOptions(BaseModel):
    """How to store an uploaded session: visibility, redaction, scoring and git/PR context."""

    body_url: WebUrl | None = None
    linked_session_ids: list[LinkedId] = Field(default_factory=list, max_length=100)
    git_remote: Url | None = None
    git_branch: Label | None = None
    git_commit: Name | None = None
    git_repo_name: Label | None = None
    pr_number: int | None = Field(default=None, ge=1, le=_INT32_MAX)
    pr_url: WebUrl | None = None
    score_plugin: Name | None = None
    visibility: Literal["public", "private"] = "public"
    sanitize: bool = Field(
        default=True, description="Redact secrets before storing; false stores the session as is."
    )


class UploadRequest(UploadOptions):
    """The JSON form of an upload: the session as a JSON object, and the options beside it."""

    session: Session


@dataclass(frozen=True)
class PreparedUpload:
    """What storing an upload writes: the HAIL JSONL body, the summary row and the links."""

    session_id: str
    body: bytes
    body_key: str
    """The body's key in the blob store (its sha256)."""
    summary: dict[str, Any]
    links: list[tuple[str, str]]
    """(linked HAIL session id, link type), each id once."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed ``limit`` bytes: by
    its ``Content-Length`` before a byte is read, else while it streams in."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the upload is larger than this server accepts ({limit} bytes, "
        "OPENSESSION_MAX_UPLOAD_BYTES)",
    )


def parse_upload(
    body: bytes, content_type: str, query_options: dict[str, Any]
) -> tuple[Session, UploadOptions]:
    """The session and options of an upload body (JSON or HAIL JSONL); 400 naming the field or
    line that is wrong, 415 for another content type."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        raise bad_request("the body is empty: send a HAIL session", code="invalid_session")
    if media_type in JSONL_TYPES:
        return _parse_jsonl(body), _validated(UploadOptions, query_options)
    if media_type not in ("", "application/json"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send application/json or HAIL JSONL ({', '.join(JSONL_TYPES)}), not {media_type}",
        )
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not JSON: {exc}", code="invalid_json") from None
    if not isinstance(document, dict) or "session" not in document:
        raise bad_request(
            'the body must be a JSON object {"session": HAIL, ...}, or HAIL JSONL sent as '
            "application/x-ndjson",
            code="invalid_session",
        )
    upload = _validated(UploadRequest, {**query_options, **document})
    return upload.session, upload


def _validated(model: type[UploadOptions], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problem = describe_validation_error(exc)
        code = "invalid_session" if problem.startswith("session") else "invalid_request"
        raise bad_request(problem, code=code) from None


def _parse_jsonl(body: bytes) -> Session:
    try:
        reader = HailReader(BytesIO(body), "upload", strict=True, on_warning=lambda _: None)
        events = list(reader)
    except HailFormatError as exc:
        raise bad_request(str(exc), code="invalid_hail") from None
    return Session.assemble(reader.header, events, reader.stats())


def prepare_upload(
    session: Session, options: UploadOptions, default_score_plugin: str, now: datetime
) -> PreparedUpload:
    """Check, sanitize, score and summarize an uploaded session; 400 for one that cannot be
    stored (HAIL validation errors, values the database cannot hold, an unknown score plugin)."""
    _check_storable(session)
    session = session.model_copy(update={"stats": compute_stats(session.events)})
    if options.sanitize:
        session, _ = sanitize_session(session)
        urls = {name: getattr(options, name) for name in ("body_url", "git_remote", "pr_url")}
        redacted = {name: redact_text(url)[0] for name, url in urls.items() if url}
        options = options.model_copy(update=redacted)
    plugin_name = options.score_plugin or default_score_plugin
    try:
        plugin = get_score_plugin(plugin_name)
    except UnknownScorePluginError as exc:
        raise bad_request(str(exc), code="unknown_score_plugin") from None
    body = dumps_session(session)
    summary = _summary(session, options, now)
    summary |= {
        "session_score": plugin.score(session),
        "score_plugin": plugin_name,
        "body_size": len(body),
    }
    key = hashlib.sha256(body).hexdigest()
    return PreparedUpload(session.session_id, body, key, summary, _links(session, options))


def _check_storable(session: Session) -> None:
    errors = [finding for finding in validate_session(session) if finding.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise bad_request(f"invalid HAIL session: {errors[0].message}{more}", "invalid_session")
    for field, value, limit in (
        ("session_id", session.session_id, _ID_LENGTH),
        ("agent.tool", session.agent.tool, _NAME_LENGTH),
        ("agent.provider", session.agent.provider, _NAME_LENGTH),
        ("agent.model", session.agent.model, _MODEL_LENGTH),
    ):
        if len(value) > limit:
            raise bad_request(f"{field}: at most {limit} characters", "invalid_session")
    if "\x00" in session.session_id:
        raise bad_request("session_id: must not contain a NUL character", "invalid_session")
    times = [("context.created_at", session.context.created_at)]
    times += [(f"events.{index}.timestamp", e.timestamp) for index, e in enumerate(session.events)]
    for field, value in times:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise bad_request(f"{field}: out of range in UTC", "invalid_session") from None


def _summary(session: Session, options: UploadOptions, now: datetime) -> dict[str, Any]:
    """The summary columns a session gives (score, body and URLs aside)."""
    context = session.context
    attributes = context.attributes
    git = attributes.get("git") if isinstance(attributes.get("git"), dict) else {}
    git_remote = options.git_remote or _clean(_string(git.get("repository_url")))
    stats = session.stats
    modified = [e.event_type.data.path for e in session.events if _is_change(e.event_type)]
    read = [e.event_type.data.path for e in session.events if isinstance(e.event_type, FileRead)]
    summary: dict[str, Any] = {
        "session_id": session.session_id,
        "is_public": options.visibility == "public",
        "tool": _clean(session.agent.tool),
        "agent_provider": _clean(session.agent.provider),
        "agent_model": _clean(session.agent.model),
        "title": _clean(context.title, _TITLE_LIMIT),
        "description": _clean(context.description, _DESCRIPTION_LIMIT),
        "tags": [_clean(tag, _TAG_LENGTH) for tag in context.tags[:_TAGS_LIMIT]],
        "created_at": context.created_at,
        "uploaded_at": now,
        "message_count": min(stats.message_count, _INT32_MAX),
        "task_count": min(stats.task_count, _INT32_MAX),
        "event_count": min(stats.event_count, _INT32_MAX),
        "duration_seconds": min(stats.duration_seconds, _INT32_MAX),
        "total_input_tokens": min(stats.total_input_tokens, _INT64_MAX),
        "total_output_tokens": min(stats.total_output_tokens, _INT64_MAX),
        "git_remote": git_remote,
        "git_branch": options.git_branch or _clean(_string(git.get("branch"))),
        "git_commit": options.git_commit or _clean(_string(git.get("commit_hash")), _NAME_LENGTH),
        "git_repo_name": options.git_repo_name or _repository_name(git_remote),
        "pr_number": options.pr_number,
        "pr_url": options.pr_url,
        "body_url": options.body_url,
        "working_directory": _clean(
            _string(attributes.get("cwd")) or _string(attributes.get("working_directory"))
        ),
        "files_modified": list(dict.fromkeys(modified))[:_FILES_LIMIT],
        "files_read": list(dict.fromkeys(read))[:_FILES_LIMIT],
        "has_errors": has_errors(session.events),
        "max_active_agents": max_active_agents(session.events),
    }
    summary["search_text"] = _search_text(session, summary)
    return summary


def _is_change(kind: object) -> bool:
    return isinstance(kind, FileEdit | FileCreate | FileDelete)


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _clean(text: str | None, max_length: int | None = None) -> str | None:
    """``text`` fit for a database column: no NUL (PostgreSQL refuses it), at most
    ``max_length`` characters."""
    if text is None:
        return None
    return text.replace("\x00", "")[:max_length]


def _repository_name(remote: str | None) -> str | None:
    """``owner/repo`` of a git remote URL (``https://host/owner/repo.git``, ``git@host:o/r``)."""
    match = _REPOSITORY.search(remote or "")
    return match.group(1) if match else None


def _search_text(session: Session, summary: dict[str, Any]) -> str:
    """What ``search`` matches, lower-cased: title, description, tags, tool, model, repository
    and the first user messages; bounded, so a search reads little per session."""
    messages = [e.text() for e in session.events if isinstance(e.event_type, UserMessage)]
    parts = [
        summary["title"],
        summary["description"],
        *session.context.tags,
        summary["tool"],
        summary["agent_provider"],
        summary["agent_model"],
        summary["git_repo_name"],
        summary["git_branch"],
        *messages[:_SEARCHED_MESSAGES],
    ]
    text = " ".join(part for part in parts if part).lower()
    return _clean(text, _SEARCH_TEXT_LIMIT) or ""


def _links(session: Session, options: UploadOptions) -> list[tuple[str, str]]:
    """The sessions this one names: handoffs the upload lists, its parent, its related ones."""
    named = [(linked, "handoff") for linked in options.linked_session_ids]
    parent = _string(session.context.attributes.get("parent_session_id"))
    if parent:
        named.append((parent, "parent"))
    named += [(related, "related") for related in session.context.related_session_ids]
    links: dict[str, str] = {}
    for linked, link_type in named:
        if linked == session.session_id or linked in links:
            continue
        if len(linked) > _ID_LENGTH or "\x00" in linked:
            raise bad_request(
                f"linked session id {linked[:40]!r}…: at most {_ID_LENGTH} characters, no NUL",
                "invalid_session",
            )
        links[linked] = link_type
    return list(links.items())
