"""Refresh tokens in the database: stored as SHA-256, rotated on every use, reuse detected.

``revoked_at`` marks a token that has been rotated (exchanged for a new one). Presenting such a
token again means two parties hold a copy of it, one of them probably a thief, so every session
of its user ends. Signing out, changing the password and that reuse response delete tokens
instead: a device still holding one gets a plain 401, not a second wave of revocations that
would end the sessions its owner has just signed in again with.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from opensession.server.auth.tokens import REFRESH_TOKEN_TTL, new_refresh_token, secret_hash
from opensession.server.db.schema import refresh_tokens
from opensession.server.errors import ApiError


def store_refresh_token(db: Connection, user_id: str, now: datetime) -> str:
    """A new refresh token for the user, only its hash stored (the user's expired ones go)."""
    db.execute(
        delete(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id)
        .where(refresh_tokens.c.expires_at <= now)
    )
    token = new_refresh_token()
    db.execute(
        refresh_tokens.insert().values(
            id=str(uuid.uuid4()),
            user_id=user_id,
            token_hash=secret_hash(token),
            created_at=now,
            expires_at=now + REFRESH_TOKEN_TTL,
        )
    )
    return token


def rotate_refresh_token(db: Connection, token: str, now: datetime) -> str | ApiError:
    """The user id of a live ``token``, which this revokes (new tokens follow in the same
    transaction); otherwise the 401 to answer once the transaction is committed. A token
    presented again after its rotation ends every session of its user as well.

    The revoking update is the check, so of two requests racing with one token only one wins
    and the other counts as reuse.
    """
    token_hash = secret_hash(token)
    rotated = db.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.token_hash == token_hash)
        .where(refresh_tokens.c.revoked_at.is_(None))
        .where(refresh_tokens.c.expires_at > now)
        .values(revoked_at=now)
        .returning(refresh_tokens.c.user_id)
    ).first()
    if rotated is not None:
        return str(rotated.user_id)
    found = db.execute(
        select(refresh_tokens.c.user_id, refresh_tokens.c.revoked_at).where(
            refresh_tokens.c.token_hash == token_hash
        )
    ).first()
    if found is None:
        return ApiError(401, "invalid_refresh_token", "the refresh token is not valid; sign in")
    if found.revoked_at is not None:
        revoke_user_refresh_tokens(db, found.user_id)
        return ApiError(
            401,
            "refresh_token_reused",
            "this refresh token was already used, so every session of the account was ended; "
            "sign in again",
        )
    return ApiError(401, "refresh_token_expired", "the refresh token has expired; sign in again")


def revoke_refresh_token(db: Connection, token: str, user_id: str) -> None:
    """Ends the session of ``token`` if it is one of ``user_id``'s (else does nothing)."""
    db.execute(
        delete(refresh_tokens)
        .where(refresh_tokens.c.token_hash == secret_hash(token))
        .where(refresh_tokens.c.user_id == user_id)
    )


def revoke_user_refresh_tokens(db: Connection, user_id: str) -> None:
    """Ends every session of the user; rotated tokens stay, to recognise their reuse."""
    db.execute(
        delete(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id)
        .where(refresh_tokens.c.revoked_at.is_(None))
    )
