"""Who is browsing: the signed-in user from the ``os_access`` cookie, and CSRF protection.

The web UI signs in through HttpOnly cookies (the JSON API keeps to bearer tokens). Every page
request gets ``request.state.user`` (a User or None) and ``request.state.csrf``, the value that
forms must echo back in a ``csrf`` field (double-submit: the ``os_csrf`` cookie holds it; cookies
are SameSite=Lax, so a cross-site form cannot send them anyway).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from opensession.server.auth.users import authenticate
from opensession.server.context import ServerContext
from opensession.server.errors import ApiError, forbidden

ACCESS_COOKIE = "os_access"
REFRESH_COOKIE = "os_refresh"
CSRF_COOKIE = "os_csrf"


async def web_user_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Set ``request.state.user`` and ``request.state.csrf`` for pages (not for ``/api``)."""
    request.state.user = None
    request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    if request.url.path.startswith(("/api/", "/static/")):
        return await call_next(request)
    context: ServerContext = request.app.state.context
    token = request.cookies.get(ACCESS_COOKIE)
    if token and context.settings.auth_enabled:
        try:
            request.state.user = await run_in_threadpool(authenticate, context, token)
        except ApiError:
            request.state.user = None
    response = await call_next(request)
    if request.cookies.get(CSRF_COOKIE) != request.state.csrf:
        response.set_cookie(
            CSRF_COOKIE, request.state.csrf, httponly=False, samesite="lax", secure=_secure(request)
        )
    return response


def check_csrf(request: Request, submitted: str | None) -> None:
    """403 unless a form's ``csrf`` field matches the browser's ``os_csrf`` cookie."""
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not secrets.compare_digest(expected, submitted):
        raise forbidden("the form expired or came from another site; reload the page and retry")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"
