"""``/api/sessions`` on a live server: upload (JSON and HAIL JSONL), list, detail, raw, delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from opensession.hail import Session, dumps_session, read_session
from opensession.hail.model import (
    Agent,
    Context,
    FileEdit,
    FileEditData,
    FileRead,
    PathData,
    ShellCommand,
    ShellCommandData,
)
from opensession.hail.sanitize import sanitize_session
from opensession.hail.stats import compute_stats
from opensession.parsers.registry import parse_path
from opensession.server.db.engine import make_engine
from opensession.server.db.schema import users
from opensession.server.routes.sessions import SessionSummary
from tests.hail.factories import START, event
from tests.server.conftest import LiveServer

SECRET = "sk-ant-api03-" + "Zx9" * 20
JSONL = {"content-type": "application/x-ndjson"}


def make_session(
    session_id: str = "s-1",
    *,
    title: str = "Fix the login form",
    tool: str = "claude-code",
    created_at: datetime | None = None,
    messages: int = 1,
    seconds: int = 60,
    failures: int = 0,
    text: str = "please fix the login form",
    **context: Any,
) -> Session:
    """A small valid session: ``messages`` user messages, a file read, an edit, ``failures``
    shell commands that exited 1, and a last message ``seconds`` after the first."""
    start = created_at or datetime.now(UTC) - timedelta(hours=1)
    kinds: list[Any] = [None] * messages
    kinds += [FileRead(data=PathData(path="src/app.py"))]
    kinds += [FileEdit(data=FileEditData(path="src/login.py"))]
    kinds += [ShellCommand(data=ShellCommandData(command="pytest", exit_code=1))] * failures
    events = [
        event(index, kind, text=text if index == 0 else f"and more {index}" if kind is None else "")
        for index, kind in enumerate(kinds)
    ]
    events.append(event(len(kinds), text="done", seconds=max(seconds, len(kinds))))
    events = [e.model_copy(update={"timestamp": e.timestamp - START + start}) for e in events]
    return Session(
        session_id=session_id,
        agent=Agent(provider="anthropic", model="claude-opus-4", tool=tool),
        context=Context(title=title, created_at=start, updated_at=events[-1].timestamp, **context),
        events=events,
        stats=compute_stats(events),
    )


def auth(token: dict[str, Any] | str) -> dict[str, str]:
    value = token if isinstance(token, str) else token["access_token"]
    return {"Authorization": f"Bearer {value}"}


def upload(
    live: LiveServer, token: dict[str, Any] | str, session: Session, **options: Any
) -> httpx.Response:
    return live.client.post(
        "/api/sessions",
        json={"session": session.model_dump(mode="json"), **options},
        headers=auth(token),
    )


def uploaded_id(
    live: LiveServer, token: dict[str, Any] | str, session: Session, **options: Any
) -> str:
    response = upload(live, token, session, **options)
    assert response.status_code in (200, 201), response.text
    session_id: str = response.json()["id"]
    return session_id


def listing(live: LiveServer, token: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    response = live.client.get("/api/sessions", params=params, headers=auth(token) if token else {})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def titles(page: dict[str, Any]) -> list[str]:
    return [item["title"] for item in page["sessions"]]


def stored_bodies(live: LiveServer) -> list[Path]:
    return sorted(live.settings.blob_dir.rglob("*.jsonl.gz"))


def expected_body(session: Session) -> bytes:
    """What the server stores for ``session``: sanitized, its stats recomputed."""
    sanitized, _ = sanitize_session(session)
    return dumps_session(sanitized.model_copy(update={"stats": compute_stats(sanitized.events)}))


def test_upload_then_list_detail_and_raw(live: LiveServer, corpus: Path) -> None:
    token = live.register()
    session = read_session(corpus / "hail" / "opensession__c96e93e8.hail.jsonl")
    response = upload(live, token, session)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["url"] == f"{live.url}/session/{created['id']}"
    assert created["score_plugin"] == "heuristic_v1"
    assert created["session_score"] == 100

    page = listing(live)
    assert page["total"] == 1 and page["page"] == 1 and page["per_page"] == 20
    [item] = page["sessions"]
    assert set(item) == set(SessionSummary.model_fields)
    assert item["id"] == created["id"]
    assert item["session_id"] == session.session_id
    assert item["nickname"] == "ada" and item["user_id"] == token["user_id"]
    assert (item["tool"], item["agent_provider"], item["agent_model"]) == (
        "codex",
        "openai",
        "gpt-5.3-codex",
    )
    assert item["event_count"] == 82 and item["message_count"] == 3
    assert item["duration_seconds"] == 125
    assert item["git_branch"] == "main" and item["git_repo_name"] == "hwisu/opensession"
    assert item["git_commit"] == "ccca1f884f6fef63d1707844b7fdbdbb2a75083d"
    assert item["working_directory"] == "/Users/hwisookim/ops"
    assert item["created_at"] == "2026-02-21T00:39:28.356000Z"
    assert item["visibility"] == "public" and item["has_errors"] is False

    detail = live.client.get(f"/api/sessions/{created['id']}").json()
    assert {key: detail[key] for key in item} == item
    assert detail["linked_sessions"] == [] and detail["body_url"] is None

    raw = live.client.get(f"/api/sessions/{created['id']}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/jsonl"
    assert raw.headers["content-disposition"] == (
        f'attachment; filename="{created["id"]}.hail.jsonl"'
    )
    assert raw.content == expected_body(session)


def test_real_tool_sessions_upload_as_hail_jsonl(live: LiveServer, corpus: Path) -> None:
    token = live.register()
    sources = [
        corpus / "claude-code" / "spotter" / "tool_heavy.jsonl",
        corpus / "codex" / "localpush"
        / "rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl",
        corpus / "gemini" / "agentsview__tool_calls.json",
    ]  # fmt: skip
    sessions = [parse_path(source).session for source in sources]
    for session in sessions:
        response = live.client.post(
            "/api/sessions", content=dumps_session(session), headers={**auth(token), **JSONL}
        )
        assert response.status_code == 201, response.text
        raw = live.client.get(f"/api/sessions/{response.json()['id']}/raw")
        assert raw.content == expected_body(session)
    page = listing(live)
    assert page["total"] == 3
    assert {item["session_id"] for item in page["sessions"]} == {s.session_id for s in sessions}
    by_tool = {item["tool"]: item for item in page["sessions"]}
    assert set(by_tool) == {"claude-code", "codex", "gemini"}
    claude = by_tool["claude-code"]
    assert claude["event_count"] == sessions[0].stats.event_count
    assert claude["files_read"] or claude["files_modified"]


def test_jsonl_upload_takes_its_options_from_the_query(live: LiveServer) -> None:
    token = live.register()
    session = make_session(related_session_ids=["rel-1"], attributes={"parent_session_id": "p-1"})
    response = live.client.post(
        "/api/sessions",
        content=dumps_session(session),
        params={
            "visibility": "private",
            "git_branch": "feature/login",
            "pr_number": "42",
            "pr_url": "https://github.com/o/r/pull/42",
            "linked_session_ids": ["h-1", "h-2"],
            "body_url": "https://example.com/s-1.hail.jsonl",
            "score_plugin": "zero_v1",
        },
        headers={**auth(token), "content-type": "application/jsonl"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["session_score"] == 0
    detail = live.client.get(f"/api/sessions/{response.json()['id']}", headers=auth(token)).json()
    assert detail["visibility"] == "private"
    assert detail["git_branch"] == "feature/login"
    assert (detail["pr_number"], detail["pr_url"]) == (42, "https://github.com/o/r/pull/42")
    assert detail["body_url"] == "https://example.com/s-1.hail.jsonl"
    assert detail["score_plugin"] == "zero_v1" and detail["session_score"] == 0
    assert detail["files_read"] == ["src/app.py"] and detail["files_modified"] == ["src/login.py"]
    links = {(link["linked_session_id"], link["link_type"]) for link in detail["linked_sessions"]}
    assert links == {
        ("h-1", "handoff"),
        ("h-2", "handoff"),
        ("p-1", "parent"),
        ("rel-1", "related"),
    }
    assert all(link["session_id"] == detail["id"] for link in detail["linked_sessions"])


def test_json_body_options_win_over_the_query(live: LiveServer) -> None:
    token = live.register()
    response = live.client.post(
        "/api/sessions",
        params={"visibility": "private", "git_branch": "from-query"},
        json={"session": make_session().model_dump(mode="json"), "visibility": "public"},
        headers=auth(token),
    )
    assert response.status_code == 201, response.text
    [item] = listing(live)["sessions"]
    assert item["visibility"] == "public" and item["git_branch"] == "from-query"


def test_summaries_are_bounded_and_the_body_is_whole(live: LiveServer) -> None:
    token = live.register()
    title = "t" * 3000
    session = make_session(title=title, tags=[f"tag{n}" for n in range(80)])
    session_id = uploaded_id(live, token, session)
    [item] = listing(live)["sessions"]
    assert item["title"] == title[:1000] and len(item["tags"]) == 50
    assert title in live.client.get(f"/api/sessions/{session_id}/raw").text


def test_secrets_are_redacted_unless_the_uploader_opts_out(live: LiveServer) -> None:
    token = live.register()
    leaky = f"my key: ANTHROPIC_API_KEY={SECRET} please use it"
    redacted = uploaded_id(live, token, make_session("s-1", text=leaky))
    raw = live.client.get(f"/api/sessions/{redacted}/raw").text
    assert SECRET not in raw
    assert "ANTHROPIC_API_KEY=[REDACTED:" in raw
    assert listing(live, search="zx9zx9")["total"] == 0

    remote = "https://user:hunter2hunter2@github.com/o/r.git"
    kept = uploaded_id(live, token, make_session("s-2", text=leaky), sanitize=False)
    assert SECRET in live.client.get(f"/api/sessions/{kept}/raw").text
    with_remote = uploaded_id(live, token, make_session("s-3"), git_remote=remote)
    detail = live.client.get(f"/api/sessions/{with_remote}").json()
    assert "hunter2" not in detail["git_remote"] and detail["git_repo_name"] == "o/r"


def test_reupload_replaces_the_row_and_its_old_body(live: LiveServer) -> None:
    token = live.register()
    first = upload(live, token, make_session(title="first try"))
    assert first.status_code == 201
    assert len(stored_bodies(live)) == 1
    again = upload(live, token, make_session(title="first try"))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    changed = upload(live, token, make_session(title="second try"), visibility="private")
    assert changed.status_code == 200 and changed.json()["id"] == first.json()["id"]
    assert listing(live)["total"] == 0
    page = listing(live, token)
    assert page["total"] == 1 and titles(page) == ["second try"]
    assert len(stored_bodies(live)) == 1
    raw = live.client.get(f"/api/sessions/{first.json()['id']}/raw", headers=auth(token))
    assert b"second try" in raw.content


def test_the_same_session_from_two_uploaders_shares_one_body(live: LiveServer) -> None:
    ada, bob = live.register("ada"), live.register("bob")
    session = make_session()
    ada_id, bob_id = uploaded_id(live, ada, session), uploaded_id(live, bob, session)
    assert ada_id != bob_id
    assert len(stored_bodies(live)) == 1
    assert live.client.delete(f"/api/sessions/{ada_id}", headers=auth(ada)).status_code == 204
    assert live.client.get(f"/api/sessions/{bob_id}/raw").content == expected_body(session)
    assert live.client.delete(f"/api/sessions/{bob_id}", headers=auth(bob)).status_code == 204
    assert stored_bodies(live) == []


def test_list_filters_by_tool_search_and_time_range(live: LiveServer) -> None:
    token = live.register()
    now = datetime.now(UTC)
    for number, (title, tool, age) in enumerate(
        [
            ("Refactor the Parser", "codex", timedelta(hours=2)),
            ("Fix 100% CPU_usage", "claude-code", timedelta(days=3)),
            ("Write docs", "claude-code", timedelta(days=20)),
            ("Old parser work", "gemini", timedelta(days=60)),
        ]
    ):
        uploaded_id(
            live, token, make_session(f"s-{number}", title=title, tool=tool, created_at=now - age)
        )

    assert listing(live)["total"] == 4
    codex = listing(live, tool="codex")
    assert titles(codex) == ["Refactor the Parser"] and codex["total"] == 1
    assert listing(live, tool="cursor") == {"sessions": [], "total": 0, "page": 1, "per_page": 20}
    assert set(titles(listing(live, search="PARSER"))) == {"Refactor the Parser", "Old parser work"}
    assert titles(listing(live, search="parser refactor")) == ["Refactor the Parser"]
    assert titles(listing(live, search="100%")) == ["Fix 100% CPU_usage"]
    assert titles(listing(live, search="cpu_usage")) == ["Fix 100% CPU_usage"]
    assert listing(live, search="%")["total"] == 1
    assert listing(live, search="login form")["total"] == 4  # the first user message
    assert titles(listing(live, time_range="24h")) == ["Refactor the Parser"]
    assert listing(live, time_range="7d")["total"] == 2
    assert listing(live, time_range="30d")["total"] == 3
    assert listing(live, time_range="all")["total"] == 4
    both = listing(live, time_range="30d", tool="claude-code", search="docs")
    assert titles(both) == ["Write docs"] and both["total"] == 1


def test_list_sorts_and_pages(live: LiveServer) -> None:
    token = live.register()
    now = datetime.now(UTC)
    specs = [  # title, messages, seconds, failures, age in hours
        ("short and clean", 1, 30, 0, 5),
        ("chatty and clean", 4, 90, 0, 4),
        ("long with failures", 2, 3000, 2, 3),
        ("medium clean", 1, 600, 0, 2),
        ("newest, one failure", 1, 60, 1, 1),
    ]
    for number, (title, messages, seconds, failures, hours) in enumerate(specs):
        session = make_session(
            f"s-{number}",
            title=title,
            messages=messages,
            seconds=seconds,
            failures=failures,
            created_at=now - timedelta(hours=hours),
        )
        uploaded_id(live, token, session)

    recent = [spec[0] for spec in sorted(specs, key=lambda spec: spec[4])]
    assert titles(listing(live)) == recent
    assert titles(listing(live, sort="recent")) == recent
    assert titles(listing(live, sort="popular")) == [
        "chatty and clean",  # score 100, 4 messages
        "medium clean",  # score 100, 1 message, newer
        "short and clean",
        "newest, one failure",  # score 80
        "long with failures",  # score 75
    ]
    assert titles(listing(live, sort="longest")) == [
        "long with failures",
        "medium clean",
        "chatty and clean",
        "newest, one failure",
        "short and clean",
    ]
    pages = [listing(live, page=page, per_page=2) for page in (1, 2, 3, 4)]
    assert [page["total"] for page in pages] == [5, 5, 5, 5]
    assert [titles(page) for page in pages] == [recent[0:2], recent[2:4], recent[4:], []]
    assert pages[1]["page"] == 2 and pages[1]["per_page"] == 2


def test_private_sessions_are_seen_by_their_uploader_only(live: LiveServer) -> None:
    ada, bob = live.register("ada"), live.register("bob")
    public_id = uploaded_id(live, ada, make_session("s-1", title="public one"))
    private_id = uploaded_id(
        live, ada, make_session("s-2", title="private one"), visibility="private"
    )
    bob_private = uploaded_id(
        live, bob, make_session("s-3", title="bob's secret"), visibility="private"
    )

    assert titles(listing(live)) == ["public one"] and listing(live)["total"] == 1
    ada_page = listing(live, ada)
    assert set(titles(ada_page)) == {"public one", "private one"} and ada_page["total"] == 2
    bob_page = listing(live, bob)
    assert set(titles(bob_page)) == {"public one", "bob's secret"} and bob_page["total"] == 2
    assert listing(live, ada, search="private")["total"] == 1
    assert listing(live, bob, search="private")["total"] == 0
    assert titles(listing(live, ada, per_page=1, page=2, sort="recent")) == ["public one"]

    for path in (f"/api/sessions/{private_id}", f"/api/sessions/{private_id}/raw"):
        assert live.client.get(path).status_code == 404
        assert live.client.get(path, headers=auth(bob)).status_code == 404
        assert live.client.get(path, headers=auth(ada)).status_code == 200
    assert live.client.get(f"/api/sessions/{public_id}", headers=auth(bob)).status_code == 200
    assert live.client.get(f"/api/sessions/{bob_private}", headers=auth(ada)).status_code == 404


def test_without_public_feed_anonymous_readers_get_401(
    start_server: Callable[..., LiveServer],
) -> None:
    live = start_server(public_feed_enabled=False)
    token = live.register()
    session_id = uploaded_id(live, token, make_session())
    for path in ("/api/sessions", f"/api/sessions/{session_id}", f"/api/sessions/{session_id}/raw"):
        response = live.client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert live.client.get(path, headers=auth(token)).status_code == 200
    assert listing(live, token)["total"] == 1


def test_delete_is_for_the_owner(live: LiveServer) -> None:
    ada, bob = live.register("ada"), live.register("bob")
    session_id = uploaded_id(live, ada, make_session())
    path = f"/api/sessions/{session_id}"
    assert live.client.delete(path).status_code == 401
    refused = live.client.delete(path, headers=auth(bob))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert live.client.delete(path, headers=auth(ada)).status_code == 204
    for route in (path, f"{path}/raw"):
        assert live.client.get(route, headers=auth(ada)).status_code == 404
    gone = live.client.delete(path, headers=auth(ada))
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    assert listing(live, ada)["total"] == 0
    assert stored_bodies(live) == []


def test_a_private_session_is_not_found_for_others_to_delete(live: LiveServer) -> None:
    ada, bob = live.register("ada"), live.register("bob")
    session_id = uploaded_id(live, ada, make_session(), visibility="private")
    response = live.client.delete(f"/api/sessions/{session_id}", headers=auth(bob))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/sessions/not-a-uuid",
        "/api/sessions/..%2F..%2Fetc%2Fpasswd",
        "/api/sessions/0BFEC2DA-84CA-46AB-BDE1-E00E3F163DA4/raw",
        "/api/sessions/%2e%2e",
    ],
)
def test_session_ids_are_validated(live: LiveServer, path: str) -> None:
    response = live.client.get(path)
    assert response.status_code in (400, 404)
    assert set(response.json()) >= {"code", "message"}
    if response.status_code == 400:
        assert "session_id" in response.json()["message"]


def test_unknown_session_is_404(live: LiveServer) -> None:
    response = live.client.get("/api/sessions/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "abc"},
        {"per_page": "0"},
        {"per_page": "101"},
        {"sort": "oldest"},
        {"time_range": "1y"},
        {"search": "x" * 201},
        {"search": "a\x00b"},
        {"tool": "\x00"},
    ],
)
def test_bad_list_queries_are_400(live: LiveServer, params: dict[str, str]) -> None:
    response = live.client.get("/api/sessions", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_request"
    assert next(iter(params)) in body["message"]


def test_oversized_uploads_are_413(start_server: Callable[..., LiveServer]) -> None:
    live = start_server(max_upload_bytes=2000)
    token = live.register()
    body = dumps_session(make_session(text="x" * 3000))

    declared = live.client.post("/api/sessions", content=body, headers={**auth(token), **JSONL})
    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"

    def chunks() -> Any:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    streamed = live.client.post("/api/sessions", content=chunks(), headers={**auth(token), **JSONL})
    assert streamed.status_code == 413
    assert streamed.json()["code"] == "payload_too_large"
    assert listing(live, token)["total"] == 0 and stored_bodies(live) == []

    small = live.client.post(
        "/api/sessions",
        content=dumps_session(make_session(text="hi")),
        headers={**auth(token), **JSONL},
    )
    assert small.status_code == 201, small.text


def _backwards() -> bytes:
    session = make_session(messages=3)
    events = list(reversed(session.events))
    return dumps_session(session.model_copy(update={"events": events}))


@pytest.mark.parametrize(
    ("content_type", "body", "code", "names"),
    [
        ("application/json", b"{not json", "invalid_json", "not JSON"),
        ("application/json", b'{"title": "no session"}', "invalid_session", "session"),
        ("application/json", b'{"session": {"x": 1}}', "invalid_session", "session.session_id"),
        ("application/json", b"[1, 2]", "invalid_session", "session"),
        ("application/json", b"", "invalid_session", "empty"),
        ("application/x-ndjson", b"hello world\n", "invalid_hail", "upload:1"),
        ("application/x-ndjson", b'{"type": "event"}\n', "invalid_hail", "header"),
        ("application/x-ndjson", dumps_session(make_session())[:-40], "invalid_hail", "truncated"),
        ("application/x-ndjson", _backwards(), "invalid_session", "timestamped before"),
        (
            "application/x-ndjson",
            dumps_session(make_session()).replace(b'"event_id":"e1"', b'"event_id":"e0"'),
            "invalid_session",
            "repeats event_id",
        ),
        ("text/plain", dumps_session(make_session()), "unsupported_media_type", "x-ndjson"),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(
    live: LiveServer, content_type: str, body: bytes, code: str, names: str
) -> None:
    token = live.register()
    response = live.client.post(
        "/api/sessions", content=body, headers={**auth(token), "content-type": content_type}
    )
    assert response.status_code in (400, 415), response.text
    assert response.json()["code"] == code
    assert names in response.json()["message"]
    assert listing(live, token)["total"] == 0 and stored_bodies(live) == []


def test_bad_upload_options_are_400(live: LiveServer) -> None:
    token = live.register()
    for options, field in [
        ({"visibility": "friends"}, "visibility"),
        ({"pr_number": 0}, "pr_number"),
        ({"linked_session_ids": ["x" * 201]}, "linked_session_ids"),
        ({"score_plugin": "no_such_plugin"}, "heuristic_v1"),
        ({"pr_url": "javascript:alert(1)"}, "pr_url"),
        ({"body_url": "file:///etc/passwd"}, "body_url"),
    ]:
        response = upload(live, token, make_session(), **options)
        assert response.status_code == 400, (options, response.text)
        assert field in response.json()["message"]
    assert listing(live, token)["total"] == 0


def test_uploads_need_an_account_and_the_server_profile(
    start_server: Callable[..., LiveServer],
) -> None:
    live = start_server()
    anonymous = live.client.post(
        "/api/sessions", json={"session": make_session().model_dump(mode="json")}
    )
    assert anonymous.status_code == 401

    worker = start_server(profile="worker")
    token = worker.register()
    refused = upload(worker, token, make_session())
    assert refused.status_code == 403 and refused.json()["code"] == "upload_disabled"
    assert "worker" in refused.json()["message"]
    assert listing(worker)["total"] == 0
    unknown = "/api/sessions/00000000-0000-4000-8000-000000000000"
    refused = worker.client.delete(unknown, headers=auth(token))
    assert refused.status_code == 403 and refused.json()["code"] == "upload_disabled"

    no_accounts = start_server(jwt_secret=None)
    refused = no_accounts.client.post(
        "/api/sessions", json={"session": make_session().model_dump(mode="json")}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "upload_disabled"


def test_api_keys_can_upload(live: LiveServer) -> None:
    token = live.register()
    issued = live.client.post("/api/auth/api-keys/issue", headers=auth(token))
    assert issued.status_code == 200, issued.text
    api_key = issued.json()["api_key"]
    response = live.client.post(
        "/api/sessions", content=dumps_session(make_session()), headers={**auth(api_key), **JSONL}
    )
    assert response.status_code == 201, response.text
    assert listing(live)["sessions"][0]["user_id"] == token["user_id"]
    wrong = live.client.post(
        "/api/sessions",
        content=dumps_session(make_session()),
        headers={**auth("osk_" + "0" * 32), **JSONL},
    )
    assert wrong.status_code == 401


def test_anonymous_default_feed_is_cacheable_at_the_edge(live: LiveServer) -> None:
    token = live.register()
    feed = live.client.get("/api/sessions")
    assert "s-maxage" in feed.headers["cache-control"] and feed.headers["vary"] == "Authorization"
    for response in (
        live.client.get("/api/sessions", params={"search": "x"}),
        live.client.get("/api/sessions", params={"page": 11}),
        live.client.get("/api/sessions", headers=auth(token)),
    ):
        assert "s-maxage" not in response.headers["cache-control"]


def test_totals_stay_exact_when_an_account_goes(live: LiveServer) -> None:
    ada, bob = live.register("ada"), live.register("bob")
    for number in range(3):
        uploaded_id(live, ada, make_session(f"a-{number}", tool="codex"))
    uploaded_id(live, bob, make_session("b-0", tool="codex"))
    uploaded_id(live, bob, make_session("b-1", tool="gemini"))
    assert listing(live)["total"] == 5 and listing(live, tool="codex")["total"] == 4
    engine = make_engine(live.settings.sqlalchemy_url)
    with engine.begin() as db:  # an account removed with its sessions (foreign key cascade)
        db.execute(delete(users).where(users.c.id == ada["user_id"]))
    engine.dispose()
    assert listing(live)["total"] == 2 and listing(live, tool="codex")["total"] == 1
