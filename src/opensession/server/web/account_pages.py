"""Pages: ``/login``, ``/register``, ``/logout`` and ``/settings`` (personal API keys).

Plain server-side forms that work without JavaScript, signing in through the cookies of
``web.auth``, with the sign-in logic of the JSON API (its checks, messages and rate limits).
They exist only when the server has accounts (``JWT_SECRET`` set): a 404 page otherwise. Every
form is CSRF-checked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import Row, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from opensession.server.auth.apikeys import issue_api_key
from opensession.server.auth.ratelimit import RateLimitError
from opensession.server.auth.users import User
from opensession.server.context import ServerContext, server_context
from opensession.server.db.schema import api_keys
from opensession.server.errors import ApiError, forbidden, not_found
from opensession.server.routes.auth import (
    LoginRequest,
    RegisterRequest,
    TokenResponse,
    client_address,
    create_account,
    sign_in,
    sign_out,
)
from opensession.server.web.auth import check_csrf, clear_auth_cookies, set_auth_cookies
from opensession.server.web.templating import render_page


def require_accounts(context: Annotated[ServerContext, Depends(server_context)]) -> None:
    """A 404 page for every account page when the server has no accounts."""
    if not context.settings.auth_enabled:
        raise not_found("this server has no accounts (JWT_SECRET is unset)")


router = APIRouter(include_in_schema=False, dependencies=[Depends(require_accounts)])
Context = Annotated[ServerContext, Depends(server_context)]
Next = Annotated[str, Query(max_length=2000)]

_FIELDS = ("email", "nickname", "password")


def safe_next(target: str) -> str:
    """``target`` if it is a path on this server, else ``/`` (no redirect to another site)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and target.isprintable():
        return target
    return "/"


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _signed_in(target: str, request: Request, tokens: TokenResponse) -> Response:
    response = RedirectResponse(safe_next(target), status_code=303)
    set_auth_cookies(request, response, tokens)
    return response


def _form_page(
    request: Request,
    context: ServerContext,
    template: str,
    target: str,
    values: dict[str, str],
    problem: ApiError | ValidationError | None = None,
) -> Response:
    """The login or register form with ``values`` filled in and ``problem`` shown: beside its
    field when it names one, above the form otherwise."""
    errors: dict[str, str] = {}
    error = None
    status = 200
    if isinstance(problem, ValidationError):
        first = problem.errors()[0]
        errors[str(first["loc"][0])] = str(first["msg"]).lower()
        status = 400
    elif problem is not None:
        field, _, message = problem.message.partition(": ")
        if field in _FIELDS and field in values:
            errors[field] = message
        else:
            error = problem.message[:1].upper() + problem.message[1:]
            if isinstance(problem, RateLimitError):
                error += f" ({_wait(problem.retry_after)})."
        status = problem.status
    response = render_page(
        request,
        context,
        template,
        status_code=status,
        next=safe_next(target),
        values=values,
        errors=errors,
        error=error,
    )
    if isinstance(problem, RateLimitError):
        response.headers["Retry-After"] = str(problem.retry_after)
    return response


def _wait(seconds: int) -> str:
    """A wait in words: ``about 15 minutes``, ``40 seconds``."""
    if seconds < 90:
        return f"{seconds} seconds"
    return f"about {round(seconds / 60)} minutes"


@router.get("/login")
def login_page(request: Request, context: Context, next: Next = "/") -> Response:
    """The sign-in form (a signed-in browser goes straight on to ``next``)."""
    if request.state.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form_page(request, context, "login.html", next, {"email": "", "password": ""})


@router.post("/login")
async def login_form(request: Request, context: Context) -> Response:
    """Sign in with the form's email and password; back to the form with the problem shown."""
    form = await request.form()
    check_csrf(request, _text(form, "csrf"))
    target = _text(form, "next")
    values = {"email": _text(form, "email"), "password": ""}
    try:
        body = LoginRequest(email=values["email"], password=_text(form, "password"))
        tokens = await run_in_threadpool(sign_in, context, body, client_address(request))
    except (ApiError, ValidationError) as problem:
        return _form_page(request, context, "login.html", target, values, problem)
    return _signed_in(target, request, tokens)


@router.get("/register")
def register_page(request: Request, context: Context, next: Next = "/") -> Response:
    """The form to create an account."""
    if request.state.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    values = {"email": "", "nickname": "", "password": ""}
    return _form_page(request, context, "register.html", next, values)


@router.post("/register")
async def register_form(request: Request, context: Context) -> Response:
    """Create the account of the form and sign it in; back to the form with the problem shown."""
    form = await request.form()
    check_csrf(request, _text(form, "csrf"))
    target = _text(form, "next")
    values = {"email": _text(form, "email"), "nickname": _text(form, "nickname"), "password": ""}
    try:
        body = RegisterRequest(
            email=values["email"], nickname=values["nickname"], password=_text(form, "password")
        )
        tokens = await run_in_threadpool(create_account, context, body, client_address(request))
    except (ApiError, ValidationError) as problem:
        return _form_page(request, context, "register.html", target, values, problem)
    return _signed_in(target, request, tokens)


@router.post("/logout")
async def logout_form(request: Request, context: Context) -> Response:
    """Sign the browser out: its refresh token revoked, its cookies cleared; then home."""
    form = await request.form()
    check_csrf(request, _text(form, "csrf"))
    user: User | None = request.state.user
    refresh_token: str | None = request.state.refresh_token
    if user is not None and refresh_token:
        await run_in_threadpool(sign_out, context, refresh_token, user.id)
    response = RedirectResponse("/", status_code=303)
    clear_auth_cookies(response)
    return response


def _api_keys(context: ServerContext, user_id: str) -> list[Row[Any]]:
    """The user's keys that still work, the newest first."""
    with context.engine.connect() as db:
        rows = db.execute(
            select(api_keys.c.display_prefix, api_keys.c.created_at, api_keys.c.expires_at)
            .where(api_keys.c.user_id == user_id)
            .order_by(api_keys.c.created_at.desc())
        ).all()
    now = datetime.now(UTC)
    return [row for row in rows if row.expires_at is None or row.expires_at > now]


def _sign_in_first(path: str) -> Response:
    return RedirectResponse(f"/login?next={path}", status_code=303)


@router.get("/settings")
async def settings_page(request: Request, context: Context) -> Response:
    """The account, its API keys (their display prefixes) and a form to issue a new key."""
    user: User | None = request.state.user
    if user is None:
        return _sign_in_first("/settings")
    keys = await run_in_threadpool(_api_keys, context, user.id)
    return render_page(request, context, "settings.html", keys=keys)


@router.post("/settings/api-key")
async def issue_key_form(request: Request, context: Context) -> Response:
    """Issue a personal API key and show it, this once, with the command that connects the CLI
    to this server. Only a signed-in browser (an access token's cookie, not an API key) may."""
    form = await request.form()
    check_csrf(request, _text(form, "csrf"))
    user: User | None = request.state.user
    if user is None:
        return _sign_in_first("/settings")
    if user.via_api_key:
        raise forbidden("issuing an API key needs a sign-in, not an API key")
    key = await run_in_threadpool(_issue, context, user.id)
    server_url = context.settings.public_url or str(request.base_url).rstrip("/")
    response = render_page(request, context, "api_key.html", api_key=key, server_url=server_url)
    response.headers["Cache-Control"] = "no-store"
    return response


def _issue(context: ServerContext, user_id: str) -> str:
    with context.engine.begin() as db:
        return issue_api_key(db, user_id, datetime.now(UTC))
