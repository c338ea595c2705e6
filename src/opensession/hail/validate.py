"""Validation of HAIL sessions: the reference's rules plus the checks a user would expect.

Errors make a session invalid (the reference's rules, duplicate ids, lines that cannot be read);
warnings point at something suspicious that readers cope with (stats that disagree with the
events, a tool result whose call is nowhere); info notes are facts worth knowing (types from a
newer HAIL writer). Files are checked while streaming, so a huge file is never held whole.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from opensession.hail.errors import HailFormatError
from opensession.hail.jsonl import open_hail
from opensession.hail.model import Event, Header, Session, Stats, ToolResult, UnknownBlock
from opensession.hail.model import UnknownEventType as _UnknownEventType
from opensession.hail.stats import StatsAccumulator

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    event_index: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def call_id_of(event: Event) -> str | None:
    """The call a tool result answers: ``semantic.call_id``, then ``call_id`` data, then legacy."""
    semantic = event.attributes.get("semantic.call_id")
    if isinstance(semantic, str) and semantic:
        return semantic
    if isinstance(event.event_type, ToolResult) and event.event_type.data.call_id:
        return event.event_type.data.call_id
    legacy = event.attributes.get("call_id")
    return legacy if isinstance(legacy, str) and legacy else None


class SessionValidator:
    """Checks one session fed piece by piece: the header, each event, then the written stats."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._index = 0
        self._event_ids: set[str] = set()
        self._call_ids: set[str] = set()
        self._previous_time: datetime | None = None
        self._unknown_types: Counter[str] = Counter()
        self._unknown_blocks: Counter[str] = Counter()
        self._stats = StatsAccumulator()

    def _add(self, severity: Severity, code: str, message: str, index: int | None = None) -> None:
        self.findings.append(Finding(severity, code, message, index))

    def check_header(self, header: Header) -> None:
        if not header.version.startswith("hail-"):
            self._add(
                "error", "invalid_version", f"version {header.version!r} must start with 'hail-'"
            )
        for field, value in (
            ("session_id", header.session_id),
            ("agent.provider", header.agent.provider),
            ("agent.tool", header.agent.tool),
        ):
            if not value.strip():
                self._add("error", "missing_field", f"{field} is empty")
        if header.context.created_at > header.context.updated_at:
            self._add(
                "warning",
                "created_after_updated",
                "context.created_at is later than context.updated_at",
            )

    def check_event(self, event: Event) -> None:
        index = self._index
        self._index += 1
        self._stats.add(event)
        if not event.event_id.strip():
            self._add("error", "missing_event_id", f"event {index} has an empty event_id", index)
        elif event.event_id in self._event_ids:
            message = f"event {index} repeats event_id {event.event_id!r}"
            self._add("error", "duplicate_event_id", message, index)
        self._event_ids.add(event.event_id)

        if self._previous_time is not None and event.timestamp < self._previous_time:
            message = (
                f"event {index} ({event.event_id!r}) is timestamped before the event preceding it"
            )
            self._add("error", "timestamp_backwards", message, index)
        self._previous_time = event.timestamp

        call_id = call_id_of(event)
        if isinstance(event.event_type, ToolResult):
            if call_id is not None and call_id not in self._call_ids:
                message = (
                    f"event {index} is a ToolResult for call {call_id!r}, "
                    "which no earlier event made"
                )
                self._add("warning", "orphan_tool_result", message, index)
        else:
            self._call_ids.add(event.event_id)
            if call_id is not None:
                self._call_ids.add(call_id)

        if isinstance(event.event_type, _UnknownEventType):
            self._unknown_types[event.event_type.type] += 1
        for block in event.content.blocks:
            if isinstance(block, UnknownBlock):
                self._unknown_blocks[block.type] += 1

    def finish(self, written_stats: Stats | None) -> list[Finding]:
        """Whole-session checks; returns every finding so far."""
        if self._index == 0:
            self._add("error", "no_events", "the session has no events")
        for kind, counter in (("event type", self._unknown_types), ("block", self._unknown_blocks)):
            for name, count in sorted(counter.items()):
                message = f"{count} {kind}(s) {name!r} unknown to this version, kept unchanged"
                self._add("info", "unknown_" + kind.replace(" ", "_"), message)
        if written_stats is None:
            self._add("info", "stats_missing", "no stats line; stats are recomputed from events")
        else:
            recomputed = self._stats.result()
            disagreeing = [
                f"{name} {getattr(written_stats, name)} (events say {getattr(recomputed, name)})"
                for name in Stats.model_fields
                if getattr(written_stats, name) != getattr(recomputed, name)
            ]
            if disagreeing:
                message = "stats disagree with the events: " + ", ".join(disagreeing)
                self._add("warning", "stats_mismatch", message)
        return self.findings


def validate_session(session: Session) -> list[Finding]:
    """Every finding for an in-memory session (its ``stats`` checked against its events)."""
    validator = SessionValidator()
    validator.check_header(session)
    for event in session.events:
        validator.check_event(event)
    return validator.finish(session.stats)


def validate_file(path: str | os.PathLike[str]) -> list[Finding]:
    """Every finding for a HAIL JSONL file, read as a stream; unreadable lines are errors."""
    validator = SessionValidator()
    try:
        with open_hail(path, on_warning=lambda _message: None) as reader:
            validator.check_header(reader.header)
            for event in reader:
                validator.check_event(event)
    except HailFormatError as exc:
        return [Finding("error", "unreadable_file", str(exc))]
    except OSError as exc:
        return [Finding("error", "unreadable_file", f"{path}: {exc.strerror or exc}")]
    read_findings = [
        Finding("error", "unreadable_line", str(warning))
        if warning.corrupt
        else Finding("warning", "read_warning", str(warning))
        for warning in reader.warnings
    ]
    return read_findings + validator.finish(reader.file_stats)


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.severity == "error" for finding in findings)
