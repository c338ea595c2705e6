"""Which tool results answer which calls, for a timeline that shows each result under its call
(the web page and the terminal UI)."""

from collections.abc import Iterable

EventKeys = tuple[bool, str | None, str | None]
"""What pairing needs of an event: whether it is a ToolResult, the call id it makes or
answers (if any), and its own event id (if any)."""


def pair_results(events: Iterable[EventKeys]) -> dict[int, list[int]]:
    """The tool results of each call, by event index. A result goes under the latest earlier
    event with the call id it names, or with that event id (some parsers name the call's
    event); one naming no earlier event stays in the timeline on its own."""
    calls: dict[str, int] = {}
    event_ids: dict[str, int] = {}
    paired: dict[int, list[int]] = {}
    for index, (is_result, key, event_id) in enumerate(events):
        if not is_result:
            if key:
                calls[key] = index
            if event_id:
                event_ids.setdefault(event_id, index)
            continue
        call = calls.get(key) if key else None
        if call is None and key:
            call = event_ids.get(key)
        if call is not None:
            paired.setdefault(call, []).append(index)
    return paired
