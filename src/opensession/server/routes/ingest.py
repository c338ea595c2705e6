"""``/api/ingest/preview``: parse a session file from GitHub or inline content, store nothing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from opensession.hail.model import Session
from opensession.server.context import ServerContext, server_context
from opensession.server.errors import ApiError, bad_request
from opensession.server.ingest.github import fetch_github_file, github_file
from opensession.server.ingest.inline import decode_inline_content
from opensession.server.ingest.preview import candidate_list, preview_session

router = APIRouter(prefix="/api/ingest", tags=["ingest"])
Context = Annotated[ServerContext, Depends(server_context)]


class GithubSource(BaseModel):
    """A file of a GitHub repository at a branch, tag or commit."""

    kind: Literal["github"]
    owner: str = Field(max_length=39)
    repo: str = Field(max_length=100)
    ref: str = Field(max_length=255)
    path: str = Field(max_length=1024)


class GitSource(BaseModel):
    """A file of any git remote: a source kind of the reference that this server refuses."""

    kind: Literal["git"]
    remote: str | None = None
    ref: str | None = None
    path: str | None = None


class InlineSource(BaseModel):
    """A file's content sent in the request, base64-encoded, with its file name."""

    kind: Literal["inline"]
    filename: str = Field(min_length=1, max_length=255)
    content_base64: str


class InlineSourceEcho(BaseModel):
    """An inline source as the response names it (its content is not sent back)."""

    kind: Literal["inline"]
    filename: str


class PreviewRequest(BaseModel):
    source: Annotated[GithubSource | GitSource | InlineSource, Field(discriminator="kind")]
    parser_hint: str | None = Field(default=None, max_length=64)
    """A parser to try first (``hail`` or a tool name: ``codex``, ``claude-code`` …)."""


class ParserCandidate(BaseModel):
    id: str
    confidence: int = Field(ge=0, le=100)
    reason: str


class PreviewResponse(BaseModel):
    parser_used: str
    parser_candidates: list[ParserCandidate]
    session: Session
    source: GithubSource | InlineSourceEcho
    warnings: list[str]
    native_adapter: str | None = Field(default=None, exclude_if=lambda value: value is None)
    """The tool whose own format was parsed; absent when the source was HAIL already."""


class PreviewError(BaseModel):
    code: str
    message: str
    parser_candidates: list[ParserCandidate] = Field(default_factory=list)


def require_ingest_preview(context: Context) -> None:
    """403 for the preview where the profile has no ingest (the read-only worker)."""
    if not context.settings.ingest_preview_enabled:
        raise ApiError(403, "ingest_disabled", "ingest preview is disabled on this server")


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": PreviewError} for status in (400, 403, 404, 413, 422, 504)
}


@router.post(
    "/preview",
    dependencies=[Depends(require_ingest_preview)],
    response_model=PreviewResponse,
    responses=_ERRORS,
)
async def preview(body: PreviewRequest, context: Context) -> Response:
    """Parse one session file, fetched from GitHub or sent inline, into a HAIL session; the
    parser is detected from the content unless ``parser_hint`` names one. Nothing is stored."""
    settings = context.settings
    source = body.source
    echo: GithubSource | InlineSourceEcho
    if isinstance(source, GitSource):
        raise bad_request(
            "source.kind: only github and inline sources are supported by this server",
            code="unsupported_source",
        )
    if isinstance(source, GithubSource):
        file = github_file(source.owner, source.repo, source.ref, source.path)
        content = await fetch_github_file(file, settings)
        source_path, echo = file.path, source
    else:
        content = decode_inline_content(source.content_base64, settings.ingest_max_bytes)
        source_path, echo = (
            source.filename,
            InlineSourceEcho(kind="inline", filename=source.filename),
        )
    hint = (body.parser_hint or "").strip() or None
    parsed = await run_in_threadpool(preview_session, source_path, content, hint)
    response = PreviewResponse(
        parser_used=parsed.parser_used,
        parser_candidates=[
            ParserCandidate.model_validate(claim)
            for claim in candidate_list(parsed.parser_candidates)
        ],
        session=parsed.session,
        source=echo,
        warnings=parsed.warnings,
        native_adapter=parsed.native_adapter,
    )
    # Serialized once, here: FastAPI would dump and re-validate the whole session first.
    return Response(response.model_dump_json(), media_type="application/json")
