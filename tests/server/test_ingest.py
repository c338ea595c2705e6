"""``POST /api/ingest/preview``: inline and GitHub sources parsed on a live server, nothing stored.

GitHub is stood in for by a real HTTP server on loopback serving the shared corpus; the live
server reaches it only through ``github_raw_base`` and ``ingest_allow_private_hosts``, and with
the default settings the same loopback server is refused.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select

from opensession.parsers.base import Detection
from opensession.server.db.schema import sessions
from opensession.server.errors import ApiError
from opensession.server.ingest.github import github_file, is_public_address
from opensession.server.ingest.preview import parsers_to_try, safe_filename
from opensession.server.settings import ServerSettings
from tests.server.conftest import LiveServer

CODEX_FILE = "codex/agentsview__standard_session.jsonl"
SLOW_SECONDS = 3.0


def inline(path: Path, filename: str | None = None) -> dict[str, Any]:
    """An inline source carrying the file at ``path``."""
    content = base64.b64encode(path.read_bytes()).decode()
    return {"kind": "inline", "filename": filename or path.name, "content_base64": content}


def text_source(text: str, filename: str = "notes.txt") -> dict[str, Any]:
    content = base64.b64encode(text.encode()).decode()
    return {"kind": "inline", "filename": filename, "content_base64": content}


def github(path: str, owner: str = "corpus", ref: str = "main") -> dict[str, Any]:
    return {"kind": "github", "owner": owner, "repo": "sessions", "ref": ref, "path": path}


def preview(server: LiveServer, source: dict[str, Any], **extra: Any) -> httpx.Response:
    return server.client.post("/api/ingest/preview", json={"source": source, **extra})


# --- A stand-in for raw.githubusercontent.com ---


@dataclass
class RawGithub:
    """A loopback HTTP server answering ``/{owner}/{repo}/{ref}/{path}``; the owner picks the
    behaviour: ``corpus`` serves the corpus file at ``path``, ``unsized`` serves it without a
    Content-Length, ``moved`` and ``moved-here`` redirect (elsewhere, to this server), ``slow``
    answers after SLOW_SECONDS, ``broken`` answers 500. Every request's path and Host are kept."""

    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)


def _handler(root: Path, raw: RawGithub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            raw.requests.append((self.path, self.headers.get("Host", "")))
            owner, _repo, *tail = [unquote(part) for part in self.path.split("/")[1:]]
            # Like GitHub, find where a ref of several segments ends and the path starts.
            files = (root.joinpath(*tail[end:]) for end in range(1, len(tail)))
            file = next((file for file in files if file.is_file()), None)
            if owner == "moved":
                self._answer(302, b"", {"Location": "http://example.com/elsewhere"})
            elif owner == "moved-here":
                self._answer(301, b"", {"Location": f"{raw.url}/corpus/sessions/main/x"})
            elif owner == "slow":
                time.sleep(SLOW_SECONDS)
                self._answer(200, b"late", {})
            elif owner == "broken":
                self._answer(500, b"oops", {})
            elif owner in ("corpus", "unsized") and file is not None:
                body = file.read_bytes()
                sized = {"Content-Length": str(len(body))} if owner == "corpus" else {}
                self._answer(200, body, sized)
            else:
                self._answer(404, b"404: Not Found", {})

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server under test gave up first (timeouts, size limits)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def raw_github(corpus: Path) -> Iterator[RawGithub]:
    raw = RawGithub(url="")
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(corpus, raw))
    http.daemon_threads = True
    raw.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield raw
    http.shutdown()
    http.server_close()


@pytest.fixture
def fetching(
    start_server: Callable[..., LiveServer], raw_github: RawGithub
) -> Callable[..., LiveServer]:
    """Starts a live server that fetches GitHub files from the loopback stand-in."""

    def start(**overrides: Any) -> LiveServer:
        return start_server(
            github_raw_base=raw_github.url, ingest_allow_private_hosts=True, **overrides
        )

    return start


# --- Inline sources ---


