"""``/api/sessions``: upload, list, detail, raw HAIL download, delete.

Public sessions are readable by everyone (anonymous callers only while the public feed is on),
private ones by their uploader alone: to anyone else a private session does not exist (404).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Row

from opensession.server import sessions_store as store
from opensession.server.auth.users import OptionalUser, RequiredUser, User
from opensession.server.context import ServerContext, server_context
from opensession.server.errors import ApiError, forbidden, not_found, unauthorized
from opensession.server.uploads import (
    JSONL_TYPES,
    UploadOptions,
    UploadRequest,
    parse_upload,
    prepare_upload,
    read_body,
)

router = APIRouter(prefix="/api/sessions", tags=["sessions"])
Context = Annotated[ServerContext, Depends(server_context)]
SessionId = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="The id the upload returned (a lower-case UUID).",
    ),
]


class Uploaded(BaseModel):
    id: str
    url: str
    session_score: int
    score_plugin: str


class SessionSummary(BaseModel):
    id: str
    session_id: str
    """The HAIL session id (one stored copy per uploader)."""
    user_id: str | None
    nickname: str | None
    tool: str
    agent_provider: str | None
    agent_model: str | None
    title: str | None
    description: str | None
    tags: list[str] | None
    created_at: datetime
    uploaded_at: datetime
    message_count: int
    task_count: int
    event_count: int
    duration_seconds: int
    total_input_tokens: int
    total_output_tokens: int
    git_remote: str | None
    git_branch: str | None
    git_commit: str | None
    git_repo_name: str | None
    pr_number: int | None
    pr_url: str | None
    working_directory: str | None
    files_modified: list[str] | None
    files_read: list[str] | None
    has_errors: bool
    max_active_agents: int
    session_score: int
    score_plugin: str
    visibility: Literal["public", "private"]


class SessionList(BaseModel):
    sessions: list[SessionSummary]
    total: int
    page: int
    per_page: int


class LinkedSession(BaseModel):
    session_id: str
    linked_session_id: str
    link_type: Literal["handoff", "related", "parent", "child"]
    created_at: datetime


class SessionDetail(SessionSummary):
    linked_sessions: list[LinkedSession]
    body_url: str | None


def require_upload(context: Context) -> None:
    """403 when this deployment takes no uploads (worker profile, or no accounts)."""
    if not context.settings.upload_enabled:
        reason = "the worker profile" if context.settings.profile == "worker" else "no JWT_SECRET"
        raise ApiError(403, "upload_disabled", f"this server takes no uploads ({reason})")


def _json(content: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialized by orjson (times in UTC with ``Z``), skipping FastAPI's
    validation of data the database already holds in shape."""
    body = orjson.dumps(content, option=orjson.OPT_UTC_Z)
    return Response(body, headers=headers, media_type="application/json")


# The JSON form's schema, with its definitions kept beside it and referred to from the
# document's root, as a request body declared by hand must.
_JSON_BODY = "#/paths/~1api~1sessions/post/requestBody/content/application~1json/schema"
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": UploadRequest.model_json_schema(
                    ref_template=_JSON_BODY + "/$defs/{model}"
                )
            },
            **{
                media_type: {"schema": {"type": "string", "description": "A HAIL JSONL file."}}
                for media_type in JSONL_TYPES
            },
        },
    }
}


@router.post(
    "",
    status_code=201,
    dependencies=[Depends(require_upload)],
    openapi_extra=_UPLOAD_BODY,
    responses={200: {"model": Uploaded, "description": "An earlier upload was replaced."}},
)
async def upload_session(
    request: Request,
    response: Response,
    user: RequiredUser,
    context: Context,
    options: Annotated[UploadOptions, Query()],
) -> Uploaded:
    """Upload a HAIL session: JSON ``{"session": ..., options}``, or a HAIL JSONL file with the
    options in the query string. Uploading the same session again replaces it (same id, 200)."""
    body = await read_body(request, context.settings.max_upload_bytes)
    content_type = request.headers.get("content-type", "")
    query = options.model_dump(exclude_unset=True)
    row_id, created, score, plugin = await run_in_threadpool(
        _store_upload, context, user, body, content_type, query
    )
    response.status_code = 201 if created else 200
    base = context.settings.public_url or str(request.base_url).rstrip("/")
    return Uploaded(
        id=row_id, url=f"{base}/session/{row_id}", session_score=score, score_plugin=plugin
    )


