from __future__ import annotations

import math

import pytest

from opensession.hail import model as m
from opensession.hail.stats import compute_stats, diff_line_counts, token_count

from .factories import event


def test_messages_count_user_agent_and_task_ends_with_a_summary() -> None:
    stats = compute_stats(
        [
            event(1, m.UserMessage(), text="do it"),
            event(2, m.AgentMessage(), text="ok"),
            event(3, m.SystemMessage(), text="ctx"),
            event(4, m.TaskEnd(data=m.TaskEndData(summary="all green"))),
            event(5, m.TaskEnd(data=m.TaskEndData(summary="   "))),
            event(6, m.TaskEnd()),
        ]
    )
    assert stats.message_count == 3
    assert stats.user_message_count == 1
    assert stats.event_count == 6


def test_tool_calls_are_tool_call_read_and_searches_but_not_shell_or_edits() -> None:
    stats = compute_stats(
        [
            event(1, m.ToolCall(data=m.NameData(name="Task"))),
            event(2, m.FileRead(data=m.PathData(path="a.py"))),
            event(3, m.CodeSearch(data=m.QueryData(query="def main"))),
            event(4, m.FileSearch(data=m.PatternData(pattern="*.py"))),
            event(5, m.ShellCommand(data=m.ShellCommandData(command="ls"))),
            event(6, m.FileEdit(data=m.FileEditData(path="a.py"))),
            event(7, m.WebSearch(data=m.QueryData(query="x"))),
        ]
    )
    assert stats.tool_call_count == 4


def test_files_changed_are_distinct_paths_and_lines_come_from_edit_diffs() -> None:
    diff = "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,3 @@\n-old\n+new\n+more\n context\n"
    stats = compute_stats(
        [
            event(1, m.FileEdit(data=m.FileEditData(path="a.py", diff=diff))),
            event(2, m.FileEdit(data=m.FileEditData(path="a.py", diff="-x\n"))),
            event(3, m.FileCreate(data=m.PathData(path="b.py"))),
            event(4, m.FileDelete(data=m.PathData(path="c.py"))),
        ]
    )
    assert stats.files_changed == 3
    assert (stats.lines_added, stats.lines_removed) == (2, 2)


def test_tokens_sum_per_event_counts_when_there_are_no_cumulative_totals() -> None:
    stats = compute_stats(
        [
            event(1, attributes={"input_tokens": 100, "output_tokens": 10}),
            event(2, attributes={"input_tokens": 50, "output_tokens": "7"}),
        ]
    )
    assert (stats.total_input_tokens, stats.total_output_tokens) == (150, 17)


def test_cumulative_totals_win_over_per_event_counts_and_their_maximum_is_taken() -> None:
    stats = compute_stats(
        [
            event(1, attributes={"input_tokens": 100, "input_tokens_total": 900}),
            event(2, attributes={"input_tokens": 50, "input_tokens_total": 1200}),
            event(3, attributes={"input_tokens_total": 1100, "output_tokens": 5}),
        ]
    )
    assert stats.total_input_tokens == 1200
    assert stats.total_output_tokens == 5


def test_duration_is_first_to_last_event_and_tasks_are_distinct_ids() -> None:
    stats = compute_stats(
        [
            event(1, seconds=0.5, task_id="a"),
            event(2, seconds=10.2, task_id="b"),
            event(3, seconds=125.9, task_id="a"),
        ]
    )
    assert stats.duration_seconds == 125
    assert stats.task_count == 2
    assert compute_stats([]).duration_seconds == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, 12), (12.0, 12), ("12", 12), (True, None), (-1, None), (math.nan, None),
     (math.inf, None), (2**60, None), ("many", None), ("²", None), (None, None)],
)  # fmt: skip
def test_token_counts_ignore_what_is_not_a_plausible_count(
    value: object, expected: int | None
) -> None:
    assert token_count(value) == expected


def test_diff_headers_are_not_counted_as_lines() -> None:
    assert diff_line_counts("--- a\n+++ b\n+x\n-y\n-z\n") == (1, 2)
