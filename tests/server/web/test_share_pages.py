"""``/upload`` and ``/gh/{owner}/{repo}/{ref}/{path}`` over HTTP, in both profiles.

GitHub is stood in for by a loopback HTTP server serving the shared corpus at
``/{owner}/{repo}/{ref}/{path}``; the live server reaches it through ``github_raw_base``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.server.conftest import LiveServer

CODEX_FILE = "codex/agentsview__standard_session.jsonl"
HAIL_FILE = "hail/opensession__c96e93e8.hail.jsonl"
SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
PASSWORD = "correct horse"


@contextmanager
def fake_github(root: Path) -> Iterator[tuple[str, list[str]]]:
    """A loopback server answering ``/{owner}/{repo}/{ref}/{path}`` with the file at ``path``
    under ``root`` (404 otherwise): its URL, and the paths asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            parts = [unquote(part) for part in self.path.split("/")[4:]]
            file = root.joinpath(*parts) if parts else root
            body = file.read_bytes() if file.is_file() else b"404: Not Found"
            self.send_response(200 if file.is_file() else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}", asked
    finally:
        http.shutdown()
        http.server_close()


def signed_in(server: LiveServer, nickname: str = "ada") -> httpx.Client:
    """A cookie-keeping client of ``server``, registered and signed in through the form."""
    client = httpx.Client(base_url=server.url, timeout=30)
    client.get("/register")
    form = {"email": f"{nickname}@example.com", "nickname": nickname, "password": PASSWORD}
    response = client.post("/register", data={"csrf": client.cookies["os_csrf"], **form})
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def visitor(live: LiveServer) -> Iterator[httpx.Client]:
    """A client of ``live``, signed in as a new account."""
    with closing(signed_in(live)) as client:
        yield client


def choose(client: httpx.Client, name: str, content: bytes, **fields: str) -> httpx.Response:
    """Post the upload form with ``content`` chosen as the file ``name``."""
    data = {"csrf": client.cookies["os_csrf"], "step": "preview", **fields}
    return client.post("/upload", data=data, files={"file": (name, content)})


def confirm(client: httpx.Client, preview: httpx.Response, **fields: str) -> httpx.Response:
    """Post the preview page's confirm form, with ``fields`` as a browser would add them."""
    form = preview.text[preview.text.index('id="confirm"') :]
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    data = {**hidden, "step": "upload", "visibility": "public", **fields}
    # A multipart form, as the page's enctype says (an empty file part makes httpx send one).
    return client.post("/upload", data=data, files={"file": ("", b"")})


def test_upload_asks_to_sign_in_first(live: LiveServer) -> None:
    response = live.client.get("/upload")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/upload"


def test_upload_previews_then_stores_a_tool_session_file(
    live: LiveServer, visitor: httpx.Client, corpus: Path
) -> None:
    page = visitor.get("/upload")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and 'type="file"' in page.text
    assert 'href="/upload" aria-current="page"' in page.text

    preview = choose(visitor, Path(CODEX_FILE).name, (corpus / CODEX_FILE).read_bytes())
    assert preview.status_code == 200, preview.text
    text = preview.text
    assert '<dd class="mono">codex</dd>' in text  # the parser used
    assert "Codex rollout records" in text  # a candidate's reason
    assert "<dd>Add rate limiting</dd>" in text  # the title
    assert "Redaction found no secrets to replace." in text
    assert 'name="keep_secrets" value="on">' in text  # the opt-out, unchecked
    assert text.count('<article class="ev ') == 2
    assert "ll add rate limiting to the API." in text

    stored = confirm(visitor, preview, visibility="private")
    assert stored.status_code == 303
    session_id = stored.headers["location"].removeprefix("/session/")
    detail = httpx.get(
        f"{live.url}/api/sessions/{session_id}", cookies={}, headers=_bearer(visitor)
    ).json()
    assert detail["tool"] == "codex"
    assert detail["visibility"] == "private"
    assert detail["title"] == "Add rate limiting"
    assert live.client.get(f"/api/sessions/{session_id}").status_code == 404  # private


def _bearer(client: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.cookies['os_access']}"}