def _store_upload(
    context: ServerContext, user: User, body: bytes, content_type: str, query: dict[str, Any]
) -> tuple[str, bool, int, str]:
    session, options = parse_upload(body, content_type, query)
    upload = prepare_upload(session, options, context.settings.score_plugin, datetime.now(UTC))
    row_id, created = store.save_session(context.engine, context.blobs, user.id, upload)
    return row_id, created, upload.summary["session_score"], upload.summary["score_plugin"]


def _require_reader(context: ServerContext, user: User | None) -> None:
    if user is None and not context.settings.public_feed_enabled:
        raise unauthorized("this server has no public feed: sign in to read sessions")


@router.get("", response_model=SessionList)
def list_sessions(
    query: Annotated[store.SessionQuery, Query()], user: OptionalUser, context: Context
) -> Response:
    """A page of sessions: the public ones and the caller's own private ones."""
    _require_reader(context, user)
    rows, total = store.list_sessions(
        context.engine, query, user.id if user else None, datetime.now(UTC)
    )
    page = {"sessions": rows, "total": total, "page": query.page, "per_page": query.per_page}
    return _json(page, headers=_cache_headers(query, user))


def _cache_headers(query: store.SessionQuery, user: User | None) -> dict[str, str]:
    """Anonymous pages of the default feed may be kept by a shared cache for a short while."""
    default_feed = not query.search and query.page <= 10 and query.per_page <= 50
    if user is None and default_feed:
        return {"Cache-Control": "public, max-age=0, s-maxage=30", "Vary": "Authorization"}
    return {"Cache-Control": "private, no-cache", "Vary": "Authorization"}


def _readable(context: ServerContext, user: User | None, session_id: str) -> Row[Any]:
    """The session if the caller may read it; 404 otherwise (and 401 for an anonymous caller
    when there is no public feed)."""
    _require_reader(context, user)
    row = store.find_session(context.engine, session_id)
    if row is None or not (row.is_public or (user is not None and row.user_id == user.id)):
        raise not_found(f"no session {session_id}")
    return row


@router.get("/{session_id}", response_model=SessionDetail)
def get_session(session_id: SessionId, user: OptionalUser, context: Context) -> Response:
    """A session's summary, the sessions it links to and where else its body is kept."""
    row = _readable(context, user, session_id)
    [detail] = store.summaries([row])
    del detail["body_key"]
    detail["linked_sessions"] = store.links_of(context.engine, session_id)
    return _json(detail)


@router.get(
    "/{session_id}/raw",
    response_class=Response,
    responses={200: {"content": {"application/jsonl": {}}, "description": "HAIL JSONL"}},
)
def get_session_body(session_id: SessionId, user: OptionalUser, context: Context) -> Response:
    """The session as the HAIL JSONL file stored (sanitized unless the uploader opted out)."""
    row = _readable(context, user, session_id)
    try:
        body = context.blobs.get(row.body_key)
    except FileNotFoundError:
        raise ApiError(
            500, "body_missing", f"the body of session {session_id} is missing: upload it again"
        ) from None
    disposition = f'attachment; filename="{session_id}.hail.jsonl"'
    return Response(
        body, media_type="application/jsonl", headers={"Content-Disposition": disposition}
    )


@router.delete("/{session_id}", status_code=204, dependencies=[Depends(require_upload)])
def delete_session(session_id: SessionId, user: RequiredUser, context: Context) -> Response:
    """Delete one of your sessions (its links, and its body unless another upload shares it)."""
    row = store.find_session(context.engine, session_id)
    if row is None or not (row.is_public or row.user_id == user.id):
        raise not_found(f"no session {session_id}")
    if row.user_id != user.id:
        raise forbidden("only the uploader can delete a session")
    if not store.delete_session(context.engine, context.blobs, session_id):
        raise not_found(f"no session {session_id}")
    return Response(status_code=204)
