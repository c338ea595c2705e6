"""Rendering pages: one Jinja2 environment, every page given the capabilities and the user."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from opensession import __version__
from opensession.server.context import ServerContext
from opensession.server.routes.meta import Capabilities, capabilities

PACKAGE_DIR = Path(__file__).parent


@cache
def environment(templates: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def templates_dir(context: ServerContext) -> Path:
    """``OPENSESSION_WEB_DIR/templates`` when it exists, else the package's templates."""
    web_dir = context.settings.web_dir
    if web_dir is not None and (web_dir / "templates").is_dir():
        return web_dir / "templates"
    return PACKAGE_DIR / "templates"


def static_dir(context: ServerContext) -> Path:
    """``OPENSESSION_WEB_DIR/static`` when it exists, else the package's static files."""
    web_dir = context.settings.web_dir
    if web_dir is not None and (web_dir / "static").is_dir():
        return web_dir / "static"
    return PACKAGE_DIR / "static"


def render_page(
    request: Request,
    context: ServerContext,
    template: str,
    *,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """The page ``template`` with ``values``, plus ``capabilities``, ``user`` (the signed-in
    user or None, from ``request.state.user``), ``csrf`` (for forms), ``path`` and
    ``version``."""
    features: Capabilities = capabilities(context)
    page = environment(templates_dir(context)).get_template(template)
    html = page.render(
        capabilities=features,
        user=getattr(request.state, "user", None),
        csrf=getattr(request.state, "csrf", ""),
        path=request.url.path,
        version=__version__,
        **values,
    )
    return HTMLResponse(html, status_code=status_code)