def test_redaction_is_on_unless_the_uploader_opts_out(
    live: LiveServer, visitor: httpx.Client, corpus: Path
) -> None:
    hail = (corpus / HAIL_FILE).read_text().replace("Locate where", f"token {SECRET}: locate where")
    preview = choose(visitor, "secret.hail.jsonl", hail.encode())
    assert preview.status_code == 200, preview.text
    assert '<dd class="mono">hail</dd>' in preview.text
    assert re.search(r"Redaction will replace \d+ secret\(s\): [^<]*2 github_token", preview.text)

    redacted = confirm(visitor, preview)
    session_id = redacted.headers["location"].removeprefix("/session/")
    body = live.client.get(f"/api/sessions/{session_id}/raw").text
    assert SECRET not in body and "[REDACTED:github_token]" in body

    kept = confirm(visitor, preview, keep_secrets="on")
    assert kept.headers["location"] == redacted.headers["location"]  # the same session again
    assert SECRET in live.client.get(f"/api/sessions/{session_id}/raw").text


def test_a_file_no_parser_reads_gets_a_message_and_a_parser_picker(
    visitor: httpx.Client, corpus: Path
) -> None:
    unknown = choose(visitor, "notes.txt", b"just some notes\n")
    assert unknown.status_code == 422
    assert "Neither HAIL nor a session file of a supported tool" in unknown.text
    assert 'name="parser_choice"' in unknown.text
    assert '<option value="codex"' in unknown.text

    empty = choose(visitor, "empty.jsonl", b"")
    assert empty.status_code == 400
    assert "The file empty.jsonl is empty: choose a session file." in empty.text

    csrf = visitor.cookies["os_csrf"]
    nothing = visitor.post("/upload", data={"csrf": csrf}, files={"file": ("", b"")})
    assert nothing.status_code == 400
    assert "Choose a session file to upload." in nothing.text
    not_multipart = visitor.post("/upload", data={"csrf": csrf})
    assert not_multipart.status_code == 400
    assert "Send the form as multipart/form-data." in not_multipart.text

    # Picked, a parser is tried first; when it fails, the detected one reads the file.
    codex = (corpus / CODEX_FILE).read_bytes()
    picked = choose(visitor, "session.jsonl", codex, parser_choice="gemini")
    assert picked.status_code == 200
    assert '<dd class="mono">codex</dd>' in picked.text
    assert "1 warning(s) while parsing" in picked.text
    assert "parser &#39;gemini&#39; failed" in picked.text


def test_too_large_a_file_is_refused_with_the_limit(
    start_server: Callable[..., LiveServer], corpus: Path
) -> None:
    server = start_server(ingest_max_bytes=2000)
    with closing(signed_in(server)) as client:
        page = client.get("/upload")
        assert "at most 2000 bytes" in page.text
        assert 'data-max-bytes="2000"' in page.text
        large = choose(client, "big.jsonl", b"x" * 3000)
        assert large.status_code == 413
        assert "The file is larger than the 2000 bytes this server takes" in large.text
        # Past what any form of such a file needs, the body is refused while it streams in.
        huge = choose(client, "huge.jsonl", b"x" * 200_000)
        assert huge.status_code == 413
        assert "The file is larger than the 2000 bytes this server takes" in huge.text


def test_upload_forms_need_the_csrf_token(visitor: httpx.Client, corpus: Path) -> None:
    content = (corpus / CODEX_FILE).read_bytes()
    refused = visitor.post(
        "/upload", data={"step": "preview"}, files={"file": ("s.jsonl", content)}
    )
    assert refused.status_code == 403
    assert "The form expired or came from another site" in refused.text


def test_a_damaged_carried_file_is_refused(visitor: httpx.Client) -> None:
    data = {"csrf": visitor.cookies["os_csrf"], "step": "upload", "filename": "s.jsonl"}
    for content in ("not base64!", "aGVsbG8="):  # the second is base64 but not compressed
        response = visitor.post(
            "/upload", data={**data, "content": content}, files={"file": ("", b"")}
        )
        assert response.status_code == 400
        assert "The previewed file came back damaged" in response.text


def test_the_worker_profile_and_a_server_without_accounts_explain_why_upload_is_off(
    start_server: Callable[..., LiveServer],
) -> None:
    worker = start_server(profile="worker")
    page = worker.client.get("/upload")
    assert page.status_code == 200
    assert "This is a read-only deployment" in page.text
    assert 'type="file"' not in page.text and 'action="/upload"' not in page.text
    assert 'href="/upload"' not in page.text  # nor in the navigation
    assert "uploading and GitHub previews are off" in page.text
    assert worker.client.post("/upload", files={"file": ("s.jsonl", b"{}")}).status_code == 403

    no_accounts = start_server(jwt_secret=None)
    page = no_accounts.client.get("/upload")
    assert page.status_code == 200
    assert "This server has no accounts (JWT_SECRET is unset)" in page.text
    assert 'type="file"' not in page.text


