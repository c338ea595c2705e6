"""Access tokens (JWT, HS256, short-lived), refresh tokens and API keys (random, stored hashed).

A refresh token or API key is shown to its owner once; the database keeps only its SHA-256, so
a leaked database does not leak working credentials.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import jwt

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
API_KEY_PREFIX = "osk_"
# How long a replaced API key keeps working, so running daemons can be given the new one.
API_KEY_GRACE = timedelta(days=7)
# What of a key is kept in clear to tell keys apart: ``osk_`` and 8 of its 32 hex digits.
API_KEY_DISPLAY_LENGTH = len(API_KEY_PREFIX) + 8
_ISSUER = "opensession"


class InvalidTokenError(Exception):
    """A token that is malformed, badly signed or expired (one line saying which)."""


def issue_access_token(secret: str, user_id: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims = {
        "sub": user_id,
        "iss": _ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + ACCESS_TOKEN_TTL).timestamp()),
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_access_token(secret: str, token: str) -> str:
    """The user id of a valid access token; InvalidTokenError otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=_ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidTokenError("the access token has expired; refresh it") from None
    except jwt.PyJWTError:
        raise InvalidTokenError("the access token is not valid") from None
    if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
        raise InvalidTokenError("the access token is not valid")
    return str(claims["sub"])


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    """``osk_`` and 32 hex digits."""
    return API_KEY_PREFIX + secrets.token_hex(16)


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) a refresh token or API key is stored and looked up by."""
    return hashlib.sha256(secret.encode()).hexdigest()
