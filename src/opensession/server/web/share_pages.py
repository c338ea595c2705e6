"""Pages: ``/upload`` (a session file from the browser) and ``/gh/{owner}/{repo}/{ref}/{path}``
(a session file straight from GitHub), both read through the ingest preview.

Uploading takes two steps: the chosen file is previewed (parser, candidates, title, what
redaction will replace, and its timeline as the session page draws it), then confirmed with its
visibility and redaction. The server keeps
nothing between the two: the preview page carries the file back, compressed, in its form. The
file goes through the parsers of the ingest preview, so any supported tool's file or HAIL will
do, and is stored by the upload logic of the JSON API under the signed-in user.

Where the deployment offers neither (the read-only worker profile, or a server without
accounts for uploads), the pages say so instead of offering a form.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from opensession.hail import dumps_session
from opensession.hail.model import Session
from opensession.hail.sanitize import sanitize_session
from opensession.server.context import ServerContext, server_context
from opensession.server.errors import ApiError, bad_request
from opensession.server.ingest.github import fetch_github_file, github_file
from opensession.server.ingest.preview import PARSER_IDS, Preview, candidate_list, preview_session
from opensession.server.sessions_store import save_session
from opensession.server.uploads import UploadOptions, prepare_upload
from opensession.server.web.auth import check_csrf
from opensession.server.web.templating import render_page
from opensession.server.web.timeline import (
    EventView,
    GroupNode,
    page_items,
    plan_timeline,
    read_body,
)

router = APIRouter(include_in_schema=False)
Context = Annotated[ServerContext, Depends(server_context)]

_FORM_OVERHEAD = 64 * 1024
# What a browser may still send after the form is known to be too large, read and dropped so it
# sees the answer instead of a reset connection.
_DRAINED_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Timeline:
    """The first page of a previewed session's timeline, as the session page draws it."""

    items: list[GroupNode | EventView]
    shown: int
    """Entries on the page."""
    total: int
    """Entries in the whole session."""


def first_timeline_page(session: Session) -> Timeline:
    """The session's timeline, its first page (up to 500 entries) built for the templates."""
    body = read_body(dumps_session(session))
    plan = plan_timeline(body)
    start, end = plan.pages[0]
    return Timeline(page_items(body, plan, 1), end - start, len(plan.entries))


def _redaction_note(session: Session) -> str:
    """What redaction would replace in ``session``."""
    _, report = sanitize_session(session)
    if not report.total:
        return "Redaction found no secrets to replace."
    kinds = ", ".join(f"{count} {name}" for name, count in sorted(report.counts.items()))
    return f"Redaction will replace {report.total} secret(s): {kinds}."


