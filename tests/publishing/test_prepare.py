"""``prepare_session``: privacy settings applied before a session leaves the machine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opensession.config.settings import Settings
from opensession.hail.model import Agent, Context, Event, Session
from opensession.publishing import ExcludedProjectError, prepare_session
from opensession.publishing.prepare import excluded_by

SECRET = "sk-ant-api03-" + "Q7w" * 20


def _session(cwd: str) -> Session:
    when = datetime(2026, 3, 1, 10, tzinfo=UTC)
    return Session.model_validate(
        {
            "version": "hail-1.0.0",
            "session_id": "s-1",
            "agent": Agent(provider="anthropic", model="m", tool="claude-code"),
            "context": Context(created_at=when, updated_at=when, attributes={"cwd": cwd}),
            "events": [
                Event.model_validate(
                    {
                        "event_id": "e1",
                        "timestamp": when,
                        "event_type": {"type": "UserMessage"},
                        "content": {"blocks": [{"type": "Text", "text": f"KEY={SECRET}"}]},
                    }
                )
            ],
        }
    )


@pytest.mark.parametrize(
    ("cwd", "patterns", "expected"),
    [
        ("/work/secret-client/api", ["/work/secret-client"], "/work/secret-client"),
        ("/work/secret-client", ["/work/secret-client"], "/work/secret-client"),
        ("/work/secret-client-2", ["/work/secret-client"], None),
        ("/work/acme-internal", ["/work/*-internal"], "/work/*-internal"),
        ("/work/app", ["/work/*-internal"], None),
        (None, ["/work"], None),
    ],
)
def test_excluded_projects_are_folders_or_globs(
    cwd: str | None, patterns: list[str], expected: str | None
) -> None:
    assert excluded_by(cwd, patterns) == expected


def test_home_relative_exclusions_are_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/ada")
    assert excluded_by("/home/ada/clients/x", ["~/clients"]) == "~/clients"


def test_a_session_of_an_excluded_project_is_refused() -> None:
    settings = Settings(exclude_projects=["/work/secret-client"])
    with pytest.raises(ExcludedProjectError, match=r"privacy\.exclude_projects excludes"):
        prepare_session(_session("/work/secret-client/api"), settings)


def test_secrets_are_redacted_unless_turned_off() -> None:
    prepared = prepare_session(_session("/work/app"), Settings())
    assert SECRET.encode() not in prepared.body
    assert prepared.report.total == 1
    kept = prepare_session(_session("/work/app"), Settings(redact_secrets=False))
    assert SECRET.encode() in kept.body


def test_home_paths_are_masked_when_asked() -> None:
    home = str(Path.home())
    prepared = prepare_session(_session(f"{home}/app"), Settings(mask_home_paths=True))
    assert home.encode() not in prepared.body
