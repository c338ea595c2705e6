"""``/api/auth/*``: register, log in, refresh, log out, verify, me, password, API keys, providers.

These routes exist only when ``JWT_SECRET`` is set (``auth_enabled``). Secrets leave the server
once: a refresh token in the token response that creates it, an API key in its issue response.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from opensession.server.auth.apikeys import issue_api_key
from opensession.server.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from opensession.server.auth.ratelimit import (
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_IP,
    REGISTER_PER_IP,
    check_limit,
    clear_attempts,
    count_attempt,
)
from opensession.server.auth.refresh import (
    revoke_refresh_token,
    revoke_user_refresh_tokens,
    rotate_refresh_token,
    store_refresh_token,
)
from opensession.server.auth.tokens import ACCESS_TOKEN_TTL, issue_access_token
from opensession.server.auth.users import RequiredUser, SignedInUser
from opensession.server.context import ServerContext, server_context
from opensession.server.db.schema import users
from opensession.server.errors import ApiError, bad_request


def require_auth(context: Annotated[ServerContext, Depends(server_context)]) -> None:
    """404 for every auth route when the server has no accounts (no ``JWT_SECRET``)."""
    if not context.settings.auth_enabled:
        raise ApiError(404, "auth_disabled", "this server has no accounts (JWT_SECRET is unset)")


router = APIRouter(prefix="/api/auth", tags=["auth"], dependencies=[Depends(require_auth)])
Context = Annotated[ServerContext, Depends(server_context)]

# No whitespace or control characters (PostgreSQL text cannot even hold a NUL).
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")
_NICKNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,38}")


class RegisterRequest(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    nickname: str = Field(max_length=64)


class LoginRequest(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(max_length=1024)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str
    nickname: str


class Ok(BaseModel):
    ok: bool = True


class Verified(BaseModel):
    user_id: str
    nickname: str


class Me(BaseModel):
    user_id: str
    nickname: str
    created_at: datetime
    email: str
    avatar_url: str | None
    oauth_providers: list[str]


class IssuedApiKey(BaseModel):
    api_key: str


class Providers(BaseModel):
    providers: list[str]


def issue_tokens(
    context: ServerContext, db: Connection, user_id: str, nickname: str
) -> TokenResponse:
    """A new access token and a new refresh token (stored hashed) for the user."""
    secret = context.settings.jwt_secret
    assert secret is not None  # the auth routes exist only with a secret
    now = datetime.now(UTC)
    return TokenResponse(
        access_token=issue_access_token(secret, user_id, now),
        refresh_token=store_refresh_token(db, user_id, now),
        expires_in=int(ACCESS_TOKEN_TTL.total_seconds()),
        user_id=user_id,
        nickname=nickname,
    )


def _email(text: str) -> str:
    """``text`` as an email address is stored (trimmed, lower case); 400 if it is none."""
    email = text.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise bad_request("email: not an email address", code="invalid_email")
    return email


def client_address(request: Request) -> str:
    """The caller's IP address (uvicorn puts a trusted proxy's ``X-Forwarded-For`` here)."""
    return request.client.host if request.client else "unknown"


def create_account(context: ServerContext, body: RegisterRequest, address: str) -> TokenResponse:
    """A new account, signed in: its tokens. 400 naming the field that is not acceptable, 409
    when the email or nickname is taken, 429 past 10 accounts an hour from ``address``."""
    email = _email(body.email)
    nickname = body.nickname.strip()
    if not _NICKNAME.fullmatch(nickname):
        raise bad_request(
            "nickname: 2 to 39 letters, digits, '.', '_' or '-', starting with a letter or digit",
            code="invalid_nickname",
        )
    problem = password_problem(body.password)
    if problem:
        raise bad_request(f"password: {problem}", code="weak_password")
    now = datetime.now(UTC)
    with context.engine.begin() as db:
        check_limit(db, REGISTER_PER_IP, address, now)
        count_attempt(db, REGISTER_PER_IP, address, now)
    user_id = str(uuid.uuid4())
    try:
        with context.engine.begin() as db:
            db.execute(
                users.insert().values(
                    id=user_id,
                    email=email,
                    nickname=nickname,
                    password_hash=hash_password(body.password),
                    created_at=now,
                )
            )
            return issue_tokens(context, db, user_id, nickname)
    except IntegrityError:
        raise ApiError(409, "account_exists", "that email or nickname is already taken") from None


def sign_in(context: ServerContext, body: LoginRequest, address: str) -> TokenResponse:
    """Tokens for a right email and password; 401 for wrong ones, 429 after 5 failures in 15
    minutes for the account or 20 from ``address`` (a sign-in clears the account's count)."""
    email = _email(body.email)
    now = datetime.now(UTC)
    with context.engine.connect() as db:
        check_limit(db, LOGIN_PER_ACCOUNT, email, now)
        check_limit(db, LOGIN_PER_IP, address, now)
        row = db.execute(select(users).where(users.c.email == email)).first()
    if row is None or not verify_password(row.password_hash, body.password):
        with context.engine.begin() as db:
            count_attempt(db, LOGIN_PER_ACCOUNT, email, now)
            count_attempt(db, LOGIN_PER_IP, address, now)
        raise ApiError(401, "invalid_credentials", "wrong email or password")
    with context.engine.begin() as db:
        clear_attempts(db, LOGIN_PER_ACCOUNT, email)
        if needs_rehash(row.password_hash):
            db.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(password_hash=hash_password(body.password))
            )
        return issue_tokens(context, db, row.id, row.nickname)


