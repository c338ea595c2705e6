"""The v2 handoff of one session, derived from its events.

The session is cut into work packages: each user request starts one (a request that led to no
work is carried into the next one's title), and each sub-agent task (events sharing a
``task_id``) is one of its own, depending on the request that started it. A work package
depends on the earlier ones that modified a file it touches, so independent pending packages
come out as ``parallel_actions``. Every claim (the objective, a modified file, a check, an
error, a task's result, a question) is backed by an ``evidence`` item naming its event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from opensession.hail import model as m
from opensession.hail.metrics import task_lane
from opensession.handoff.commands import check_name, is_read_only
from opensession.handoff.schema import (
    CheckRun,
    CheckStatus,
    Evidence,
    ExecutionContract,
    FileAction,
    FileModified,
    KeyConversation,
    OrderedStep,
    SessionSummary,
    ShellCommandRecord,
    StepStatus,
    Uncertainty,
    UndefinedField,
    Verification,
    WorkPackage,
)

TITLE_MAX_CHARS = 100
MESSAGE_MAX_CHARS = 2000
CONVERSATION_MAX_CHARS = 500
KEY_CONVERSATIONS_MAX = 10
UNCERTAINTY_MAX = 8
CONFIRMATION_MAX_CHARS = 60
"""A request this short after one that led to no work ("yes, go ahead") continues it."""

_NOISE_PREFIXES = ("[Request interrupted", "Caveat: The messages below")
_BARE_COMMAND = re.compile(r"/[\w:.-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_TAG = re.compile(r"</?[\w-]+>")
_FENCED = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_ASSUMPTION = re.compile(r"\b(?:assum\w*|presum\w*|I'll go with|defaulting to)\b", re.IGNORECASE)
_DECISION = re.compile(
    r"\b(?:should I|shall I|do you want|would you like|would you prefer|which (?:one|option)|"
    r"prefer|or should|let me know (?:if|whether|which))\b",
    re.IGNORECASE,
)

_SOURCE_TYPES = {
    m.UserMessage: "user_message",
    m.AgentMessage: "agent_message",
    m.ShellCommand: "shell_command",
    m.FileEdit: "file_edit",
    m.FileCreate: "file_create",
    m.FileDelete: "file_delete",
    m.ToolResult: "tool_result",
    m.TaskStart: "task_start",
    m.TaskEnd: "task_end",
}


def request_text(event: m.Event) -> str | None:
    """The request a UserMessage makes, or None for noise (empty, interruptions, a bare
    ``/command`` without arguments)."""
    text = event.text().strip()
    if not text or text.startswith(_NOISE_PREFIXES) or _BARE_COMMAND.fullmatch(text):
        return None
    return text


def first_line(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """The first non-blank line of ``text``, blanks collapsed, cut to ``limit`` characters."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    return shorten(" ".join(line.split()), limit)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with ``…`` when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(eq=False)
class _Package:
    """A work package in the making."""

    id: str
    title: str
    task_id: str | None = None
    parent: _Package | None = None
    events: list[m.Event] = field(default_factory=list)
    modified: dict[str, None] = field(default_factory=dict)
    touched: dict[str, None] = field(default_factory=dict)
    commands: dict[str, None] = field(default_factory=dict)
    last_check: tuple[str, CheckStatus] | None = None
    last_agent: m.Event | None = None
    last_work: m.Event | None = None
    delegated: bool = False
    """Whether it started sub-agent tasks (work done on its behalf)."""
    ended: bool = False
    summary: str | None = None
    evidence_refs: list[str] = field(default_factory=list)

    @property
    def material(self) -> bool:
        """Whether any work happened (files, commands, tool calls, sub-agent tasks it started),
        or it is a sub-agent task."""
        return self.task_id is not None or self.last_work is not None or self.delegated


@dataclass
class _Check:
    event: m.Event
    name: str
    command: str
    status: CheckStatus
    exit_code: int | None


