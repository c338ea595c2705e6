"""Who is browsing: the signed-in user from the ``os_access`` cookie, and CSRF protection.

The web UI signs in through HttpOnly cookies (the JSON API keeps to bearer tokens): ``os_access``
holds the access token (a JWT) and ``os_refresh`` the refresh token. Every page request gets
``request.state.user`` (a User or None) and ``request.state.csrf``, the value that forms must
echo back in a ``csrf`` field (double-submit: the ``os_csrf`` cookie holds it; cookies are
SameSite=Lax, so a cross-site form cannot send them anyway).

When the access token has expired (or its cookie is gone) and the refresh cookie is live, the
middleware rotates the refresh token and sets both cookies anew on the response. It does so only
for requests a browser makes for a page (a navigation or form post, or a client that sends no
``Sec-Fetch-Mode``): the requests a page makes for its parts would race to rotate the same token,
and a token rotated twice counts as stolen, which ends every session of the account.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from opensession.server.auth.tokens import ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL
from opensession.server.auth.users import User, authenticate
from opensession.server.context import ServerContext
from opensession.server.errors import ApiError, forbidden
from opensession.server.routes.auth import TokenResponse, rotate_tokens

ACCESS_COOKIE = "os_access"
REFRESH_COOKIE = "os_refresh"
CSRF_COOKIE = "os_csrf"


async def web_user_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Set ``request.state.user``, ``request.state.csrf`` and ``request.state.refresh_token``
    (the refresh cookie's token, or the one that replaced it) for pages (not for ``/api``)."""
    request.state.user = None
    request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.state.refresh_token = request.cookies.get(REFRESH_COOKIE)
    if request.url.path.startswith(("/api/", "/static/")):
        return await call_next(request)
    context: ServerContext = request.app.state.context
    renewed: TokenResponse | None = None
    expired = False
    if context.settings.auth_enabled:
        request.state.user = await _cookie_user(context, request.cookies.get(ACCESS_COOKIE))
        refresh = request.state.refresh_token
        if request.state.user is None and refresh and _page_request(request):
            renewed = await _renewed_tokens(context, refresh)
            if renewed is None:
                expired = True
                request.state.refresh_token = None
            else:
                request.state.user = await _cookie_user(context, renewed.access_token)
                request.state.refresh_token = renewed.refresh_token
    response = await call_next(request)
    if not _sets_cookie(response, ACCESS_COOKIE):
        if renewed is not None:
            set_auth_cookies(request, response, renewed)
            response.headers["Cache-Control"] = "no-store"
        elif expired:
            clear_auth_cookies(response)
    if request.cookies.get(CSRF_COOKIE) != request.state.csrf:
        response.set_cookie(
            CSRF_COOKIE, request.state.csrf, httponly=False, samesite="lax", secure=_secure(request)
        )
    return response


async def _cookie_user(context: ServerContext, token: str | None) -> User | None:
    """The user of an access token from a cookie, or None when it is missing or not valid."""
    if not token:
        return None
    try:
        return await run_in_threadpool(authenticate, context, token)
    except ApiError:
        return None


async def _renewed_tokens(context: ServerContext, refresh_token: str) -> TokenResponse | None:
    """New tokens for a live refresh token (which stops working), or None."""
    try:
        return await run_in_threadpool(rotate_tokens, context, refresh_token)
    except ApiError:
        return None


def _page_request(request: Request) -> bool:
    """Whether a browser asks for a page itself (not for a part of one), or a client that
    does not say."""
    return request.headers.get("sec-fetch-mode", "navigate") == "navigate"


def _sets_cookie(response: Response, name: str) -> bool:
    return any(header.startswith(f"{name}=") for header in response.headers.getlist("set-cookie"))


def set_auth_cookies(request: Request, response: Response, tokens: TokenResponse) -> None:
    """Sign the browser in: the access and refresh tokens as HttpOnly, SameSite=Lax cookies
    (Secure over https), each kept as long as its token lives."""
    secure = _secure(request)
    for name, value, lifetime in (
        (ACCESS_COOKIE, tokens.access_token, ACCESS_TOKEN_TTL),
        (REFRESH_COOKIE, tokens.refresh_token, REFRESH_TOKEN_TTL),
    ):
        response.set_cookie(
            name,
            value,
            max_age=int(lifetime.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )


def clear_auth_cookies(response: Response) -> None:
    """Sign the browser out: both token cookies removed."""
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax")


def check_csrf(request: Request, submitted: str | None) -> None:
    """403 unless a form's ``csrf`` field matches the browser's ``os_csrf`` cookie."""
    expected = request.cookies.get(CSRF_COOKIE)
    if (
        not expected
        or not submitted
        or not secrets.compare_digest(expected.encode(), submitted.encode())
    ):
        raise forbidden("the form expired or came from another site; reload the page and retry")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"
