from __future__ import annotations

from collections.abc import Callable

import pytest

from opensession.hail.model import Stats
from opensession.handoff.builder import build_summary
from opensession.handoff.merge import merge_summaries
from opensession.handoff.schema import SessionSummary
from opensession.handoff.validation import (
    FINDING_SEVERITIES,
    validate_merged,
    validate_summary,
)
from tests.hail.factories import session
from tests.handoff.factories import (
    agent,
    clean_summary,
    edit,
    failing_summary,
    in_repo,
    shell,
    task_start,
    user,
)


def codes(summary: SessionSummary) -> dict[str, str]:
    """Each finding's severity by its code."""
    return {f.code: f.severity for f in validate_summary(summary).findings}


def three_packages() -> SessionSummary:
    """A clean handoff with three work packages: a request and two sub-agent tasks."""
    return build_summary(
        in_repo(
            [
                user(0, "Port both adapters"),
                task_start(1, "t1", "Port S3"),
                task_start(2, "t2", "Port GCS"),
                edit(3, "/repo/s3.py", task_id="t1"),
                edit(4, "/repo/gcs.py", task_id="t2"),
                shell(5, "go test ./...", exit_code=0),
                agent(6, "Both ported."),
            ]
        )
    )


def set_depends_on(summary: SessionSummary, depends_on: dict[str, list[str]]) -> SessionSummary:
    """``summary`` with these dependencies, in its work packages and their ordered steps alike."""
    for package in summary.work_packages:
        package.depends_on = depends_on.get(package.id, package.depends_on)
    for step in summary.execution_contract.ordered_steps:
        step.depends_on = depends_on.get(step.work_package_id, step.depends_on)
    return summary


def no_objective(summary: SessionSummary) -> SessionSummary:
    return summary.model_copy(update={"objective": None, "objective_undefined_reason": "none"})


def no_next_actions(summary: SessionSummary) -> SessionSummary:
    summary.execution_contract.next_actions = []
    return summary


def no_checks(summary: SessionSummary) -> SessionSummary:
    summary.verification.checks_run = []
    summary.verification.checks_passed = []
    return summary


def no_evidence(summary: SessionSummary) -> SessionSummary:
    summary.evidence = []
    for package in summary.work_packages:
        package.evidence_refs = []
    for step in summary.execution_contract.ordered_steps:
        step.evidence_refs = []
    return summary


def no_objective_evidence(summary: SessionSummary) -> SessionSummary:
    summary.evidence = [e for e in summary.evidence if not e.claim.startswith("objective:")]
    return summary


def cycle(summary: SessionSummary) -> SessionSummary:
    return set_depends_on(summary, {"wp-1": ["wp-3"]})


def no_steps(summary: SessionSummary) -> SessionSummary:
    summary.execution_contract.ordered_steps = []
    return summary


def reversed_steps(summary: SessionSummary) -> SessionSummary:
    summary.execution_contract.ordered_steps.reverse()
    return summary


def empty_session(_: SessionSummary) -> SessionSummary:
    return build_summary(session([]))


def unknown_dependency(summary: SessionSummary) -> SessionSummary:
    return set_depends_on(summary, {"wp-2": ["wp-1", "wp-9"]})


def unknown_evidence(summary: SessionSummary) -> SessionSummary:
    summary.work_packages[0].evidence_refs.append("ev-404")
    return summary


# Each finding code, the handoff that has the problem, and the severity it must have.
PROBLEMS: dict[str, tuple[Callable[[], SessionSummary], Callable[..., SessionSummary], str]] = {
    "objective_missing": (clean_summary, no_objective, "warning"),
    "next_actions_missing": (failing_summary, no_next_actions, "warning"),
    "verification_missing": (clean_summary, no_checks, "warning"),
    "evidence_missing": (clean_summary, no_evidence, "warning"),
    "objective_evidence_missing": (clean_summary, no_objective_evidence, "warning"),
    "work_package_cycle": (three_packages, cycle, "error"),
    "ordered_steps_missing": (clean_summary, no_steps, "warning"),
    "ordered_steps_inconsistent": (three_packages, reversed_steps, "error"),
    "session_empty": (clean_summary, empty_session, "error"),
    "work_package_dependency_unknown": (three_packages, unknown_dependency, "error"),
    "evidence_ref_unknown": (clean_summary, unknown_evidence, "error"),
    "checks_failing": (clean_summary, lambda _: failing_summary(), "warning"),
}