class _SummaryBuilder:
    def __init__(self, session: m.Session) -> None:
        self.session = session
        self.evidence: list[Evidence] = []
        self._cited: dict[tuple[str, str], str] = {}
        self.packages: list[_Package] = []
        self._tasks: dict[str, _Package] = {}
        self._turn: _Package | None = None
        self.objective: str | None = None
        self.objective_event: m.Event | None = None
        self.files_modified: dict[str, FileAction] = {}
        self._file_events: dict[str, m.Event] = {}
        self.files_read: dict[str, None] = {}
        self.shell_commands: list[ShellCommandRecord] = []
        self.checks: list[_Check] = []
        self.errors: list[str] = []
        self.task_summaries: list[str] = []
        self.user_messages: list[str] = []
        self.conversations: list[tuple[str, m.Event | None]] = []
        self.agent_messages: list[m.Event] = []
        self._result_errors = _result_errors(session.events)
        self._failed_calls: set[str] = set()
        cwd = session.context.attributes.get("cwd") or session.context.attributes.get(
            "working_directory"
        )
        self._cwd = cwd.rstrip("/\\") if isinstance(cwd, str) and cwd.strip("/\\") else None

    def _relative(self, path: str) -> str:
        """``path`` relative to the session's working directory when inside it."""
        cwd = self._cwd
        if cwd and path.startswith(cwd) and path[len(cwd) : len(cwd) + 1] in ("/", "\\"):
            return path[len(cwd) + 1 :]
        return path

    # --- evidence ---

    def cite(self, event: m.Event, claim: str) -> str:
        """The id of the evidence item backing ``claim`` with ``event`` (made once)."""
        key = (event.event_id, claim)
        if key not in self._cited:
            evidence = Evidence(
                id=f"ev-{len(self.evidence) + 1}",
                claim=claim,
                event_id=event.event_id,
                timestamp=m.format_timestamp(event.timestamp),
                source_type=_SOURCE_TYPES.get(type(event.event_type), "event"),
            )
            self.evidence.append(evidence)
            self._cited[key] = evidence.id
        return self._cited[key]

    # --- walking the events ---

    def run(self) -> SessionSummary:
        for event in self.session.events:
            self._take(event)
        return self._summary()

    def _take(self, event: m.Event) -> None:
        kind = event.event_type
        lane = task_lane(event)
        if isinstance(kind, m.UserMessage) and lane is None:
            self._request(event)
            return
        package = self._package_for(event, lane)
        package.events.append(event)
        if isinstance(kind, m.AgentMessage):
            package.last_agent = event
            if lane is None:
                self.agent_messages.append(event)
                if self.conversations:
                    self.conversations[-1] = (self.conversations[-1][0], event)
            return
        if isinstance(kind, m.TaskEnd):
            package.ended = True
            if kind.data.summary and kind.data.summary.strip():
                summary = shorten(kind.data.summary.strip(), CONVERSATION_MAX_CHARS)
                package.summary = summary
                self.task_summaries.append(summary)
                package.evidence_refs.append(
                    self.cite(event, f"task completed: {first_line(summary)}")
                )
            return
        if isinstance(kind, m.SystemMessage | m.Thinking | m.TaskStart):
            return
        package.last_work = event
        if isinstance(kind, m.FileEdit | m.FileCreate | m.FileDelete):
            self._file_change(package, event, kind)
        elif isinstance(kind, m.FileRead):
            path = self._relative(kind.data.path)
            package.touched[path] = None
            if path not in self.files_modified:
                self.files_read[path] = None
        elif isinstance(kind, m.ShellCommand):
            self._shell(package, event, kind)
        elif isinstance(kind, m.ToolResult) and kind.data.is_error:
            self._tool_error(package, event, kind)

    def _request(self, event: m.Event) -> None:
        text = request_text(event)
        if text is None:
            return
        self.user_messages.append(shorten(text, MESSAGE_MAX_CHARS))
        self.conversations.append((text, None))
        if self.objective is None:
            self.objective = first_line(text, MESSAGE_MAX_CHARS)
            self.objective_event = event
            self.cite(event, f"objective: {first_line(text)}")
        title, refs = first_line(text), []
        previous = self._turn
        if previous is not None and not previous.material:
            self.packages.remove(previous)
            if len(text) <= CONFIRMATION_MAX_CHARS:
                title, refs = previous.title, previous.evidence_refs
        self._turn = self._new_package(title)
        self._turn.events.append(event)
        self._turn.evidence_refs += [*refs, self.cite(event, f"request: {first_line(text)}")]

    def _new_package(self, title: str, task_id: str | None = None) -> _Package:
        package = _Package(id="", title=title, task_id=task_id)
        self.packages.append(package)
        return package

    def _package_for(self, event: m.Event, lane: str | None) -> _Package:
        if lane is None:
            if self._turn is None:
                self._turn = self._new_package("Work before the first request")
            return self._turn
        task = self._tasks.get(lane)
        if task is None:
            kind = event.event_type
            title = kind.data.title if isinstance(kind, m.TaskStart) else None
            task = self._new_package(first_line(title or f"Sub-agent task {lane}"), lane)
            task.parent = self._turn
            if self._turn is not None:
                self._turn.delegated = True
            self._tasks[lane] = task
            if isinstance(kind, m.TaskStart):
                task.evidence_refs.append(self.cite(event, f"task started: {task.title}"))
        return task

    def _file_change(
        self, package: _Package, event: m.Event, kind: m.FileEdit | m.FileCreate | m.FileDelete
    ) -> None:
        path = self._relative(kind.data.path)
        before = self.files_modified.get(path)
        if isinstance(kind, m.FileDelete):
            if before == "created":
                del self.files_modified[path]
            else:
                self.files_modified[path] = "deleted"
        elif isinstance(kind, m.FileCreate) and before is None:
            self.files_modified[path] = "created"
        elif before != "created":
            self.files_modified[path] = "edited"
        self.files_read.pop(path, None)
        self._file_events[path] = event
        package.modified[path] = None
        package.touched[path] = None

    def _shell(self, package: _Package, event: m.Event, kind: m.ShellCommand) -> None:
        command = kind.data.command.strip()
        exit_code = kind.data.exit_code
        call = _call_id(event)
        failed_result = self._result_errors.get(call) if call else None
        self.shell_commands.append(ShellCommandRecord(command=command, exit_code=exit_code))
        if not is_read_only(command):
            package.commands[command] = None
        if exit_code is not None:
            status: CheckStatus = "passed" if exit_code == 0 else "failed"
        elif failed_result is not None:
            status = "failed" if failed_result else "passed"
        else:
            status = "unknown"
        if status == "failed":
            if call:
                self._failed_calls.add(call)
            reason = f"exited with {exit_code}" if exit_code is not None else "failed"
            self._error(f"`{first_line(command)}` {reason}")
            package.evidence_refs.append(
                self.cite(event, f"error: `{first_line(command)}` {reason}")
            )
        check = check_name(command)
        if check is not None:
            self.checks.append(_Check(event, check, command, status, exit_code))
            package.last_check = (check, status)
            claim = f"check {status}: `{first_line(check)}`"
            package.evidence_refs.append(self.cite(event, claim))

    def _tool_error(self, package: _Package, event: m.Event, kind: m.ToolResult) -> None:
        call = kind.data.call_id or _call_id(event)
        if call and call in self._failed_calls:
            return  # the failing shell command already says it
        detail = first_line(_TAG.sub("", event.text()), 200)
        message = f"{kind.data.name} failed" + (f": {detail}" if detail else "")
        self._error(message)
        package.evidence_refs.append(self.cite(event, f"error: {message}"))

    def _error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    # --- the summary ---

    def _summary(self) -> SessionSummary:
        session = self.session
        if self._turn is not None and not self._turn.material:
            self.packages.remove(self._turn)
        latest = self._latest_check_status()
        packages = self._work_packages(latest)
        verification = self._verification(latest)
        uncertainty = self._uncertainty()
        contract = self._contract(packages, verification, uncertainty, latest)
        summary = SessionSummary(
            source_session_id=session.session_id,
            objective=self.objective,
            objective_undefined_reason=None
            if self.objective
            else "the session has no user message that makes a request",
            tool=session.agent.tool,
            model=session.agent.model,
            duration_seconds=session.stats.duration_seconds,
            stats=session.stats,
            files_modified=[
                FileModified(path=path, action=action)
                for path, action in self.files_modified.items()
            ],
            files_read=list(self.files_read),
            shell_commands=self.shell_commands,
            errors=self.errors,
            task_summaries=self.task_summaries,
            key_conversations=self._key_conversations(),
            user_messages=self.user_messages,
            execution_contract=contract,
            uncertainty=uncertainty,
            verification=verification,
            evidence=self.evidence,
            work_packages=packages,
            created_at=m.format_timestamp(session.context.created_at),
        )
        summary.undefined_fields = undefined_fields(summary)
        return summary

    def _latest_check_status(self) -> dict[str, _Check]:
        latest: dict[str, _Check] = {}
        for check in self.checks:
            latest.pop(check.name, None)
            latest[check.name] = check
        return latest

    def _work_packages(self, latest: dict[str, _Check]) -> list[WorkPackage]:
        for number, package in enumerate(self.packages, start=1):
            package.id = f"wp-{number}"
        last_writer: dict[str, str] = {}
        packages: list[WorkPackage] = []
        for sequence, package in enumerate(self.packages, start=1):
            depends: dict[str, None] = {}
            if package.parent is not None and package.parent in self.packages:
                depends[package.parent.id] = None
            for path in package.touched:
                writer = last_writer.get(path)
                if writer and writer != package.id:
                    depends[writer] = None
            for path in package.modified:
                last_writer[path] = package.id
            for path in package.modified:
                event = self._file_events.get(path)
                if event is not None and event in package.events:
                    action = self.files_modified.get(path, "deleted")
                    package.evidence_refs.append(self.cite(event, f"{action} {path}"))
            status = _package_status(package, latest, self.packages[-1] is package)
            events = package.events
            packages.append(
                WorkPackage(
                    id=package.id,
                    title=package.title,
                    status=status,
                    sequence=sequence,
                    started_at=m.format_timestamp(events[0].timestamp) if events else None,
                    completed_at=m.format_timestamp(events[-1].timestamp)
                    if events and status in ("completed", "failed")
                    else None,
                    outcome=_outcome(package),
                    depends_on=list(depends),
                    files=list(package.modified),
                    commands=list(package.commands),
                    evidence_refs=list(dict.fromkeys(package.evidence_refs)),
                )
            )
        return packages

    def _verification(self, latest: dict[str, _Check]) -> Verification:
        checks_run = [
            CheckRun(
                command=check.command,
                status=check.status,
                exit_code=check.exit_code,
                event_id=check.event.event_id,
            )
            for check in self.checks
        ]
        missing: list[str] = []
        if self.files_modified:
            last_change = max(event.timestamp for event in self._file_events.values())
            checked_after = any(check.event.timestamp >= last_change for check in self.checks)
            if not self.checks:
                missing.append(
                    "no test, lint, type or build check was run after modifying "
                    f"{_count(len(self.files_modified), 'file')}"
                )
            elif not checked_after:
                commands = ", ".join(f"`{first_line(c)}`" for c in latest)
                missing.append(f"re-run {commands} after the last file change")
        return Verification(
            checks_run=checks_run,
            checks_passed=[c for c, check in latest.items() if check.status == "passed"],
            checks_failed=[c for c, check in latest.items() if check.status == "failed"],
            required_checks_missing=missing,
        )

    def _uncertainty(self) -> Uncertainty:
        assumptions: dict[str, None] = {}
        for event in self.agent_messages:
            for sentence in _sentences(event.text()):
                if _ASSUMPTION.search(sentence) and len(assumptions) < UNCERTAINTY_MAX:
                    assumptions[sentence] = None
                    self.cite(event, f"assumption: {first_line(sentence)}")
        questions: list[str] = []
        decisions: list[str] = []
        if self.agent_messages:
            final = self.agent_messages[-1]
            for sentence in _sentences(final.text()):
                if not sentence.endswith("?"):
                    continue
                target = decisions if _DECISION.search(sentence) else questions
                if len(target) < UNCERTAINTY_MAX:
                    target.append(sentence)
                    kind = "decision required" if target is decisions else "open question"
                    self.cite(final, f"{kind}: {first_line(sentence)}")
        return Uncertainty(
            assumptions=list(assumptions), open_questions=questions, decision_required=decisions
        )

    def _contract(
        self,
        packages: list[WorkPackage],
        verification: Verification,
        uncertainty: Uncertainty,
        latest: dict[str, _Check],
    ) -> ExecutionContract:
        done: list[str] = []
        if self.objective:
            done.append(f"The objective is met: {first_line(self.objective)}")
        done += [f"`{first_line(command)}` passes" for command in latest]
        if self.files_modified and not latest:
            done.append("The modified files pass the project's tests and checks")
        completed = {p.id for p in packages if p.status == "completed"}
        pending = [p for p in packages if p.status != "completed"]
        ready = [p for p in pending if all(d in completed for d in p.depends_on)]
        parallel = ready if len(ready) > 1 else []
        next_actions = [
            f"Fix `{first_line(command)}` (exit {check.exit_code}) and re-run it"
            if check.exit_code is not None
            else f"Fix `{first_line(command)}` and re-run it"
            for command, check in latest.items()
            if check.status == "failed"
        ]
        next_actions += [f"Finish {p.id}: {p.title}" for p in pending if p not in parallel]
        next_actions += [f"Check: {item}" for item in verification.required_checks_missing]
        next_actions += [f"Decide: {question}" for question in uncertainty.decision_required]
        contract = ExecutionContract(
            done_definition=done,
            next_actions=next_actions,
            parallel_actions=[f"{p.id}: {p.title}" for p in parallel],
            ordered_steps=[
                OrderedStep(
                    sequence=p.sequence,
                    work_package_id=p.id,
                    title=p.title,
                    status=p.status,
                    depends_on=p.depends_on,
                    started_at=p.started_at,
                    completed_at=p.completed_at,
                    evidence_refs=p.evidence_refs,
                )
                for p in packages
            ],
            ordered_commands=list(
                dict.fromkeys(
                    record.command
                    for record in self.shell_commands
                    if not is_read_only(record.command)
                )
            ),
        )
        self._rollback(contract)
        return contract

    def _rollback(self, contract: ExecutionContract) -> None:
        if not self.files_modified:
            contract.rollback_hint_undefined_reason = "the session modified no files"
            return
        git = self.session.context.attributes.get("git")
        commit = git.get("commit_hash") if isinstance(git, dict) else None
        if not isinstance(commit, str) or not commit:
            contract.rollback_hint_missing_reason = (
                "the session recorded no git commit to return to; "
                f"{_count(len(self.files_modified), 'file')} modified"
            )
            return
        restore = [p for p, action in self.files_modified.items() if action != "created"]
        created = [p for p, action in self.files_modified.items() if action == "created"]
        steps = []
        if restore:
            steps.append(f"git restore --source={commit} -- {' '.join(map(_quote, restore))}")
        if created:
            steps.append(f"rm -- {' '.join(map(_quote, created))}")
        contract.rollback_hint = " && ".join(steps)

    def _key_conversations(self) -> list[KeyConversation]:
        pairs = [(user, agent) for user, agent in self.conversations if agent is not None]
        if len(pairs) > KEY_CONVERSATIONS_MAX:
            pairs = pairs[:1] + pairs[-(KEY_CONVERSATIONS_MAX - 1) :]
        return [
            KeyConversation(
                user=shorten(user.strip(), CONVERSATION_MAX_CHARS),
                agent=shorten(agent.text().strip(), CONVERSATION_MAX_CHARS),
            )
            for user, agent in pairs
            if agent is not None
        ]