def test_a_github_file_is_previewed_with_its_source_banner(
    start_server: Callable[..., LiveServer], corpus: Path
) -> None:
    with fake_github(corpus) as (raw, asked):
        server = start_server(github_raw_base=raw, ingest_allow_private_hosts=True)
        page = server.client.get(f"/gh/corpus/sessions/main/{CODEX_FILE}")
        assert page.status_code == 200, page.text
        html = page.text
        banner = html[html.index('class="source-banner"') : html.index("</section>")]
        assert f'href="https://github.com/corpus/sessions/blob/main/{CODEX_FILE}"' in banner
        assert 'href="https://github.com/corpus/sessions"' in banner
        assert '<span class="mono">main</span>' in banner
        assert "<h1>Add rate limiting</h1>" in html
        assert "<dt>Title</dt>" not in html  # the heading says it already
        assert '<dd class="mono">codex</dd>' in html
        assert html.count('<article class="ev ') == 2
        assert 'name="parser"' not in html  # one candidate: nothing to pick
        assert asked == [f"/corpus/sessions/main/{CODEX_FILE}"]

        hail = server.client.get(f"/gh/corpus/sessions/main/{HAIL_FILE}")
        assert hail.status_code == 200
        assert html.count('<article class="ev ') < hail.text.count('<article class="ev ')


def test_github_problems_are_messages_with_a_parser_picker_when_parsing_fails(
    start_server: Callable[..., LiveServer], corpus: Path
) -> None:
    with fake_github(corpus) as (raw, _):
        server = start_server(github_raw_base=raw, ingest_allow_private_hosts=True)
        missing = server.client.get("/gh/corpus/sessions/main/no/such/file.jsonl")
        assert missing.status_code == 404
        assert "No file &#39;no/such/file.jsonl&#39; at &#39;main&#39;" in missing.text
        assert 'class="source-banner"' in missing.text

        unknown = server.client.get("/gh/corpus/sessions/main/SOURCES.md")
        assert unknown.status_code == 422
        assert "Neither HAIL nor a session file of a supported tool" in unknown.text
        picker = unknown.text[unknown.text.index('class="panel parser-picker"') :]
        assert 'method="get"' in picker and 'name="parser"' in picker

        forced = server.client.get(
            "/gh/corpus/sessions/main/SOURCES.md", params={"parser": "codex"}
        )
        assert forced.status_code == 422
        assert "Parser &#39;codex&#39; failed: SOURCES.md: no readable Codex records" in forced.text
        assert '<option value="codex" selected>' in forced.text

        bad = server.client.get(f"/gh/corpus/sessions/main/{CODEX_FILE}", params={"parser": "x"})
        assert bad.status_code == 400
        assert "Unknown parser_hint &#39;x&#39;" in bad.text

        chosen = server.client.get(f"/gh/corpus/sessions/main/{CODEX_FILE}?parser=codex")
        assert chosen.status_code == 200
        assert '<option value="codex" selected>' in chosen.text

        invalid = server.client.get("/gh/corpus/sessions/main/a/../b.jsonl")
        assert invalid.status_code in (400, 404)


def test_github_previews_refuse_private_hosts_by_default(
    start_server: Callable[..., LiveServer], corpus: Path
) -> None:
    with fake_github(corpus) as (raw, asked):
        server = start_server(github_raw_base=raw)
        page = server.client.get(f"/gh/corpus/sessions/main/{CODEX_FILE}")
    assert page.status_code == 403
    assert "which is not a public address; not fetched" in page.text
    assert asked == []


def test_the_worker_profile_shows_a_read_only_banner_for_github_files(
    start_server: Callable[..., LiveServer], corpus: Path
) -> None:
    with fake_github(corpus) as (raw, asked):
        server = start_server(
            profile="worker", github_raw_base=raw, ingest_allow_private_hosts=True
        )
        page = server.client.get(f"/gh/corpus/sessions/main/{CODEX_FILE}")
    assert page.status_code == 200
    assert "GitHub previews are unavailable here" in page.text
    assert f'href="https://github.com/corpus/sessions/blob/main/{CODEX_FILE}"' in page.text
    assert '<article class="ev ' not in page.text
    assert asked == []
