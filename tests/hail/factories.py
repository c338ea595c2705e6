"""Small builders for HAIL objects in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from opensession.hail.model import (
    Agent,
    Context,
    Event,
    EventType,
    Session,
    TextBlock,
    UserMessage,
)
from opensession.hail.stats import compute_stats

START = datetime(2026, 2, 21, 0, 39, 28, 356000, tzinfo=UTC)


def event(
    index: int,
    kind: EventType | None = None,
    *,
    text: str = "",
    blocks: list[Any] | None = None,
    seconds: float | None = None,
    **fields: Any,
) -> Event:
    return Event(
        event_id=f"e{index}",
        timestamp=START + timedelta(seconds=index if seconds is None else seconds),
        event_type=kind if kind is not None else UserMessage(),
        content={"blocks": (blocks or []) + ([TextBlock(text=text)] if text else [])},
        **fields,
    )


def session(events: list[Event], **context: Any) -> Session:
    created = events[0].timestamp if events else START
    updated = events[-1].timestamp if events else START
    return Session(
        session_id="11111111-2222-3333-4444-555555555555",
        agent=Agent(provider="anthropic", model="claude-opus-4", tool="claude-code"),
        context=Context(created_at=created, updated_at=updated, **context),
        events=events,
        stats=compute_stats(events),
    )
