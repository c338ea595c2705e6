from __future__ import annotations

from itertools import permutations

import pytest

from opensession.hail import model as m
from opensession.handoff.builder import build_summary
from opensession.handoff.merge import merge_summaries
from opensession.handoff.schema import MergedHandoff, SessionSummary
from tests.handoff.factories import agent, create, delete, edit, in_repo, read, shell, user


def summary_of(session_id: str, start: str, events: list[m.Event]) -> SessionSummary:
    """The handoff of a session ``session_id`` that started at ``start``."""
    built = build_summary(in_repo(events))
    return built.model_copy(update={"source_session_id": session_id, "created_at": start})


FIRST = summary_of(
    "aaaa1111-first",
    "2026-03-01T09:00:00.000Z",
    [
        user(0, "Start the retry feature"),
        create(1, "/repo/retry.py"),
        edit(2, "/repo/http.py"),
        create(3, "/repo/scratch.txt"),
        read(4, "/repo/config.py"),
        shell(5, "pytest", exit_code=1),
        agent(6, "One test fails."),
    ],
)
SECOND = summary_of(
    "bbbb2222-second",
    "2026-03-01T14:30:00.000Z",
    [
        user(0, "Finish the retry feature"),
        edit(1, "/repo/retry.py"),
        delete(2, "/repo/scratch.txt"),
        delete(3, "/repo/http.py"),
        edit(4, "/repo/config.py"),
        read(5, "/repo/README.md"),
        agent(65, "Done."),
    ],
)
THIRD = summary_of(
    "cccc3333-third",
    "2026-03-02T08:15:00.000Z",
    [
        user(0, "Bring the HTTP client back"),
        create(1, "/repo/http.py"),
        shell(2, "git push", exit_code=1),
        agent(3, "Push rejected."),
    ],
)


@pytest.mark.parametrize("order", list(permutations([FIRST, SECOND, THIRD])))
def test_sessions_are_merged_oldest_first_whatever_the_input_order(
    order: tuple[SessionSummary, ...],
) -> None:
    merged = merge_summaries(order)

    assert merged.merge_policy == "time_asc"
    assert merged.to_json()["merge_policy"] == "time_asc"
    assert merged.source_session_ids == ["aaaa1111-first", "bbbb2222-second", "cccc3333-third"]
    assert [s.source_session_id for s in merged.summaries] == merged.source_session_ids


def test_file_actions_are_net_across_sessions() -> None:
    merged = merge_summaries([THIRD, FIRST, SECOND])

    assert {f.path: f.action for f in merged.all_files_modified} == {
        "retry.py": "created",
        "config.py": "edited",
        "http.py": "edited",
    }
    assert merged.all_files_read == ["README.md"]


def test_a_file_created_in_one_session_and_deleted_in_the_next_is_gone() -> None:
    merged = merge_summaries([SECOND, FIRST])

    assert "scratch.txt" not in [f.path for f in merged.all_files_modified]
    assert {f.path: f.action for f in merged.all_files_modified}["http.py"] == "deleted"


def test_totals_add_up_the_sessions() -> None:
    merged = merge_summaries([SECOND, THIRD, FIRST])

    assert merged.total_duration_seconds == 6 + 65 + 3
    assert merged.total_errors == [
        "aaaa1111: `pytest` exited with 1",
        "cccc3333: `git push` exited with 1",
    ]


def test_the_merged_handoff_round_trips_through_json() -> None:
    merged = merge_summaries([FIRST, SECOND, THIRD])

    assert MergedHandoff.model_validate(merged.to_json()) == merged


def test_sessions_starting_together_are_ordered_by_id() -> None:
    twin = FIRST.model_copy(update={"source_session_id": "0000-twin"})

    merged = merge_summaries([FIRST, twin])

    assert merged.source_session_ids == ["0000-twin", "aaaa1111-first"]