def _parser_choices(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parsers a picker offers: the candidates first, then every other parser."""
    claimed = {candidate["id"] for candidate in candidates}
    others = [{"id": parser, "confidence": None, "reason": ""} for parser in PARSER_IDS]
    return candidates + [choice for choice in others if choice["id"] not in claimed]


# --- /upload ---


def _upload_refusal(context: ServerContext) -> str | None:
    """Why this deployment takes no uploads, or None when it does."""
    settings = context.settings
    if settings.upload_enabled:
        return None
    if settings.profile == "worker":
        return (
            "This is a read-only deployment: sessions can be read here, but nothing can be "
            "uploaded to it."
        )
    return (
        "This server has no accounts (JWT_SECRET is unset), and every upload belongs to an "
        "account, so uploading is off. Its operator can turn accounts on."
    )


def _file_limit(context: ServerContext) -> int:
    """The largest session file the upload page takes: it is previewed, then uploaded."""
    settings = context.settings
    return min(settings.ingest_max_bytes, settings.max_upload_bytes)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _too_large(context: ServerContext) -> ApiError:
    limit = _file_limit(context)
    return ApiError(
        413,
        "payload_too_large",
        f"the file is larger than the {_megabytes(limit)} this server takes; "
        "upload a smaller session file",
    )


def _upload_page(
    request: Request,
    context: ServerContext,
    *,
    status_code: int = 200,
    error: str | None = None,
    carried: dict[str, str] | None = None,
    choices: list[dict[str, Any]] | None = None,
) -> Response:
    """The upload form (or why there is none), with ``error`` shown and, when the file needs
    a parser chosen, a picker that sends the ``carried`` file again."""
    return render_page(
        request,
        context,
        "upload.html",
        status_code=status_code,
        refusal=_upload_refusal(context),
        limit=_megabytes(_file_limit(context)),
        limit_bytes=_file_limit(context),
        error=error,
        carried=carried,
        choices=choices,
    )


@router.get("/upload")
def upload_page(request: Request, context: Context) -> Response:
    """The form to choose a session file; signing in comes first."""
    if _upload_refusal(context) is None and request.state.user is None:
        return RedirectResponse("/login?next=/upload", status_code=303)
    return _upload_page(request, context)


@router.post("/upload")
async def upload_form(request: Request, context: Context) -> Response:
    """Preview the chosen file (``step=preview``), or store the previewed one (``step=upload``)
    and go to its page."""
    if _upload_refusal(context) is not None:
        return _upload_page(request, context, status_code=403)
    if request.state.user is None:
        return RedirectResponse("/login?next=/upload", status_code=303)
    try:
        form = await _read_form(request, context)
    except ApiError as problem:
        return _upload_page(request, context, status_code=problem.status, error=problem.message)
    try:
        check_csrf(request, _text(form, "csrf"))
        filename, content = await _source(form, context)
    except ApiError as problem:
        if problem.status == 403:
            raise
        return _upload_page(request, context, status_code=problem.status, error=problem.message)
    finally:
        await form.close()
    upload = _text(form, "step") == "upload"
    # A preview page sends back the parser it used, and the one picked to preview again.
    hint = (_text(form, "parser") if upload else _text(form, "parser_choice")) or None
    carried = {"filename": filename, "content": _pack(content)}
    try:
        preview = await run_in_threadpool(preview_session, filename, content, hint)
        if upload:
            return await _store(request, context, form, preview)
    except ApiError as problem:
        candidates = problem.extra.get("parser_candidates")
        return _upload_page(
            request,
            context,
            status_code=problem.status,
            error=problem.message,
            carried=carried,
            choices=_parser_choices(candidates) if candidates is not None else None,
        )
    note = await run_in_threadpool(_redaction_note, preview.session)
    return render_page(
        request,
        context,
        "upload_preview.html",
        preview=preview,
        candidates=candidate_list(preview.parser_candidates),
        choices=_parser_choices(candidate_list(preview.parser_candidates)),
        timeline=await run_in_threadpool(first_timeline_page, preview.session),
        agents={},  # the timeline's links to sub-agent sessions: a preview has none stored
        redaction_note=note,
        carried=carried,
    )


async def _store(
    request: Request, context: ServerContext, form: FormData, preview: Preview
) -> Response:
    """Store the previewed session under the signed-in user, then go to its page."""
    options = UploadOptions(
        visibility="private" if _text(form, "visibility") == "private" else "public",
        sanitize=_text(form, "keep_secrets") != "on",
    )
    user_id: str = request.state.user.id
    row_id = await run_in_threadpool(_save, context, user_id, preview.session, options)
    return RedirectResponse(f"/session/{row_id}", status_code=303)


def _save(context: ServerContext, user_id: str, session: Session, options: UploadOptions) -> str:
    upload = prepare_upload(session, options, context.settings.score_plugin, datetime.now(UTC))
    row_id, _ = save_session(context.engine, context.blobs, user_id, upload)
    return row_id


async def _read_form(request: Request, context: ServerContext) -> FormData:
    """The multipart form of an upload, refused (413) past what a file of the size limit
    needs: twice the limit, room for the compressed, base64 copy a preview sends back."""
    limit = 2 * _file_limit(context) + _FORM_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _DRAINED_LIMIT:
        raise _too_large(context)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise bad_request("send the form as multipart/form-data")
    stream = _capped(request, limit)
    parser = MultiPartParser(request.headers, stream, max_files=1, max_part_size=limit)
    try:
        return await parser.parse()
    except _TooLargeError:
        raise _too_large(context) from None
    except MultiPartException as exc:
        raise bad_request(f"the form could not be read: {exc.message}") from None


class _TooLargeError(Exception):
    """A request body past its limit."""


async def _capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body's chunks, up to ``limit`` bytes; past that, the rest is read (up to
    _DRAINED_LIMIT) and dropped, and _TooLargeError raised."""
    chunks = request.stream()
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            break
        yield chunk
    else:
        return
    async for chunk in chunks:
        size += len(chunk)
        if size > _DRAINED_LIMIT:
            break
    raise _TooLargeError


async def _source(form: FormData, context: ServerContext) -> tuple[str, bytes]:
    """The file's name and bytes: the chosen file, or the copy a preview page sent back."""
    limit = _file_limit(context)
    chosen = form.get("file")
    if isinstance(chosen, UploadFile) and chosen.filename:
        content = await chosen.read(limit + 1)
        if len(content) > limit:
            raise _too_large(context)
        if not content:
            raise bad_request(f"the file {chosen.filename} is empty: choose a session file")
        return chosen.filename, content
    packed, filename = _text(form, "content"), _text(form, "filename")
    if not packed or not filename:
        raise bad_request("choose a session file to upload")
    try:
        decompressor = zlib.decompressobj()
        content = decompressor.decompress(base64.b64decode(packed, validate=True), limit + 1)
    except (binascii.Error, zlib.error, ValueError):
        raise bad_request("the previewed file came back damaged; choose it again") from None
    if len(content) > limit or decompressor.unconsumed_tail:
        raise _too_large(context)
    return filename, content


def _pack(content: bytes) -> str:
    """``content`` compressed and in base64, for a hidden form field."""
    return base64.b64encode(zlib.compress(content, 6)).decode("ascii")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- /gh/{owner}/{repo}/{ref}/{path} ---


@router.get("/gh/{owner}/{repo}/{ref}/{path:path}")
async def github_page(
    owner: str,
    repo: str,
    ref: str,
    path: str,
    request: Request,
    context: Context,
    parser: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """A session file of a GitHub repository, fetched and parsed by the ingest preview (the
    parser detected, or ``?parser=``), its timeline drawn as the session page draws it;
    problems shown on the page, with a parser picker when no parser read the file."""
    repo_url = "https://github.com/" + quote(owner, safe="") + "/" + quote(repo, safe="")
    source = {
        "owner": owner,
        "repo": repo,
        "ref": ref,
        "path": path,
        "repo_url": repo_url,
        "url": f"{repo_url}/blob/{quote(ref, safe='')}/{quote(path)}",
    }
    values: dict[str, Any] = {"source": source, "parser": parser}
    if not context.settings.ingest_preview_enabled:
        return render_page(request, context, "gh.html", unavailable=True, **values)
    try:
        file = github_file(owner, repo, ref, path)
        content = await fetch_github_file(file, context.settings)
        preview = await run_in_threadpool(preview_session, file.path, content, parser or None)
    except ApiError as problem:
        candidates = problem.extra.get("parser_candidates")
        return render_page(
            request,
            context,
            "gh.html",
            status_code=problem.status,
            error=problem.message,
            choices=_parser_choices(candidates) if candidates is not None else None,
            **values,
        )
    candidates = candidate_list(preview.parser_candidates)
    ambiguous = len(candidates) > 1 or bool(parser)
    return render_page(
        request,
        context,
        "gh.html",
        preview=preview,
        candidates=candidates,
        choices=_parser_choices(candidates) if ambiguous else None,
        timeline=await run_in_threadpool(first_timeline_page, preview.session),
        agents={},  # the timeline's links to sub-agent sessions: a preview has none stored
        **values,
    )