@pytest.mark.parametrize(
    ("relative", "tool"),
    [
        ("claude-code/spotter/short.jsonl", "claude-code"),
        (CODEX_FILE, "codex"),
        (
            "codex/localpush/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl",
            "codex",
        ),
        ("gemini/agentsview__tool_calls.json", "gemini"),
        ("aider/zen-mcp-server__.aider.chat.history.md", "aider"),
    ],
)
def test_inline_corpus_files_preview_as_their_tool(
    live: LiveServer, corpus: Path, relative: str, tool: str
) -> None:
    response = preview(live, inline(corpus / relative))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["parser_used"] == tool
    assert body["native_adapter"] == tool
    assert body["parser_candidates"][0]["id"] == tool
    assert 0 < body["parser_candidates"][0]["confidence"] <= 100
    assert body["parser_candidates"][0]["reason"]
    session = body["session"]
    assert session["agent"]["tool"] == tool
    assert session["version"].startswith("hail-")
    assert session["events"] and session["stats"]["event_count"] == len(session["events"])
    assert isinstance(body["warnings"], list)


def test_the_response_names_the_source_without_its_content_or_temporary_paths(
    live: LiveServer, corpus: Path
) -> None:
    source = inline(corpus / CODEX_FILE, filename="logs/rollout-today.jsonl")
    body = preview(live, source).json()
    assert body["source"] == {"kind": "inline", "filename": "logs/rollout-today.jsonl"}
    assert body["session"]["context"]["attributes"]["source_path"] == "logs/rollout-today.jsonl"
    assert "opensession-ingest-" not in str(body)


def test_a_hail_file_previews_as_hail_without_a_native_adapter(
    live: LiveServer, corpus: Path
) -> None:
    path = corpus / "hail" / "opensession__c96e93e8.hail.jsonl"
    body = preview(live, inline(path)).json()
    assert body["parser_used"] == "hail"
    assert "native_adapter" not in body
    assert body["parser_candidates"][0] == {
        "id": "hail",
        "confidence": 100,
        "reason": "HAIL JSONL header line",
    }
    header = path.read_text().splitlines()[0]
    assert body["session"]["session_id"] in header


def test_the_parser_hint_is_tried_first_then_detection(live: LiveServer, corpus: Path) -> None:
    body = preview(live, inline(corpus / CODEX_FILE), parser_hint="gemini").json()
    assert body["parser_used"] == "codex"
    assert any(warning.startswith("parser 'gemini' failed") for warning in body["warnings"])

    hinted = preview(live, inline(corpus / CODEX_FILE), parser_hint="codex").json()
    assert hinted["parser_used"] == "codex" and hinted["warnings"] == []


def test_an_unknown_parser_hint_is_refused_with_the_candidates(
    live: LiveServer, corpus: Path
) -> None:
    response = preview(live, inline(corpus / CODEX_FILE), parser_hint="notepad")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parser_hint"
    assert "claude-code" in body["message"]
    assert [candidate["id"] for candidate in body["parser_candidates"]] == ["codex"]


def test_a_file_of_no_supported_tool_is_422_with_empty_candidates(live: LiveServer) -> None:
    response = preview(live, text_source("just some notes\n"))
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["parser_candidates"]) == ("unsupported_session", [])
    assert "codex" in body["message"]


def test_a_claimed_file_no_parser_can_read_is_422_with_the_candidates(live: LiveServer) -> None:
    # Named like a Cline task file, but without the task folder's conversation beside it.
    response = preview(live, text_source("[]", filename="ui_messages.json"))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "parse_failed"
    assert "parser 'cline' failed" in body["message"]
    assert [candidate["id"] for candidate in body["parser_candidates"]] == ["cline"]


def test_tied_claims_without_a_hint_ask_for_a_parser() -> None:
    claims = [Detection("amp", 70, "a"), Detection("gemini", 70, "b"), Detection("codex", 20, "c")]
    with pytest.raises(ApiError) as refused:
        parsers_to_try(claims, None)
    assert (refused.value.status, refused.value.code) == (422, "parser_selection_required")
    assert [claim["id"] for claim in refused.value.extra["parser_candidates"]] == [
        "amp",
        "gemini",
        "codex",
    ]
    assert parsers_to_try(claims, "gemini") == ["gemini", "amp", "codex"]
    assert parsers_to_try(claims, "cline") == ["cline", "amp", "gemini", "codex"]
    assert parsers_to_try(claims[1:], None) == ["gemini", "codex"]


