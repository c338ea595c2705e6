"""Handoffs as text: Markdown (``HANDOFF.md``), stream envelopes, and validation reports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from opensession.hail.markdown import format_duration
from opensession.hail.model import format_timestamp
from opensession.handoff.schema import MergedHandoff, SessionSummary, ValidationReport

STREAM_VERSION = "0.1"


def summary_line(summary: SessionSummary) -> str:
    """One line for a human: tool, duration, tokens, files, errors and the objective."""
    stats = summary.stats
    tokens = stats.total_input_tokens + stats.total_output_tokens
    parts = [
        f"{summary.tool} session {summary.source_session_id}",
        format_duration(summary.duration_seconds),
        f"{tokens:,} tokens",
        f"{len(summary.files_modified)} files modified",
        f"{len(summary.errors)} errors",
    ]
    objective = summary.objective.splitlines()[0] if summary.objective else "no objective"
    return f"{', '.join(parts)}: {objective}"


def stream_envelopes(
    summaries: Sequence[SessionSummary], reports: Sequence[ValidationReport] | None = None
) -> Iterator[dict[str, Any]]:
    """The machine-consumable stream: one ``session_summary`` envelope per session, each
    followed by its ``validation_report`` when ``reports`` are given."""
    for number, summary in enumerate(summaries):
        yield envelope("session_summary", summary_line(summary), data=summary.to_json())
        if reports is not None:
            report = reports[number]
            yield envelope("validation_report", report_line(report), data=report.to_json())


def envelope(kind: str, message: str, **payload: Any) -> dict[str, Any]:
    """One stream line: ``{"version", "type", "@message", "@timestamp", **payload}``."""
    now = format_timestamp(datetime.now(UTC))
    return {"version": STREAM_VERSION, "type": kind, "@message": message, "@timestamp": now} | (
        payload
    )


def diagnostic(message: str, **details: Any) -> dict[str, Any]:
    """An error in a machine format: a ``diagnostic`` envelope at level ``error``."""
    return {
        "version": STREAM_VERSION,
        "type": "diagnostic",
        "@level": "error",
        "@message": message,
        "diagnostic": {"message": message, **details},
    }


def report_line(report: ValidationReport) -> str:
    """``passed`` / ``failed`` with the number of errors and warnings."""
    errors = sum(1 for f in report.findings if f.severity == "error")
    warnings = sum(1 for f in report.findings if f.severity == "warning")
    verdict = "passed" if report.passed else "failed"
    return f"{verdict} ({errors} errors, {warnings} warnings)"


def human_report(reports: Sequence[ValidationReport]) -> str:
    """The validation reports as indented text, one block per session."""
    lines: list[str] = []
    for report in reports:
        lines.append(f"handoff validation {report.session_id}: {report_line(report)}")
        lines += [f"  {f.severity:<7} {f.code}: {f.message}" for f in report.findings]
    return "\n".join(lines) + "\n"


def render_markdown(handoff: MergedHandoff) -> str:
    """``HANDOFF.md``: what was asked, done, verified, failed and left, session by session."""
    count = len(handoff.summaries)
    lines = [
        "# Handoff",
        "",
        f"{count} session{'s' if count != 1 else ''}, oldest first · total time "
        f"{format_duration(handoff.total_duration_seconds)} · "
        f"{len(handoff.all_files_modified)} files modified · "
        f"{len(handoff.total_errors)} errors",
    ]
    if count > 1 and handoff.all_files_modified:
        lines += ["", "## All files modified", ""]
        lines += [f"- `{f.path}` ({f.action})" for f in handoff.all_files_modified]
    for summary in handoff.summaries:
        lines += ["", *_session_markdown(summary, level=2 if count == 1 else 3)]
    return "\n".join(lines).rstrip() + "\n"


def _session_markdown(summary: SessionSummary, level: int) -> list[str]:
    head = "#" * level
    sub = "#" * (level + 1) if level < 3 else "####"
    contract, verification, uncertainty = (
        summary.execution_contract,
        summary.verification,
        summary.uncertainty,
    )
    stats = summary.stats
    objective = summary.objective or f"*undefined* — {summary.objective_undefined_reason}"
    lines = [
        f"{head} {summary.tool} · `{summary.source_session_id}`",
        "",
        f"- **Model**: {summary.model} · **Duration**: "
        f"{format_duration(summary.duration_seconds)} · **Tokens**: "
        f"{stats.total_input_tokens:,} in / {stats.total_output_tokens:,} out",
        f"- **Objective**: {objective}",
    ]
    lines += _section(sub, "Next actions", [f"1. {a}" for a in contract.next_actions])
    lines += _section(
        sub,
        "Parallel actions (independent, can run side by side)",
        [f"- {a}" for a in contract.parallel_actions],
    )
    lines += _section(sub, "Done when", [f"- [ ] {d}" for d in contract.done_definition])
    lines += _section(
        sub,
        "Ordered steps",
        [
            f"{s.sequence}. **{s.work_package_id}** {s.title} — {s.status}"
            + (f" (after {', '.join(s.depends_on)})" if s.depends_on else "")
            for s in contract.ordered_steps
        ],
    )
    lines += _section(
        sub,
        "Verification",
        [f"- ✅ `{c}`" for c in verification.checks_passed]
        + [f"- ❌ `{c}`" for c in verification.checks_failed]
        + [f"- ⚠️ missing: {m}" for m in verification.required_checks_missing],
    )
    lines += _section(
        sub, "Files modified", [f"- `{f.path}` ({f.action})" for f in summary.files_modified]
    )
    lines += _section(sub, "Errors", [f"- {e}" for e in summary.errors])
    lines += _section(
        sub,
        "Open questions and decisions",
        [f"- **Decide**: {q}" for q in uncertainty.decision_required]
        + [f"- {q}" for q in uncertainty.open_questions]
        + [f"- *Assumed*: {a}" for a in uncertainty.assumptions],
    )
    rollback = contract.rollback_hint and f"`{contract.rollback_hint}`"
    reason = contract.rollback_hint_missing_reason or contract.rollback_hint_undefined_reason
    lines += _section(sub, "Rollback", [rollback or f"*unavailable* — {reason}"])
    lines += _section(sub, "Commands to replay", [f"- `{c}`" for c in contract.ordered_commands])
    lines += _section(
        sub,
        "Undefined",
        [f"- `{u.path}`: {u.undefined_reason}" for u in summary.undefined_fields],
    )
    return lines


def _section(heading: str, title: str, items: list[str]) -> list[str]:
    return ["", f"{heading} {title}", "", *items] if items else []
