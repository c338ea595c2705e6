"""Checks of a handoff's consistency and completeness (``--validate``).

Error-level findings mean the contract cannot be followed as written (a dependency cycle, steps
that disagree with the work packages, references to nothing, an empty session); ``--strict``
fails only on those. Warnings say what the next agent will have to find out for itself.
"""

from __future__ import annotations

from collections.abc import Callable

from opensession.handoff.schema import (
    Finding,
    MergedHandoff,
    SessionSummary,
    Severity,
    ValidationReport,
)

_Find = Callable[[str, str], None]

FINDING_SEVERITIES: dict[str, Severity] = {
    "objective_missing": "warning",
    "next_actions_missing": "warning",
    "verification_missing": "warning",
    "evidence_missing": "warning",
    "objective_evidence_missing": "warning",
    "work_package_cycle": "error",
    "ordered_steps_missing": "warning",
    "ordered_steps_inconsistent": "error",
    # Ours, beyond the reference's:
    "session_empty": "error",
    "work_package_dependency_unknown": "error",
    "evidence_ref_unknown": "error",
    "checks_failing": "warning",
}


def validate_summary(summary: SessionSummary) -> ValidationReport:
    """The findings on one session's handoff; ``passed`` when none is an error."""
    findings: list[Finding] = []

    def find(code: str, message: str) -> None:
        findings.append(Finding(code=code, severity=FINDING_SEVERITIES[code], message=message))

    contract, verification = summary.execution_contract, summary.verification
    if summary.stats.event_count == 0:
        find("session_empty", "the session has no events: there is nothing to hand off")
    if not summary.objective:
        reason = summary.objective_undefined_reason or "no reason recorded"
        find("objective_missing", f"no objective could be derived ({reason})")
    elif not any(e.claim.startswith("objective:") for e in summary.evidence):
        find("objective_evidence_missing", "the objective has no evidence item backing it")
    if verification.checks_failed and not contract.next_actions:
        find(
            "next_actions_missing",
            f"{len(verification.checks_failed)} check(s) still fail but no next action says "
            "what to do",
        )
    if verification.checks_failed:
        failing = ", ".join(f"`{c}`" for c in verification.checks_failed)
        find("checks_failing", f"checks failing at the end of the session: {failing}")
    if summary.files_modified and not verification.checks_run:
        find(
            "verification_missing",
            f"{len(summary.files_modified)} file(s) modified but no test, lint or build check "
            "was run",
        )
    if not summary.evidence:
        find("evidence_missing", "no evidence items: no claim points at an event")
    _check_work_packages(summary, find)
    return ValidationReport(
        session_id=summary.source_session_id,
        passed=not any(f.severity == "error" for f in findings),
        findings=findings,
    )


def validate_merged(merged: MergedHandoff) -> list[ValidationReport]:
    """One report per session of a merged handoff, in its order."""
    return [validate_summary(summary) for summary in merged.summaries]


def _check_work_packages(summary: SessionSummary, find: _Find) -> None:
    packages = {p.id: p for p in summary.work_packages}
    steps = summary.execution_contract.ordered_steps
    for package in summary.work_packages:
        unknown = [d for d in package.depends_on if d not in packages]
        if unknown:
            find(
                "work_package_dependency_unknown",
                f"work package {package.id} depends on unknown {', '.join(unknown)}",
            )
    cycle = _cycle({p.id: [d for d in p.depends_on if d in packages] for p in packages.values()})
    if cycle:
        find("work_package_cycle", f"work packages depend on each other: {' -> '.join(cycle)}")
    material = [p for p in summary.work_packages if p.files or p.commands]
    if material and not steps:
        find(
            "ordered_steps_missing",
            f"{len(material)} work package(s) did work but there are no ordered steps",
        )
    elif steps:
        problem = _steps_problem(summary)
        if problem:
            find("ordered_steps_inconsistent", problem)
    evidence = {e.id for e in summary.evidence}
    refs = [r for p in summary.work_packages for r in p.evidence_refs]
    refs += [r for s in steps for r in s.evidence_refs]
    dangling = sorted({r for r in refs if r not in evidence})
    if dangling:
        find("evidence_ref_unknown", f"evidence refs point at nothing: {', '.join(dangling)}")


def _steps_problem(summary: SessionSummary) -> str | None:
    packages = {p.id: p for p in summary.work_packages}
    steps = summary.execution_contract.ordered_steps
    step_ids = [s.work_package_id for s in steps]
    if sorted(step_ids) != sorted(packages):
        extra = sorted(set(step_ids) - set(packages))
        missing = sorted(set(packages) - set(step_ids))
        parts = [f"steps name unknown work packages {extra}"] if extra else []
        parts += [f"work packages without a step {missing}"] if missing else []
        return "; ".join(parts) or "a work package has several steps"
    sequences = [s.sequence for s in steps]
    if sequences != sorted(sequences):
        return "ordered steps are not in sequence order"
    by_sequence = sorted(packages.values(), key=lambda p: p.sequence)
    if step_ids != [p.id for p in by_sequence]:
        return "ordered steps are not in the work packages' order"
    for step in steps:
        if sorted(step.depends_on) != sorted(packages[step.work_package_id].depends_on):
            return f"step {step.sequence} ({step.work_package_id}) has other dependencies"
    return None


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One dependency cycle of ``graph`` as a path that returns to its start, or None."""
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        path = [root]
        on_path = {root}
        pending = [iter(graph[root])]
        while pending:
            target = next(pending[-1], None)
            if target is None:
                done.add(path[-1])
                on_path.discard(path.pop())
                pending.pop()
            elif target in on_path:
                return [*path[path.index(target) :], target]
            elif target not in done:
                path.append(target)
                on_path.add(target)
                pending.append(iter(graph.get(target, [])))
    return None
