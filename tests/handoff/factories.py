"""Events and sessions for handoff tests: one helper per kind of event, ``index`` giving the
event id (``e<index>``) and its time (``index`` seconds after the factories' start)."""

from __future__ import annotations

from typing import Any

from opensession.hail import model as m
from opensession.handoff.builder import build_summary
from opensession.handoff.schema import SessionSummary
from tests.hail.factories import event, session

COMMIT = "0123abcd"


def user(index: int, text: str, **fields: Any) -> m.Event:
    return event(index, m.UserMessage(), text=text, **fields)


def agent(index: int, text: str, **fields: Any) -> m.Event:
    return event(index, m.AgentMessage(), text=text, **fields)


def read(index: int, path: str, **fields: Any) -> m.Event:
    return event(index, m.FileRead(data=m.PathData(path=path)), **fields)


def edit(index: int, path: str, **fields: Any) -> m.Event:
    return event(index, m.FileEdit(data=m.FileEditData(path=path)), **fields)


def create(index: int, path: str, **fields: Any) -> m.Event:
    return event(index, m.FileCreate(data=m.PathData(path=path)), **fields)


def delete(index: int, path: str, **fields: Any) -> m.Event:
    return event(index, m.FileDelete(data=m.PathData(path=path)), **fields)


def shell(index: int, command: str, exit_code: int | None = None, **fields: Any) -> m.Event:
    data = m.ShellCommandData(command=command, exit_code=exit_code)
    return event(index, m.ShellCommand(data=data), **fields)


def tool_result(index: int, name: str, *, is_error: bool, call_id: str, text: str = "") -> m.Event:
    data = m.ToolResultData(name=name, is_error=is_error, call_id=call_id)
    return event(index, m.ToolResult(data=data), text=text)


def task_start(index: int, task_id: str, title: str) -> m.Event:
    return event(index, m.TaskStart(data=m.TaskStartData(title=title)), task_id=task_id)


def task_end(index: int, task_id: str, summary: str) -> m.Event:
    return event(index, m.TaskEnd(data=m.TaskEndData(summary=summary)), task_id=task_id)


def in_repo(events: list[m.Event], commit: str | None = COMMIT) -> m.Session:
    """A session working in ``/repo``, at git commit ``commit`` (None: no commit recorded)."""
    git = {"branch": "main"} | ({"commit_hash": commit} if commit else {})
    return session(events, attributes={"cwd": "/repo", "git": git})


def retry_session(check_exit: int = 0) -> m.Session:
    """A request that edits and creates a file, then runs the tests (exiting ``check_exit``)."""
    return in_repo(
        [
            user(0, "Add retries to the HTTP client\nUse exponential backoff."),
            agent(1, "Let me look at the client."),
            read(2, "/repo/src/http.py"),
            edit(3, "/repo/src/http.py"),
            create(4, "/repo/tests/test_retry.py"),
            shell(5, "uv run pytest -q", exit_code=check_exit),
            agent(6, "Retries added." if check_exit == 0 else "The retry test fails."),
        ]
    )


def clean_summary() -> SessionSummary:
    """A handoff with nothing to report: objective, files, a passing check, evidence."""
    return build_summary(retry_session())


def failing_summary() -> SessionSummary:
    """The same work with its check still failing at the end."""
    return build_summary(retry_session(check_exit=1))