def test_the_git_source_kind_is_not_supported(live: LiveServer) -> None:
    source = {"kind": "git", "remote": "https://gitlab.com/a/b", "ref": "main", "path": "x"}
    response = preview(live, source)
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_source"
    assert "github and inline" in response.json()["message"]


@pytest.mark.parametrize("content", ["not base64!", "QUF", "wqHDqQ==é"])
def test_inline_content_that_is_not_base64_is_400(live: LiveServer, content: str) -> None:
    source = {"kind": "inline", "filename": "a.jsonl", "content_base64": content}
    response = preview(live, source)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_source"


def test_inline_content_over_the_limit_is_413(
    start_server: Callable[..., LiveServer], corpus: Path
) -> None:
    path = corpus / CODEX_FILE
    size = path.stat().st_size
    server = start_server(ingest_max_bytes=size)
    assert preview(server, inline(path)).status_code == 200
    grown = text_source(path.read_text() + "\n", filename=path.name)
    response = preview(server, grown)
    assert response.status_code == 413
    assert response.json()["code"] == "source_too_large"
    huge = {"kind": "inline", "filename": "x.jsonl", "content_base64": "QUFB" * size}
    assert preview(server, huge).status_code == 413


def test_the_worker_profile_has_no_ingest_preview(
    start_server: Callable[..., LiveServer], corpus: Path
) -> None:
    worker = start_server(profile="worker")
    response = preview(worker, inline(corpus / CODEX_FILE))
    assert response.status_code == 403
    assert response.json()["code"] == "ingest_disabled"


def test_a_preview_stores_nothing(live: LiveServer, corpus: Path) -> None:
    assert preview(live, inline(corpus / CODEX_FILE)).status_code == 200
    engine = create_engine(live.settings.sqlalchemy_url)
    with engine.connect() as db:
        assert db.execute(select(func.count()).select_from(sessions)).scalar_one() == 0
    engine.dispose()
    blobs = live.settings.blob_dir
    assert not blobs.exists() or not any(blobs.rglob("*"))


# --- GitHub sources ---


