"""``/api/auth/*``: register, log in, refresh, log out, verify, me, API keys, providers.

These routes exist only when ``JWT_SECRET`` is set (``auth_enabled``).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from opensession.server.auth.passwords import hash_password, password_problem, verify_password
from opensession.server.auth.tokens import (
    ACCESS_TOKEN_TTL,
    REFRESH_TOKEN_TTL,
    issue_access_token,
    new_refresh_token,
    secret_hash,
)
from opensession.server.context import ServerContext, server_context
from opensession.server.db.schema import refresh_tokens, users
from opensession.server.errors import ApiError, bad_request

router = APIRouter(prefix="/api/auth", tags=["auth"])
Context = Annotated[ServerContext, Depends(server_context)]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NICKNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,38}")


class RegisterRequest(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    nickname: str = Field(max_length=64)


class LoginRequest(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str
    nickname: str


def issue_tokens(
    context: ServerContext, db: Connection, user_id: str, nickname: str
) -> TokenResponse:
    """A new access token and a new refresh token (stored hashed) for the user."""
    secret = context.settings.jwt_secret
    assert secret is not None  # the auth routes exist only with a secret
    now = datetime.now(UTC)
    refresh = new_refresh_token()
    db.execute(
        refresh_tokens.insert().values(
            id=str(uuid.uuid4()),
            user_id=user_id,
            token_hash=secret_hash(refresh),
            created_at=now,
            expires_at=now + REFRESH_TOKEN_TTL,
        )
    )
    return TokenResponse(
        access_token=issue_access_token(secret, user_id, now),
        refresh_token=refresh,
        expires_in=int(ACCESS_TOKEN_TTL.total_seconds()),
        user_id=user_id,
        nickname=nickname,
    )


def require_auth(context: Context) -> None:
    """404 for every auth route when the server has no accounts (no ``JWT_SECRET``)."""
    if not context.settings.auth_enabled:
        raise ApiError(404, "auth_disabled", "this server has no accounts (JWT_SECRET is unset)")


@router.post("/register", dependencies=[Depends(require_auth)])
def register(body: RegisterRequest, context: Context) -> TokenResponse:
    """Create an account (email, password, nickname) and sign it in."""
    email = body.email.strip().lower()
    nickname = body.nickname.strip()
    if not _EMAIL.fullmatch(email):
        raise bad_request("email: not an email address", code="invalid_email")
    if not _NICKNAME.fullmatch(nickname):
        raise bad_request(
            "nickname: 2 to 39 letters, digits, '.', '_' or '-', starting with a letter or digit",
            code="invalid_nickname",
        )
    problem = password_problem(body.password)
    if problem:
        raise bad_request(f"password: {problem}", code="weak_password")
    user_id = str(uuid.uuid4())
    try:
        with context.engine.begin() as db:
            db.execute(
                users.insert().values(
                    id=user_id,
                    email=email,
                    nickname=nickname,
                    password_hash=hash_password(body.password),
                    created_at=datetime.now(UTC),
                )
            )
            return issue_tokens(context, db, user_id, nickname)
    except IntegrityError:
        raise ApiError(409, "account_exists", "that email or nickname is already taken") from None


@router.post("/login", dependencies=[Depends(require_auth)])
def login(body: LoginRequest, context: Context) -> TokenResponse:
    """Sign in with email and password."""
    email = body.email.strip().lower()
    with context.engine.begin() as db:
        row = db.execute(select(users).where(users.c.email == email)).first()
        if row is None or not verify_password(row.password_hash, body.password):
            raise ApiError(401, "invalid_credentials", "wrong email or password")
        return issue_tokens(context, db, row.id, row.nickname)
