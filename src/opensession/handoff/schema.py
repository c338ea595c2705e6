"""The v2 handoff (execution contract): field names and nesting as the reference writes them.

A handoff summary describes one session; a merged handoff holds the summaries of several in
chronological order (``time_asc``, the only merge order). Optional fields are left out of the
JSON when unknown; every model keeps keys it does not know, so a payload written by a newer
version reads and writes back unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opensession.hail.model import Stats

MERGE_POLICY = "time_asc"

FileAction = Literal["created", "edited", "deleted"]
StepStatus = Literal["completed", "failed", "in_progress", "pending"]
CheckStatus = Literal["passed", "failed", "unknown"]
Severity = Literal["error", "warning", "info"]


def _optional() -> Any:
    return Field(default=None, exclude_if=lambda value: value is None)


class HandoffModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with the wire field names (unknown optional fields left out)."""
        return self.model_dump(mode="json")


class FileModified(HandoffModel):
    path: str
    action: FileAction


class ShellCommandRecord(HandoffModel):
    command: str
    exit_code: int | None = _optional()


class KeyConversation(HandoffModel):
    user: str
    agent: str


class OrderedStep(HandoffModel):
    sequence: int
    work_package_id: str
    title: str
    status: StepStatus
    depends_on: list[str] = Field(default_factory=list)
    started_at: str | None = _optional()
    completed_at: str | None = _optional()
    evidence_refs: list[str] = Field(default_factory=list)


class ExecutionContract(HandoffModel):
    done_definition: list[str] = Field(default_factory=list)
    next_actions: list[str] = Field(default_factory=list)
    parallel_actions: list[str] = Field(default_factory=list)
    ordered_steps: list[OrderedStep] = Field(default_factory=list)
    ordered_commands: list[str] = Field(default_factory=list)
    rollback_hint: str | None = _optional()
    rollback_hint_missing_reason: str | None = _optional()
    rollback_hint_undefined_reason: str | None = _optional()


class Uncertainty(HandoffModel):
    assumptions: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    decision_required: list[str] = Field(default_factory=list)


class CheckRun(HandoffModel):
    command: str
    status: CheckStatus
    exit_code: int | None = _optional()
    event_id: str


class Verification(HandoffModel):
    checks_run: list[CheckRun] = Field(default_factory=list)
    checks_passed: list[str] = Field(default_factory=list)
    checks_failed: list[str] = Field(default_factory=list)
    required_checks_missing: list[str] = Field(default_factory=list)


class Evidence(HandoffModel):
    id: str
    claim: str
    event_id: str
    timestamp: str
    source_type: str


class WorkPackage(HandoffModel):
    id: str
    title: str
    status: StepStatus
    sequence: int
    started_at: str | None = _optional()
    completed_at: str | None = _optional()
    outcome: str | None = _optional()
    depends_on: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    evidence_refs: list[str] = Field(default_factory=list)


class UndefinedField(HandoffModel):
    path: str
    undefined_reason: str


class Finding(HandoffModel):
    code: str
    severity: Severity
    message: str


class ValidationReport(HandoffModel):
    session_id: str
    passed: bool
    findings: list[Finding] = Field(default_factory=list)


class SessionSummary(HandoffModel):
    """The handoff of one session."""

    source_session_id: str
    objective: str | None = _optional()
    objective_undefined_reason: str | None = _optional()
    tool: str
    model: str
    duration_seconds: int
    stats: Stats
    files_modified: list[FileModified] = Field(default_factory=list)
    files_read: list[str] = Field(default_factory=list)
    shell_commands: list[ShellCommandRecord] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    task_summaries: list[str] = Field(default_factory=list)
    key_conversations: list[KeyConversation] = Field(default_factory=list)
    user_messages: list[str] = Field(default_factory=list)
    execution_contract: ExecutionContract = Field(default_factory=ExecutionContract)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)
    verification: Verification = Field(default_factory=Verification)
    evidence: list[Evidence] = Field(default_factory=list)
    work_packages: list[WorkPackage] = Field(default_factory=list)
    undefined_fields: list[UndefinedField] = Field(default_factory=list)
    created_at: str | None = _optional()
    """When the session started (RFC 3339): the key of the chronological merge."""


class MergedHandoff(HandoffModel):
    """The handoff of several sessions, oldest first."""

    merge_policy: Literal["time_asc"] = MERGE_POLICY
    source_session_ids: list[str]
    summaries: list[SessionSummary]
    all_files_modified: list[FileModified] = Field(default_factory=list)
    all_files_read: list[str] = Field(default_factory=list)
    total_duration_seconds: int = 0
    total_errors: list[str] = Field(default_factory=list)