def test_a_github_file_is_fetched_from_the_raw_address_and_parsed(
    fetching: Callable[..., LiveServer], raw_github: RawGithub
) -> None:
    server = fetching()
    response = preview(server, github(CODEX_FILE, ref="release/1.0"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["parser_used"] == "codex"
    assert body["source"] == github(CODEX_FILE, ref="release/1.0")
    assert body["session"]["context"]["attributes"]["source_path"] == CODEX_FILE
    host = raw_github.url.removeprefix("http://")
    assert raw_github.requests == [(f"/corpus/sessions/release/1.0/{CODEX_FILE}", host)]


def test_a_missing_github_file_is_404(fetching: Callable[..., LiveServer]) -> None:
    response = preview(fetching(), github("codex/no-such-file.jsonl"))
    assert response.status_code == 404
    assert response.json()["code"] == "source_not_found"
    assert "codex/no-such-file.jsonl" in response.json()["message"]


def test_an_upstream_failure_is_422(fetching: Callable[..., LiveServer]) -> None:
    response = preview(fetching(), github(CODEX_FILE, owner="broken"))
    assert response.status_code == 422
    assert response.json()["code"] == "fetch_failed"
    assert "500" in response.json()["message"]


@pytest.mark.parametrize("owner", ["moved", "moved-here"])
def test_redirects_are_not_followed(
    fetching: Callable[..., LiveServer], raw_github: RawGithub, owner: str
) -> None:
    response = preview(fetching(), github(CODEX_FILE, owner=owner))
    assert response.status_code == 422
    assert response.json()["code"] == "redirect_refused"
    assert len(raw_github.requests) == 1


def test_a_slow_upstream_times_out_with_504(fetching: Callable[..., LiveServer]) -> None:
    server = fetching(ingest_timeout_seconds=0.5)
    started = time.monotonic()
    response = preview(server, github(CODEX_FILE, owner="slow"))
    assert response.status_code == 504
    assert response.json()["code"] == "fetch_timeout"
    assert time.monotonic() - started < SLOW_SECONDS


@pytest.mark.parametrize("owner", ["corpus", "unsized"])
def test_a_github_file_over_the_limit_is_413(
    fetching: Callable[..., LiveServer], corpus: Path, owner: str
) -> None:
    server = fetching(ingest_max_bytes=(corpus / CODEX_FILE).stat().st_size - 1)
    response = preview(server, github(CODEX_FILE, owner=owner))
    assert response.status_code == 413
    assert response.json()["code"] == "source_too_large"


@pytest.mark.parametrize(
    ("part", "value"),
    [
        ("owner", ".."),
        ("owner", "evil.com"),
        ("owner", "user@evil.com"),
        ("owner", "a/b"),
        ("repo", ".."),
        ("repo", "a/b"),
        ("ref", ""),
        ("ref", "main/../../x"),
        ("ref", "/main"),
        ("ref", "a//b"),
        ("path", "../../etc/passwd"),
        ("path", "/abs.jsonl"),
        ("path", "dir//x.jsonl"),
        ("path", "dir/./x.jsonl"),
        ("path", "dir/"),
        ("path", "x.jsonl?token=1"),
        ("path", "x.jsonl#frag"),
        ("path", "x%2F..%2Fy"),
        ("path", "a\\..\\b"),
        ("path", "line\nbreak"),
    ],
)
def test_unusable_github_locations_are_refused_before_any_fetch(
    fetching: Callable[..., LiveServer], raw_github: RawGithub, part: str, value: str
) -> None:
    source = github(CODEX_FILE) | {part: value}
    response = preview(fetching(), source)
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_source", "invalid_request")
    assert raw_github.requests == []


def test_default_settings_refuse_loopback_and_private_hosts(
    start_server: Callable[..., LiveServer], raw_github: RawGithub
) -> None:
    defaults = ServerSettings()
    assert defaults.github_raw_base == "https://raw.githubusercontent.com"
    assert not defaults.ingest_allow_private_hosts
    port = raw_github.url.rsplit(":", 1)[1]
    for base in (raw_github.url, f"http://localhost:{port}"):
        response = preview(start_server(github_raw_base=base), github(CODEX_FILE))
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "host_not_allowed"
    assert raw_github.requests == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("185.199.108.133", True),
        ("2606:50c0:8000::154", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),
        ("64:ff9b::a9fe:a9fe", False),
    ],
)
def test_only_public_unicast_addresses_are_fetched_from(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_raw_urls_quote_each_part() -> None:
    file = github_file("octo-cat", "my.repo", "feature/x", "logs/a b+c (1).jsonl")
    assert file.filename == "a b+c (1).jsonl"
    assert file.raw_url("https://raw.githubusercontent.com/") == (
        "https://raw.githubusercontent.com/octo-cat/my.repo/feature/x/logs/a%20b%2Bc%20%281%29.jsonl"
    )


_PART = st.lists(
    st.sampled_from([*"aZ09._-/ @:?#%\\~+=()[]!&'\n", "é", "..", "//"]), max_size=12
).map("".join)


@given(owner=_PART, repo=_PART, ref=_PART, path=_PART)
def test_no_accepted_location_leaves_the_base_address(
    owner: str, repo: str, ref: str, path: str
) -> None:
    try:
        file = github_file(owner, repo, ref, path)
    except ApiError as refused:
        assert (refused.status, refused.code) == (400, "invalid_source")
        return
    url = httpx.URL(file.raw_url("https://raw.githubusercontent.com"))
    assert (url.scheme, url.host, url.port) == ("https", "raw.githubusercontent.com", None)
    assert not url.query and not url.fragment
    segments = url.raw_path.decode().split("/")[1:]
    assert [unquote(segment) for segment in segments] == [
        owner,
        repo,
        *ref.split("/"),
        *path.split("/"),
    ]
    assert all(segment.strip(".") for segment in segments)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("rollout-1.jsonl", "rollout-1.jsonl"),
        ("logs/.aider.chat.history.md", ".aider.chat.history.md"),
        ("..\\..\\evil.json", "evil.json"),
        ("a b/c d?.json", "c_d_.json"),
        ("..", "session"),
        ("", "session"),
        ("x" * 200 + ".jsonl", "x" * 114 + ".jsonl"),
    ],
)
def test_file_names_are_sanitized_keeping_their_suffix(name: str, safe: str) -> None:
    assert safe_filename(name) == safe
