"""Limits on sign-in failures and sign-ups, counted in the ``login_attempts`` table.

Counting in the database (not in memory) holds the limits across every process serving the
same database. Each key counts in a fixed window that starts at its first attempt; the count
goes up with one atomic upsert, so concurrent attempts are never lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi.responses import JSONResponse
from sqlalchemy import Connection, case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from opensession.server.db.schema import Time, login_attempts
from opensession.server.errors import ApiError


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per ``window`` for each subject (an email or an IP address)."""

    kind: str
    attempts: int
    window: timedelta
    refusal: str

    def key(self, subject: str) -> str:
        return f"{self.kind}:{subject}"


LOGIN_PER_ACCOUNT = Limit(
    "account", 5, timedelta(minutes=15), "too many failed sign-ins for this account"
)
LOGIN_PER_IP = Limit("ip", 20, timedelta(minutes=15), "too many failed sign-ins from this address")
REGISTER_PER_IP = Limit(
    "register-ip", 10, timedelta(hours=1), "too many accounts created from this address"
)
# Past this age a row counts for no limit any more.
_OLDEST_WINDOW = max(LOGIN_PER_ACCOUNT.window, LOGIN_PER_IP.window, REGISTER_PER_IP.window)


class RateLimitError(ApiError):
    """A 429 whose ``Retry-After`` header (and ``retry_after`` field) says when to try again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(429, "too_many_requests", message, retry_after=retry_after)
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        response = super().response()
        response.headers["Retry-After"] = str(self.retry_after)
        return response


def check_limit(db: Connection, limit: Limit, subject: str, now: datetime) -> None:
    """RateLimitError when ``subject`` has used up its attempts in the current window."""
    row = db.execute(
        select(login_attempts).where(login_attempts.c.key == limit.key(subject))
    ).first()
    if row is None or row.failures < limit.attempts:
        return
    window_end = row.window_start + limit.window
    if window_end > now:
        wait = math.ceil((window_end - now).total_seconds())
        raise RateLimitError(f"{limit.refusal}; try again in {wait} seconds", wait)


def count_attempt(db: Connection, limit: Limit, subject: str, now: datetime) -> None:
    """One more attempt for ``subject``: the first of a new window when the last has ended."""
    window_over = login_attempts.c.window_start <= now - limit.window
    insert = postgresql.insert if db.dialect.name == "postgresql" else sqlite.insert
    db.execute(
        insert(login_attempts)
        .values(key=limit.key(subject), window_start=now, failures=1)
        .on_conflict_do_update(
            index_elements=[login_attempts.c.key],
            set_={
                "failures": case((window_over, 1), else_=login_attempts.c.failures + 1),
                "window_start": case(
                    (window_over, literal(now, Time)), else_=login_attempts.c.window_start
                ),
            },
        )
    )
    db.execute(delete(login_attempts).where(login_attempts.c.window_start < now - _OLDEST_WINDOW))


def clear_attempts(db: Connection, limit: Limit, subject: str) -> None:
    """Forgets ``subject``'s attempts (a successful sign-in clears its account's count)."""
    db.execute(delete(login_attempts).where(login_attempts.c.key == limit.key(subject)))