def rotate_tokens(context: ServerContext, refresh_token: str) -> TokenResponse:
    """New tokens for a live refresh token, which stops working; 401 otherwise (a rotated one
    presented again ends every session of its account first)."""
    with context.engine.begin() as db:
        user_id = rotate_refresh_token(db, refresh_token, datetime.now(UTC))
        if not isinstance(user_id, ApiError):
            nickname = db.execute(select(users.c.nickname).where(users.c.id == user_id)).scalar()
            return issue_tokens(context, db, user_id, str(nickname))
    # Raised only now, after the commit, so that reuse still ends the account's sessions.
    raise user_id


def sign_out(context: ServerContext, refresh_token: str, user_id: str) -> None:
    """Ends the session of ``refresh_token`` if it is one of ``user_id``'s."""
    with context.engine.begin() as db:
        revoke_refresh_token(db, refresh_token, user_id)


@router.post("/register")
def register(body: RegisterRequest, request: Request, context: Context) -> TokenResponse:
    """Create an account (email, password, nickname) and sign it in. An address may try 10
    times an hour; past that it gets 429."""
    return create_account(context, body, client_address(request))


@router.post("/login")
def login(body: LoginRequest, request: Request, context: Context) -> TokenResponse:
    """Sign in with email and password. After 5 failures in 15 minutes for an account, or 20
    from an address, attempts get 429 until the window ends; signing in clears the account's
    count."""
    return sign_in(context, body, client_address(request))


@router.post("/refresh")
def refresh(body: RefreshRequest, context: Context) -> TokenResponse:
    """New tokens for a refresh token, which stops working. Presenting a used one again ends
    every session of its account (someone else has a copy); expired or unknown ones get 401."""
    return rotate_tokens(context, body.refresh_token)


@router.post("/logout")
def logout(body: RefreshRequest, user: RequiredUser, context: Context) -> Ok:
    """End the session of a refresh token of the caller's (another's is left alone). Access
    tokens already issued work until they expire (at most 15 minutes)."""
    sign_out(context, body.refresh_token, user.id)
    return Ok()


@router.post("/verify")
def verify(user: RequiredUser) -> Verified:
    """Whose the bearer token (or API key) is: 401 if it is not valid."""
    return Verified(user_id=user.id, nickname=user.nickname)


@router.get("/me")
def me(user: RequiredUser) -> Me:
    """The caller's profile; no credential of any kind is ever part of it."""
    return Me(
        user_id=user.id,
        nickname=user.nickname,
        created_at=user.created_at,
        email=user.email,
        avatar_url=user.avatar_url,
        oauth_providers=[],
    )


@router.put("/password")
def change_password(body: PasswordChange, user: SignedInUser, context: Context) -> Ok:
    """Change the password (signed in with a JWT, not an API key), which ends every session:
    refresh tokens stop working. A wrong current password gets 403 and counts as a failed
    sign-in of the account."""
    problem = password_problem(body.new_password)
    if problem:
        raise bad_request(f"new_password: {problem}", code="weak_password")
    now = datetime.now(UTC)
    with context.engine.connect() as db:
        check_limit(db, LOGIN_PER_ACCOUNT, user.email, now)
        current = db.execute(select(users.c.password_hash).where(users.c.id == user.id)).scalar()
    if current is None or not verify_password(current, body.current_password):
        with context.engine.begin() as db:
            count_attempt(db, LOGIN_PER_ACCOUNT, user.email, now)
        raise ApiError(403, "wrong_password", "current_password: that is not your password")
    with context.engine.begin() as db:
        db.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(password_hash=hash_password(body.new_password))
        )
        revoke_user_refresh_tokens(db, user.id)
        clear_attempts(db, LOGIN_PER_ACCOUNT, user.email)
    return Ok()


@router.post("/api-keys/issue")
def issue_key(user: SignedInUser, context: Context) -> IssuedApiKey:
    """A new personal API key, shown this once (signed in with a JWT, not an API key). The
    previous key keeps working for 7 days, time to hand the new one to daemons and scripts."""
    with context.engine.begin() as db:
        key = issue_api_key(db, user.id, datetime.now(UTC))
    return IssuedApiKey(api_key=key)


@router.get("/providers")
def providers() -> Providers:
    """The OAuth providers to sign in with: always none, since this server has no OAuth (the
    reference offers GitHub and Google when their client ids are set)."""
    return Providers(providers=[])
