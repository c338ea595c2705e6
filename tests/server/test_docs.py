"""``/docs`` (an HTML page, or its markdown for ``Accept: text/markdown``) and ``/llms.txt``."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest

from opensession.server.docs import documentation
from opensession.server.routes.docs import prefers_markdown
from opensession.server.settings import ServerSettings
from tests.server.conftest import LiveServer

CHAPTERS = [
    "Getting started",
    "CLI",
    "HAIL format",
    "Handoff",
    "Server & API",
    "Self-hosting",
    "Web UI",
]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class _Page(HTMLParser):
    """The ids, in-page links and TOC/card entries of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.anchors: list[str] = []
        self.landmarks: list[tuple[str, str | None]] = []
        self.cards = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "a" and str(found.get("href", "")).startswith("#"):
            self.anchors.append(str(found["href"])[1:])
        if tag in ("nav", "main", "section", "article", "header"):
            self.landmarks.append((tag, found.get("aria-labelledby") or found.get("aria-label")))
        if tag == "li" and found.get("class") == "card":
            self.cards += 1


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_the_docs_page_is_html_with_chapter_cards_and_a_table_of_contents(
    live: LiveServer,
) -> None:
    response = live.client.get("/docs", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    html = response.text
    assert html.startswith("<!doctype html>")
    page = _page(html)
    assert page.cards == len(CHAPTERS)
    assert ("nav", "contents") in page.landmarks
    assert ("section", "chapters") in page.landmarks
    assert sum(tag == "article" for tag, _ in page.landmarks) == len(CHAPTERS)
    assert len(page.ids) == len(set(page.ids)), "heading ids must be unique"
    assert set(page.anchors) <= set(page.ids), "every in-page link must have its target"
    for title in CHAPTERS:
        assert html.count(f">{title.replace('&', '&amp;')}<") >= 2  # its card and its heading
    assert "<table>" in html and "<pre><code" in html


def test_the_page_renders_its_markdown_without_raw_html() -> None:
    docs = documentation()
    assert [chapter.title for chapter in docs.chapters] == CHAPTERS
    for chapter in docs.chapters:
        assert chapter.summary and chapter.sections
        assert f'<h2 id="{chapter.slug}">' in chapter.html
    assert "Install the CLI" in docs.chapters[0].summary


def test_accept_text_markdown_gets_the_markdown_source(live: LiveServer) -> None:
    response = live.client.get("/docs", headers={"Accept": "text/markdown"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert response.text == documentation().markdown
    assert response.text.startswith("# opensession documentation\n")
    headings = re.findall(r"^## (.+)$", response.text, flags=re.MULTILINE)
    assert headings == CHAPTERS


@pytest.mark.parametrize(
    ("accept", "markdown"),
    [
        ("text/markdown", True),
        ("text/markdown; charset=utf-8", True),
        ("text/markdown, text/html;q=0.9", True),
        ("TEXT/MARKDOWN", True),
        ("text/html, text/markdown", True),
        ("text/html, text/markdown;q=0.5", False),
        ("text/markdown;q=0", False),
        ("text/markdown;q=oops", False),
        (BROWSER_ACCEPT, False),
        ("*/*", False),
        ("", False),
    ],
)
def test_markdown_is_negotiated_by_the_accept_header(accept: str, markdown: bool) -> None:
    assert prefers_markdown(accept) is markdown


def test_every_api_route_is_in_the_docs(live: LiveServer) -> None:
    source = documentation().markdown
    documented = {
        (method, _shape(path))
        for method, path in re.findall(r"^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \|", source, re.M)
    }
    paths = live.client.get("/openapi.json").json()["paths"]
    served = {
        (method.upper(), _shape(path))
        for path, operations in paths.items()
        for method in operations
        if path.startswith("/api/")
    }
    assert served <= documented, f"undocumented routes: {sorted(served - documented)}"


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_environment_variable_of_the_server_is_documented() -> None:
    names = set(re.findall(r'"([A-Z][A-Z_]{2,})"', inspect.getsource(ServerSettings.from_env)))
    assert {"PORT", "JWT_SECRET", "OPENSESSION_DATA_DIR"} <= names
    [self_hosting] = [c.html for c in documentation().chapters if c.title == "Self-hosting"]
    missing = [name for name in sorted(names) if f"<code>{name}</code>" not in self_hosting]
    assert not missing, f"undocumented environment variables: {missing}"


def test_llms_txt_summarises_the_api_for_this_deployment(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    response = server.client.get("/llms.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    text = response.text
    assert text.startswith("# opensession\n")
    assert "/docs" in text and "Accept: text/markdown" in text
    paths = server.client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        if path.startswith("/api/"):
            for method in operations:
                assert f"- {method.upper()} {path}: " in text
    assert "- POST /api/ingest/preview: Parse one session file" in text
    assert "- ingest_preview_enabled: true" in text

    worker = start_server(profile="worker").client.get("/llms.txt").text
    assert "- ingest_preview_enabled: false" in worker
    assert "- profile: worker" in worker