def undefined_fields(summary: SessionSummary) -> list[UndefinedField]:
    """The summary's fields that could not be derived, each with why."""
    fields: list[UndefinedField] = []
    if summary.objective_undefined_reason:
        fields.append(
            UndefinedField(path="objective", undefined_reason=summary.objective_undefined_reason)
        )
    if not summary.model or summary.model == "unknown":
        fields.append(UndefinedField(path="model", undefined_reason="the tool recorded no model"))
    contract = summary.execution_contract
    reason = contract.rollback_hint_undefined_reason or contract.rollback_hint_missing_reason
    if contract.rollback_hint is None and reason:
        fields.append(
            UndefinedField(path="execution_contract.rollback_hint", undefined_reason=reason)
        )
    if not summary.verification.checks_run:
        fields.append(
            UndefinedField(
                path="verification.checks_run",
                undefined_reason="no test, lint, type or build command was run in the session",
            )
        )
    return fields


def build_summary(session: m.Session) -> SessionSummary:
    """The v2 handoff summary of ``session``."""
    return _SummaryBuilder(session).run()


def _package_status(package: _Package, latest: dict[str, _Check], last: bool) -> StepStatus:
    if package.last_check is not None:
        command, status = package.last_check
        if status == "failed" and latest[command].status == "failed":
            return "failed"
    if package.task_id is not None:
        return "completed" if package.ended else "in_progress"
    worked_last = package.last_work is not None and (
        package.last_agent is None or package.last_agent.timestamp < package.last_work.timestamp
    )
    return "in_progress" if last and worked_last else "completed"


def _outcome(package: _Package) -> str | None:
    if package.summary:
        return shorten(package.summary, CONVERSATION_MAX_CHARS)
    if package.last_agent is not None:
        text = package.last_agent.text().strip()
        return shorten(text.split("\n\n")[0], CONVERSATION_MAX_CHARS) if text else None
    return None


def _result_errors(events: list[m.Event]) -> dict[str, bool]:
    errors: dict[str, bool] = {}
    for event in events:
        kind = event.event_type
        if isinstance(kind, m.ToolResult):
            call = kind.data.call_id or _call_id(event)
            if call:
                errors[call] = kind.data.is_error
    return errors


def _call_id(event: m.Event) -> str | None:
    for key in ("semantic.call_id", "call_id"):
        value = event.attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _sentences(text: str) -> list[str]:
    prose = _FENCED.sub(" ", text)
    return [s.strip() for s in _SENTENCE_END.split(prose) if len(s.strip()) > 3]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _quote(path: str) -> str:
    return path if re.fullmatch(r"[\w@%+=:,./-]+", path) else "'" + path.replace("'", "'\\''") + "'"
