from __future__ import annotations

import json
import re
from datetime import datetime

from opensession.handoff.builder import build_summary
from opensession.handoff.merge import merge_summaries
from opensession.handoff.render import (
    diagnostic,
    human_report,
    render_markdown,
    stream_envelopes,
    summary_line,
)
from opensession.handoff.schema import SessionSummary, ValidationReport
from opensession.handoff.validation import validate_summary
from tests.hail.factories import session
from tests.handoff.factories import (
    COMMIT,
    agent,
    clean_summary,
    edit,
    failing_summary,
    in_repo,
    shell,
    user,
)

RFC_3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def headings(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


def test_markdown_shows_what_the_next_agent_needs() -> None:
    markdown = render_markdown(merge_summaries([failing_summary()]))

    assert "- **Objective**: Add retries to the HTTP client" in markdown
    assert headings(markdown) == [
        "# Handoff",
        "## claude-code · `11111111-2222-3333-4444-555555555555`",
        "### Next actions",
        "### Done when",
        "### Ordered steps",
        "### Verification",
        "### Files modified",
        "### Errors",
        "### Rollback",
        "### Commands to replay",
    ]
    assert "1. Fix `uv run pytest -q` (exit 1) and re-run it" in markdown
    assert "- ❌ `uv run pytest -q`" in markdown
    assert "- `src/http.py` (edited)" in markdown
    assert "- `tests/test_retry.py` (created)" in markdown
    assert (
        f"`git restore --source={COMMIT} -- src/http.py && rm -- tests/test_retry.py`" in markdown
    )


def test_markdown_leaves_out_empty_sections() -> None:
    markdown = render_markdown(merge_summaries([clean_summary()]))

    for empty in ("Next actions", "Parallel actions", "Errors", "Open questions", "Undefined"):
        assert empty not in markdown
    assert "- ✅ `uv run pytest -q`" in markdown


def test_markdown_says_why_fields_are_undefined() -> None:
    summary = build_summary(session([agent(0, "Hello. Should I start?")]))

    markdown = render_markdown(merge_summaries([summary]))

    assert f"- **Objective**: *undefined* — {summary.objective_undefined_reason}" in markdown
    assert "*unavailable* — the session modified no files" in markdown
    assert "- **Decide**: Should I start?" in markdown
    assert "### Undefined" in markdown
    assert "### Files modified" not in markdown


def test_markdown_of_several_sessions_lists_all_files_then_each_session() -> None:
    later = build_summary(
        in_repo(
            [
                user(0, "Document the retries"),
                edit(1, "/repo/README.md"),
                shell(2, "make check", exit_code=0),
                agent(3, "Documented."),
            ]
        )
    ).model_copy(update={"source_session_id": "later", "created_at": "2026-05-01T00:00:00.000Z"})

    markdown = render_markdown(merge_summaries([later, clean_summary()]))

    assert markdown.startswith("# Handoff\n\n2 sessions, oldest first")
    assert "## All files modified" in markdown
    sessions = [h for h in headings(markdown) if h.startswith("### claude-code")]
    assert sessions == [
        "### claude-code · `11111111-2222-3333-4444-555555555555`",
        "### claude-code · `later`",
    ]
    assert "#### Verification" in markdown


def test_stream_envelopes_carry_each_summary_and_its_report() -> None:
    summaries = [failing_summary(), clean_summary()]
    reports = [validate_summary(s) for s in summaries]

    envelopes = list(stream_envelopes(summaries, reports))

    assert [e["type"] for e in envelopes] == [
        "session_summary",
        "validation_report",
        "session_summary",
        "validation_report",
    ]
    for envelope in envelopes:
        assert envelope["version"] == "0.1"
        assert RFC_3339.fullmatch(envelope["@timestamp"])
        assert datetime.fromisoformat(envelope["@timestamp"]).tzinfo is not None
        assert envelope["@message"]
        assert json.loads(json.dumps(envelope)) == envelope
    assert SessionSummary.model_validate(envelopes[0]["data"]) == summaries[0]
    assert ValidationReport.model_validate(envelopes[1]["data"]) == reports[0]
    assert envelopes[1]["@message"] == "passed (0 errors, 1 warnings)"


def test_stream_without_reports_has_summaries_only() -> None:
    envelopes = list(stream_envelopes([clean_summary()]))

    assert [e["type"] for e in envelopes] == ["session_summary"]


def test_the_summary_line_says_duration_tokens_files_errors_and_objective() -> None:
    line = summary_line(failing_summary())

    assert line.startswith("claude-code session 11111111-2222-3333-4444-555555555555, ")
    assert "2 files modified, 1 errors" in line
    assert line.endswith(": Add retries to the HTTP client")


def test_a_diagnostic_is_an_error_envelope() -> None:
    assert diagnostic("no session found", selector="HEAD~3") == {
        "version": "0.1",
        "type": "diagnostic",
        "@level": "error",
        "@message": "no session found",
        "diagnostic": {"message": "no session found", "selector": "HEAD~3"},
    }


def test_the_human_report_lists_each_finding() -> None:
    spoiled = failing_summary()
    spoiled.execution_contract.next_actions = []
    spoiled.work_packages[0].evidence_refs.append("ev-404")
    reports = [validate_summary(spoiled), validate_summary(clean_summary())]

    text = human_report(reports)

    lines = text.splitlines()
    assert lines[0] == (
        f"handoff validation {spoiled.source_session_id}: failed (1 errors, 2 warnings)"
    )
    findings = reports[0].findings
    assert len(findings) == 3
    for finding, line in zip(findings, lines[1:4], strict=True):
        assert line.split()[:2] == [finding.severity, f"{finding.code}:"]
        assert line.endswith(finding.message)
    assert lines[4].endswith(": passed (0 errors, 0 warnings)")
    assert text.endswith("\n")
