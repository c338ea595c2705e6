"""Max active agents and error detection, on sessions built from real model objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opensession.hail.metrics import has_errors, max_active_agents
from opensession.hail.model import (
    AgentMessage,
    Event,
    HailModel,
    NameData,
    ShellCommand,
    ShellCommandData,
    TaskEnd,
    TaskStart,
    ToolCall,
    ToolResult,
    ToolResultData,
    UserMessage,
)

_START = datetime(2026, 2, 21, 9, 0, tzinfo=UTC)


def make_events(*steps: tuple[HailModel, str | None]) -> list[Event]:
    """Events one second apart, each from an event type and a task id."""
    return [
        Event(
            event_id=f"e{index}",
            timestamp=_START + timedelta(seconds=index),
            event_type=kind,
            task_id=task_id,
        )
        for index, (kind, task_id) in enumerate(steps)
    ]


def start(task_id: str | None) -> tuple[HailModel, str | None]:
    return TaskStart(), task_id


def end(task_id: str | None) -> tuple[HailModel, str | None]:
    return TaskEnd(), task_id


def shell(exit_code: int | None) -> tuple[HailModel, str | None]:
    return ShellCommand(data=ShellCommandData(command="pytest", exit_code=exit_code)), None


def tool_result(is_error: bool) -> tuple[HailModel, str | None]:
    return ToolResult(data=ToolResultData(name="Bash", is_error=is_error)), None


def test_an_empty_session_has_one_agent() -> None:
    assert max_active_agents([]) == 1


def test_a_session_without_tasks_has_one_agent() -> None:
    events = make_events((UserMessage(), None), (AgentMessage(), None))
    assert max_active_agents(events) == 1


def test_sequential_tasks_count_as_one_sub_agent() -> None:
    events = make_events(start("t1"), end("t1"), start("t2"), end("t2"))
    assert max_active_agents(events) == 2


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            [start("t1"), start("t2"), start("t3"), end("t3"), end("t2"), end("t1")], 4, id="nested"
        ),
        pytest.param(
            [start("t1"), start("t2"), end("t1"), start("t3"), end("t2"), end("t3")],
            3,
            id="overlapping",
        ),
        pytest.param([start("t1"), start("t2")], 3, id="never-ended"),
    ],
)
def test_concurrent_tasks_add_up(steps: list[tuple[HailModel, str | None]], expected: int) -> None:
    assert max_active_agents(make_events(*steps)) == expected


def test_a_task_started_twice_is_one_agent() -> None:
    events = make_events(start("t1"), start("t1"), end("t1"))
    assert max_active_agents(events) == 2


def test_an_unmatched_task_end_closes_nothing() -> None:
    events = make_events(end("ghost"), start("t1"), end("ghost"), start("t2"))
    assert max_active_agents(events) == 3


def test_task_events_without_a_task_id_are_ignored() -> None:
    events = make_events(start(None), start("t1"), end(None), start("t2"))
    assert max_active_agents(events) == 3


def test_a_blank_task_id_counts_as_none_and_ids_are_trimmed() -> None:
    events = make_events(start("  "), start(" t1 "), end("t1"), start("t2"))
    assert max_active_agents(events) == 2


def test_only_task_start_opens_a_task() -> None:
    events = make_events((ToolCall(data=NameData(name="Read")), "t1"), (UserMessage(), "t2"))
    assert max_active_agents(events) == 1


def test_a_clean_session_has_no_errors() -> None:
    events = make_events((UserMessage(), None), shell(0), tool_result(False), shell(None))
    assert has_errors(events) is False


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(shell(1), id="shell-exit-1"),
        pytest.param(shell(-9), id="shell-killed"),
        pytest.param(tool_result(True), id="tool-error"),
    ],
)
def test_a_failure_is_an_error(failure: tuple[HailModel, str | None]) -> None:
    events = make_events(shell(0), failure, tool_result(False))
    assert has_errors(events) is True