def test_every_finding_code_is_exercised() -> None:
    assert set(PROBLEMS) == set(FINDING_SEVERITIES)


@pytest.mark.parametrize("start", [clean_summary, three_packages])
def test_a_clean_handoff_passes_without_findings(start: Callable[[], SessionSummary]) -> None:
    report = validate_summary(start())

    assert report.passed
    assert report.findings == []


@pytest.mark.parametrize("code", list(PROBLEMS))
def test_each_problem_is_found_with_its_severity(code: str) -> None:
    start, spoil, severity = PROBLEMS[code]

    found = codes(spoil(start()))

    assert found.get(code) == severity
    assert FINDING_SEVERITIES[code] == severity


@pytest.mark.parametrize("code", list(PROBLEMS))
def test_a_handoff_fails_only_on_errors(code: str) -> None:
    start, spoil, severity = PROBLEMS[code]

    report = validate_summary(spoil(start()))

    assert report.passed is not any(f.severity == "error" for f in report.findings)
    assert report.passed is (severity == "warning")


def test_the_report_names_the_session() -> None:
    summary = clean_summary()

    assert validate_summary(summary).session_id == summary.source_session_id


def test_a_cycle_is_named() -> None:
    summary = set_depends_on(three_packages(), {"wp-2": ["wp-1", "wp-3"], "wp-3": ["wp-2"]})

    [finding] = [f for f in validate_summary(summary).findings if f.code == "work_package_cycle"]

    assert finding.message.endswith("wp-2 -> wp-3 -> wp-2")


def test_a_package_depending_on_itself_is_a_cycle() -> None:
    summary = set_depends_on(three_packages(), {"wp-1": ["wp-1"]})

    [finding] = validate_summary(summary).findings

    assert (finding.code, finding.message.endswith("wp-1 -> wp-1")) == ("work_package_cycle", True)


def test_shared_dependencies_are_no_cycle() -> None:
    summary = set_depends_on(three_packages(), {"wp-3": ["wp-1", "wp-2"]})

    assert validate_summary(summary).findings == []


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda steps: steps.pop(), "work packages without a step ['wp-3']"),
        (lambda steps: setattr(steps[0], "work_package_id", "wp-7"), "unknown work packages"),
        (lambda steps: setattr(steps[1], "sequence", 9), "not in sequence order"),
        (lambda steps: setattr(steps[2], "depends_on", []), "step 3 (wp-3) has other dependencies"),
    ],
)
def test_steps_that_disagree_with_the_packages_say_how(
    spoil: Callable[[list], object], message: str
) -> None:
    summary = three_packages()
    spoil(summary.execution_contract.ordered_steps)

    [finding] = validate_summary(summary).findings

    assert finding.code == "ordered_steps_inconsistent"
    assert message in finding.message


def test_an_empty_session_fails() -> None:
    summary = build_summary(session([]))

    report = validate_summary(summary)

    assert summary.stats == Stats()
    assert not report.passed
    assert {f.code for f in report.findings} == {
        "session_empty",
        "objective_missing",
        "evidence_missing",
    }


def test_a_merged_handoff_has_one_report_per_session_in_its_order() -> None:
    late = clean_summary().model_copy(
        update={"source_session_id": "late", "created_at": "2026-04-01T00:00:00.000Z"}
    )
    early = failing_summary().model_copy(update={"source_session_id": "early"})

    reports = validate_merged(merge_summaries([late, early]))

    assert [(r.session_id, r.passed, len(r.findings)) for r in reports] == [
        ("early", True, 1),
        ("late", True, 0),
    ]
