from __future__ import annotations

from pathlib import Path

from opensession.hail import model as m
from opensession.hail.jsonl import dumps_session
from opensession.hail.validate import has_errors, validate_file, validate_session

from .factories import event, session


def codes(findings: list) -> list[str]:
    return [f.code for f in findings]


def test_reference_file_is_valid_with_no_findings(corpus: Path) -> None:
    assert validate_file(corpus / "hail/opensession__c96e93e8.hail.jsonl") == []


def test_reference_rules_version_ids_provider_tool_and_events() -> None:
    bad = session([])
    bad.version = "v1"
    bad.session_id = " "
    bad.agent.tool = ""
    findings = validate_session(bad)
    assert has_errors(findings)
    assert codes(findings)[:3] == ["invalid_version", "missing_field", "missing_field"]
    assert "no_events" in codes(findings)
    assert any(f.message == "agent.tool is empty" for f in findings)


def test_duplicate_ids_and_backward_timestamps_name_the_event_index() -> None:
    events = [event(1), event(2), event(3, seconds=0.5)]
    events[1].event_id = "e1"
    findings = validate_session(session(events))
    assert [(f.code, f.event_index) for f in findings if f.severity == "error"] == [
        ("duplicate_event_id", 1),
        ("timestamp_backwards", 2),
    ]


def test_tool_result_must_answer_an_earlier_call() -> None:
    call = event(1, m.ShellCommand(data=m.ShellCommandData(command="ls")))
    answered = event(2, m.ToolResult(data=m.ToolResultData(name="exec", call_id="e1")))
    by_semantic_id = event(
        3, m.ToolCall(data=m.NameData(name="Read")), attributes={"semantic.call_id": "toolu_1"}
    )
    answered_semantically = event(
        4,
        m.ToolResult(data=m.ToolResultData(name="Read")),
        attributes={"semantic.call_id": "toolu_1"},
    )
    orphan = event(5, m.ToolResult(data=m.ToolResultData(name="Bash", call_id="toolu_404")))
    findings = validate_session(
        session([call, answered, by_semantic_id, answered_semantically, orphan])
    )
    assert [(f.code, f.severity, f.event_index) for f in findings] == [
        ("orphan_tool_result", "warning", 4)
    ]
    assert not has_errors(findings)


def test_stats_that_disagree_with_events_are_reported_field_by_field() -> None:
    sample = session([event(1, text="hi"), event(2, m.AgentMessage(), text="yo")])
    sample.stats.message_count = 7
    [finding] = validate_session(sample)
    assert finding.code == "stats_mismatch"
    assert finding.message == "stats disagree with the events: message_count 7 (events say 2)"


def test_unknown_types_are_noted_not_failed() -> None:
    sample = session([event(1, m.UnknownEventType(type="Hologram", data={}))])
    findings = validate_session(sample)
    assert [(f.severity, f.code) for f in findings] == [("info", "unknown_event_type")]


def test_file_with_a_corrupt_line_is_invalid_and_names_the_line(tmp_path: Path) -> None:
    lines = dumps_session(session([event(1), event(2), event(3)])).splitlines(keepends=True)
    lines[2] = b"{garbage\n"
    path = tmp_path / "s.hail.jsonl"
    path.write_bytes(b"".join(lines))
    findings = validate_file(path)
    assert findings[0].code == "unreadable_line"
    assert findings[0].message.startswith(f"{path}:3: not JSON")
    assert "stats_mismatch" in codes(findings)


def test_unreadable_files_are_one_error_each(tmp_path: Path) -> None:
    missing = validate_file(tmp_path / "nope.hail.jsonl")
    assert [(f.code, f.severity) for f in missing] == [("unreadable_file", "error")]
    assert "No such file or directory" in missing[0].message
