"""Who is asking: the ``Authorization: Bearer`` credential (JWT or ``osk_`` API key) resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import or_, select

from opensession.server.auth.tokens import (
    API_KEY_PREFIX,
    InvalidTokenError,
    secret_hash,
    verify_access_token,
)
from opensession.server.context import ServerContext, server_context
from opensession.server.db.schema import api_keys, users
from opensession.server.errors import ApiError, forbidden, unauthorized


@dataclass(frozen=True)
class User:
    id: str
    nickname: str
    email: str
    created_at: datetime
    avatar_url: str | None
    via_api_key: bool


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None without one."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <token or API key>'")
    return token.strip()


def authenticate(context: ServerContext, token: str) -> User:
    """The user ``token`` (a JWT or an API key) belongs to; 401 when none."""
    secret = context.settings.jwt_secret
    if not secret:
        raise ApiError(401, "auth_disabled", "this server has no accounts (JWT_SECRET is unset)")
    now = datetime.now(UTC)
    with context.engine.connect() as db:
        if token.startswith(API_KEY_PREFIX):
            row = db.execute(
                select(users)
                .join(api_keys, api_keys.c.user_id == users.c.id)
                .where(api_keys.c.key_hash == secret_hash(token))
                .where(or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now))
            ).first()
            if row is None:
                raise unauthorized("the API key is not valid (revoked, replaced or mistyped)")
            via_api_key = True
        else:
            try:
                user_id = verify_access_token(secret, token)
            except InvalidTokenError as exc:
                raise unauthorized(str(exc)) from None
            row = db.execute(select(users).where(users.c.id == user_id)).first()
            if row is None:
                raise unauthorized("the account of this token no longer exists")
            via_api_key = False
    return User(
        id=row.id,
        nickname=row.nickname,
        email=row.email,
        created_at=row.created_at,
        avatar_url=row.avatar_url,
        via_api_key=via_api_key,
    )


def optional_user(
    request: Request, context: Annotated[ServerContext, Depends(server_context)]
) -> User | None:
    """The signed-in user, or None for an anonymous request (a bad credential is still 401)."""
    token = bearer_token(request)
    return authenticate(context, token) if token else None


def required_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in user; 401 for an anonymous request."""
    if user is None:
        raise unauthorized()
    return user


def signed_in_user(user: Annotated[User, Depends(required_user)]) -> User:
    """The user of a JWT access token; 403 for an API key, which cannot manage the account
    (issue keys, change the password), so a leaked key cannot take the account over."""
    if user.via_api_key:
        raise forbidden("this needs the access token of a sign-in, not an API key")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
RequiredUser = Annotated[User, Depends(required_user)]
SignedInUser = Annotated[User, Depends(signed_in_user)]
