"""``/docs`` (HTML, or the markdown source for ``Accept: text/markdown``) and ``/llms.txt``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from opensession.server.context import ServerContext, server_context
from opensession.server.docs import RouteSummary, documentation, llms_txt
from opensession.server.routes.meta import capabilities
from opensession.server.web.templating import render_page

router = APIRouter(tags=["docs"])
Context = Annotated[ServerContext, Depends(server_context)]

_HEADERS = {"Vary": "Accept", "Cache-Control": "public, max-age=300"}
# The HTML page shows who is signed in (and a form token): no shared cache may keep it.
_PAGE_HEADERS = {"Vary": "Accept", "Cache-Control": "private, no-cache"}
_MARKDOWN = "text/markdown; charset=utf-8"


def prefers_markdown(accept: str) -> bool:
    """Whether an ``Accept`` header names ``text/markdown``, with a quality no lower than that
    of ``text/html`` (browsers, which never name markdown, get HTML)."""
    qualities: dict[str, float] = {}
    for item in accept.split(","):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[media_type.lower()] = quality
    markdown = qualities.get("text/markdown", 0.0)
    return markdown > 0 and markdown >= qualities.get("text/html", 0.0)


@router.get(
    "/docs",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}},
)
def docs(request: Request, context: Context) -> Response:
    """The documentation: an HTML page, or its markdown source for ``Accept: text/markdown``."""
    if prefers_markdown(request.headers.get("accept", "")):
        return Response(documentation().markdown, media_type=_MARKDOWN, headers=_HEADERS)
    page = render_page(request, context, "docs.html", docs=documentation())
    page.headers.update(_PAGE_HEADERS)
    return page


@router.get("/llms.txt", response_class=PlainTextResponse)
def llms(request: Request, context: Context) -> PlainTextResponse:
    """A plain-text summary for language models: what this server is and its API routes."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    routes = [
        RouteSummary(method.upper(), path, _summary(operation))
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method, operation in operations.items()
    ]
    offered = capabilities(context).model_dump()
    return PlainTextResponse(llms_txt(routes, offered))


def _summary(operation: dict[str, Any]) -> str:
    """An operation's first description paragraph on one line, else its summary."""
    paragraph = str(operation.get("description", "")).replace("``", "`").split("\n\n", 1)[0]
    return " ".join(paragraph.split()) or str(operation.get("summary", ""))
