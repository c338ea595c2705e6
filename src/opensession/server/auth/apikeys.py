"""Personal API keys in the database: one active key per user, stored as SHA-256.

Issuing a key gives the user's active one an end (``API_KEY_GRACE`` later) rather than ending
it at once, so the daemons and scripts using it keep working until they are given the new one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, select, update

from opensession.server.auth.tokens import (
    API_KEY_DISPLAY_LENGTH,
    API_KEY_GRACE,
    new_api_key,
    secret_hash,
)
from opensession.server.db.schema import api_keys, users


def issue_api_key(db: Connection, user_id: str, now: datetime) -> str:
    """A new API key for the user (only its hash and display prefix stored); the previous
    active key stops working ``API_KEY_GRACE`` from ``now``."""
    # Holding the user's row makes two keys issued at once replace each other in turn,
    # instead of both staying active (SQLite writes one at a time anyway).
    db.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
    db.execute(
        update(api_keys)
        .where(api_keys.c.user_id == user_id)
        .where(api_keys.c.expires_at.is_(None))
        .values(expires_at=now + API_KEY_GRACE)
    )
    key = new_api_key()
    db.execute(
        api_keys.insert().values(
            id=str(uuid.uuid4()),
            user_id=user_id,
            key_hash=secret_hash(key),
            display_prefix=key[:API_KEY_DISPLAY_LENGTH],
            created_at=now,
        )
    )
    return key
