"""Session statistics recomputed from events, with the reference implementation's rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from opensession.hail.model import (
    AgentMessage,
    CodeSearch,
    Event,
    FileCreate,
    FileDelete,
    FileEdit,
    FileRead,
    FileSearch,
    Stats,
    TaskEnd,
    ToolCall,
    UserMessage,
)

_USER, _AGENT, _TASK_END, _TOOL_CALL, _FILE_CHANGE = "user", "agent", "task_end", "tool", "file"
_CATEGORY: dict[type, str] = {
    UserMessage: _USER,
    AgentMessage: _AGENT,
    TaskEnd: _TASK_END,
    **dict.fromkeys((ToolCall, FileRead, CodeSearch, FileSearch), _TOOL_CALL),
    **dict.fromkeys((FileEdit, FileCreate, FileDelete), _FILE_CHANGE),
}


_MAX_TOKENS = 2**53  # beyond any real counter; larger values are corrupt data, not tokens


def token_count(value: Any) -> int | None:
    """A token counter from an event attribute, or None when it is not a plausible count."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()  # ASCII digits only: "²" is a digit to isdigit(), not to int()
        value = int(text) if text.isascii() and text.isdigit() else None
    if isinstance(value, int | float) and 0 <= value <= _MAX_TOKENS:  # NaN fails both
        return int(value)
    return None


def diff_line_counts(diff: str) -> tuple[int, int]:
    """Lines added and removed by a unified diff (file headers ``+++``/``---`` excluded)."""
    return (
        _lines_starting_with(diff, "+") - _lines_starting_with(diff, "+++"),
        _lines_starting_with(diff, "-") - _lines_starting_with(diff, "---"),
    )


def _lines_starting_with(text: str, prefix: str) -> int:
    # str.count runs in C: far faster than splitting a large diff into lines.
    return text.startswith(prefix) + text.count("\n" + prefix)


class StatsAccumulator:
    """Stats built one event at a time, so a streamed file never has to be held whole."""

    def __init__(self) -> None:
        self._events = 0
        self._messages = 0
        self._user_messages = 0
        self._tool_calls = 0
        self._tasks: set[str] = set()
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._input_sum = 0
        self._output_sum = 0
        self._input_total_max: int | None = None
        self._output_total_max: int | None = None
        self._files: set[str] = set()
        self._lines_added = 0
        self._lines_removed = 0

    def add(self, event: Event) -> None:
        self._events += 1
        kind = event.event_type
        # Dispatch on the exact class: isinstance against pydantic models goes through the
        # slow abstract-base-class check, and stats run once per event of every parse.
        category = _CATEGORY.get(type(kind))
        if category == _USER:
            self._messages += 1
            self._user_messages += 1
        elif category == _AGENT or (
            category == _TASK_END and kind.data.summary and kind.data.summary.strip()
        ):
            self._messages += 1
        elif category == _TOOL_CALL:
            self._tool_calls += 1
        elif category == _FILE_CHANGE:
            self._files.add(kind.data.path)
            if type(kind) is FileEdit and kind.data.diff:
                added, removed = diff_line_counts(kind.data.diff)
                self._lines_added += added
                self._lines_removed += removed
        if event.task_id is not None:
            self._tasks.add(event.task_id)
        if self._first is None:
            self._first = event.timestamp
        self._last = event.timestamp
        if event.attributes:
            self._add_tokens(event.attributes)

    def _add_tokens(self, attributes: dict[str, Any]) -> None:
        if "input_tokens" in attributes:
            self._input_sum += token_count(attributes["input_tokens"]) or 0
        if "output_tokens" in attributes:
            self._output_sum += token_count(attributes["output_tokens"]) or 0
        if "input_tokens_total" in attributes:
            total = token_count(attributes["input_tokens_total"])
            if total is not None:
                self._input_total_max = max(self._input_total_max or 0, total)
        if "output_tokens_total" in attributes:
            total = token_count(attributes["output_tokens_total"])
            if total is not None:
                self._output_total_max = max(self._output_total_max or 0, total)

    def result(self) -> Stats:
        duration = 0
        if self._first is not None and self._last is not None:
            duration = max(0, int((self._last - self._first).total_seconds()))
        return Stats(
            event_count=self._events,
            message_count=self._messages,
            tool_call_count=self._tool_calls,
            task_count=len(self._tasks),
            duration_seconds=duration,
            total_input_tokens=(
                self._input_sum if self._input_total_max is None else self._input_total_max
            ),
            total_output_tokens=(
                self._output_sum if self._output_total_max is None else self._output_total_max
            ),
            user_message_count=self._user_messages,
            files_changed=len(self._files),
            lines_added=self._lines_added,
            lines_removed=self._lines_removed,
        )


def compute_stats(events: Iterable[Event]) -> Stats:
    """Stats of a sequence of events; recomputing from the same events gives the same stats."""
    accumulator = StatsAccumulator()
    for event in events:
        accumulator.add(event)
    return accumulator.result()
