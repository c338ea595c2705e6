"""Session metrics derived from events: concurrent agents, failures and successes."""

from __future__ import annotations

from collections.abc import Iterable

from opensession.hail.model import Event, ShellCommand, TaskEnd, TaskStart, ToolResult


def task_lane(event: Event) -> str | None:
    """The event's task id without surrounding blanks; None when absent or blank (main lane)."""
    if event.task_id is None:
        return None
    return event.task_id.strip() or None


def is_failure(event: Event) -> bool:
    """A ToolResult with ``is_error`` or a ShellCommand that exited non-zero."""
    kind = event.event_type
    if isinstance(kind, ToolResult):
        return kind.data.is_error
    if isinstance(kind, ShellCommand):
        return kind.data.exit_code is not None and kind.data.exit_code != 0
    return False


def is_success(event: Event) -> bool:
    """A ToolResult without ``is_error`` or a ShellCommand that exited 0.

    A ShellCommand without an exit code is neither a success nor a failure.
    """
    kind = event.event_type
    if isinstance(kind, ToolResult):
        return not kind.data.is_error
    if isinstance(kind, ShellCommand):
        return kind.data.exit_code == 0
    return False


def has_errors(events: Iterable[Event]) -> bool:
    """Whether any tool result is an error or any shell command exited non-zero."""
    return any(is_failure(event) for event in events)


def max_active_agents(events: Iterable[Event]) -> int:
    """The most agents at work at once: the main agent plus the most tasks open together.

    Events are walked in order; a TaskStart with a task id opens that task and a TaskEnd with a
    task id closes it (a TaskEnd for a task that is not open changes nothing). An empty session
    has one agent.
    """
    active: set[str] = set()
    largest = 0
    for event in events:
        lane = task_lane(event)
        if lane is None:
            continue
        if isinstance(event.event_type, TaskStart):
            active.add(lane)
            largest = max(largest, len(active))
        elif isinstance(event.event_type, TaskEnd):
            active.discard(lane)
    return 1 + largest
