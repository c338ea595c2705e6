"""``/session/{id}`` on a live server: real corpus sessions render, untrusted content stays
inert, private sessions and unknown ids are HTML 404s, pages and search; in a real browser the
keys (``/``, ``n``, ``p``, ``1``-``5``) and the page without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from opensession.hail import Session, dumps_session, read_session
from opensession.hail import model as m
from opensession.parsers.registry import parse_path
from tests.hail.factories import event, session
from tests.server.conftest import LiveServer
from tests.server.web.conftest import ARTIFACTS, screenshot
from tests.server.web.test_timeline import PNG, every_kind

CLAUDE = Path("claude-code/spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl")
CLAUDE_AGENT = Path("claude-code/spotter/258c7280-ae70-4798-800f-63464d01a85d/subagents")
CODEX = Path(
    "codex/localpush/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl"
)
CODEX_HAIL = Path("hail/opensession__c96e93e8.hail.jsonl")
JSONL = {"content-type": "application/x-ndjson"}
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def upload(live: LiveServer, token: dict[str, Any], source: Session, **query: Any) -> str:
    """The page path of ``source`` uploaded as HAIL JSONL."""
    response = live.client.post(
        "/api/sessions",
        content=dumps_session(source),
        params=query,
        headers={"Authorization": f"Bearer {token['access_token']}", **JSONL},
    )
    assert response.status_code in (200, 201), response.text
    return f"/session/{response.json()['id']}"


def signed_in(token: dict[str, Any]) -> dict[str, str]:
    """The browser's cookie of a signed-in user."""
    return {"Cookie": f"os_access={token['access_token']}"}


class _Markup(HTMLParser):
    """Every tag and attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Markup()
    parser.feed(html)
    return parser.tags


def test_a_claude_code_session_renders_with_its_stats_and_timeline(
    live: LiveServer, corpus: Path
) -> None:
    token = live.register()
    path = upload(live, token, parse_path(corpus / CLAUDE).session)
    agent = parse_path(corpus / CLAUDE_AGENT / "agent-a881341.jsonl").session
    agent_path = upload(live, token, agent)

    response = live.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<title>Implement spotter-gqc · opensession</title>" in html
    for fact in ("claude-code", "claude-opus-4-6", "@ada", "1h 9m", "483", "15.1M / 38.9k"):
        assert fact in html, fact
    changed = '<dd>26 <span class="plus">+739</span> <span class="minus">\u221284</span>'
    assert changed in html
    assert f'href="/api/sessions/{path.removeprefix("/session/")}/raw"' in html
    # The sub-agent its task names is linked, both in the header and in the task group.
    assert html.count(f'href="{agent_path}"') == 3
    assert 'id="g-1"' in html and "Research Claude hook output" in html
    # A failing shell command: its exit code in red, its output under it.
    assert '<span class="badge bad">exit 128</span>' in html
    assert "fatal: The current branch spotter-gqc has no upstream branch." in html
    # Edits as coloured diffs, paths relative to the working directory.
    assert '<span class="dl add">' in html and '<span class="dl del">' in html
    assert (
        '<code class="path" title="/home/USER/projects/spotter-worktrees/spotter-gqc/lib/' in html
    )
    assert 'class="ev ev-thinking' in html and '<details class="thinking">' in html
    assert html.count('<a class="cell ') == 120
    assert all(f'data-filter="{name}"' in html for name in ("message", "tool", "file", "shell"))
    # One page: every event is on it, its tool results folded under their calls.
    assert 'class="pager"' not in html
    assert len(re.findall(r'<article class="ev ', html)) == 298


def test_codex_sessions_render(live: LiveServer, corpus: Path) -> None:
    token = live.register()
    rollout = live.client.get(upload(live, token, parse_path(corpus / CODEX).session)).text
    assert "gpt-5.3-codex" in rollout and "exec_command" in rollout
    assert 'class="ev ev-system' in rollout
    page = live.client.get(upload(live, token, read_session(corpus / CODEX_HAIL))).text
    assert "Locate where landing page disabled capability descriptions" in page
    # Each command's output is folded under it though the results name the event, not a call.
    assert page.count('class="ev ev-shell') == 26 and 'class="ev ev-result' not in page
    assert "/Users/hwisookim/ops" in page


def test_untrusted_content_stays_inert(live: LiveServer) -> None:
    token = live.register()
    html = live.client.get(upload(live, token, every_kind())).text
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in html
    scripts = [attrs.get("src") for tag, attrs in tags(html) if tag == "script"]
    assert all(src is None or src.startswith("/static/") for src in scripts)
    assert len([src for src in scripts if src is None]) == 1  # base.html's theme, before paint
    for tag, attrs in tags(html):
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:text")), (tag, attrs)
    images = [attrs["src"] for tag, attrs in tags(html) if tag == "img"]
    assert images == [PNG, "https://example.com/cat.png"]
    assert "javascript:alert(3)</code>" in html and "javascript:alert(4)</code>" in html


def test_every_event_type_has_its_rendering(live: LiveServer) -> None:
    token = live.register()
    html = live.client.get(upload(live, token, every_kind())).text
    for view in ("message", "thinking", "system", "call", "shell", "change", "result"):
        assert f'class="ev ev-{view} ' in html, view
    for view in ("task_start", "task_end", "generic"):
        assert f'class="ev ev-{view} ' in html, view
    assert '<details class="chip" open>' in html  # the failed ones are open
    assert "FutureThing (unknown type)" in html and "interrupted" in html
    assert "<video controls" in html and "<figure" in html


def test_private_sessions_are_404_but_to_their_owner(live: LiveServer) -> None:
    owner, other = live.register("ada"), live.register("bob")
    path = upload(live, owner, session([event(0, text="secret plans")]), visibility="private")
    for headers in ({}, signed_in(other)):
        response = live.client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "secret plans" not in response.text
    mine = live.client.get(path, headers=signed_in(owner))
    assert mine.status_code == 200 and "secret plans" in mine.text
    assert '<span class="badge private">private</span>' in mine.text


@pytest.mark.parametrize(
    "session_id",
    [
        "00000000-0000-4000-8000-000000000000",
        "not-a-session",
        "00000000-0000-4000-8000-00000000000G",
        "00000000-0000-4000-8000-000000000000".upper(),
        "x" * 300,
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ],
)
def test_unknown_and_malformed_ids_are_html_404s(live: LiveServer, session_id: str) -> None:
    response = live.client.get(f"/session/{session_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in response.text


def test_without_a_public_feed_anonymous_readers_are_asked_to_sign_in(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(public_feed_enabled=False)
    token = server.register()
    path = upload(server, token, session([event(0, text="hello")]))
    response = server.client.get(path)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert server.client.get(path, headers=signed_in(token)).status_code == 200


def long_session(commands: int) -> Session:
    """``commands`` shell commands, each with its output (two events each)."""
    events = []
    for n in range(commands):
        kind = m.ShellCommand(data=m.ShellCommandData(command=f"step {n}", exit_code=0))
        events.append(event(2 * n, kind, attributes={"semantic.call_id": f"c{n}"}))
        result = m.ToolResult(data=m.ToolResultData(name="Bash", call_id=f"c{n}"))
        text = "needle in the hay" if n in (700, 1050) else f"output {n}"
        events.append(event(2 * n + 1, result, text=text))
    return session(events, title="Long")


def test_long_sessions_are_paged_and_searched_whole(live: LiveServer) -> None:
    path = upload(live, live.register(), long_session(1100))  # 2,200 events: 5 pages
    first = live.client.get(path).text
    assert len(re.findall(r'<article class="ev ', first)) == 250  # 500 events
    assert f'<a rel="next" href="{path}?page=2">' in first
    assert first.count('<a class="cell ') == 120  # the map covers every page
    assert f'href="{path}?page=5#e-' in first
    third = live.client.get(path, params={"page": 3}).text
    assert "output 500" in third and "output 499" not in third and "output 750" not in third
    assert '<span aria-current="page">3</span>' in third
    for page in ("6", "0", "two", "-1"):
        missing = live.client.get(path, params={"page": page})
        assert missing.status_code == 404 and missing.headers["content-type"].startswith(
            "text/html"
        )
    # A search without a page opens the first page holding a match, and names the pages.
    found = live.client.get(path, params={"q": "NEEDLE in"}).text
    assert '<span aria-current="page">3</span>' in found
    assert 'class="ev ev-shell kind-ShellCommand matched"' in found
    assert "“NEEDLE in” is in 2 entries on pages" in found
    nowhere = live.client.get(path, params={"q": "absent words"}).text
    assert "is nowhere in this session" in nowhere


# --- in a browser ---


def open_session(page: Page, live: LiveServer, path: str, theme: str = "dark") -> None:
    page.add_init_script(f"localStorage.setItem('os-theme', '{theme}')")
    page.goto(live.url + path)


@SQLITE_ONLY
def test_slash_focuses_search_and_n_p_walk_the_matches(
    live: LiveServer, page: Page, corpus: Path
) -> None:
    path = upload(live, live.register(), parse_path(corpus / CLAUDE).session)
    open_session(page, live, path)
    search = page.locator("#session-q")
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.keyboard.type("mix test")
    counter = page.locator("[data-search-count]")
    expect(counter).to_have_text(re.compile(r"^1/\d+$"))
    total = int(counter.inner_text().split("/")[1])
    assert total > 3
    assert page.locator("mark.hit").count() >= total
    first = page.locator("mark.hit.current").first.bounding_box()
    page.keyboard.press("Escape")  # leaves the box, keeping the matches
    expect(search).not_to_be_focused()
    expect(search).to_have_value("mix test")
    page.keyboard.press("n")
    expect(counter).to_have_text(f"2/{total}")
    current = page.locator("mark.hit.current").first
    expect(current).to_be_in_viewport()
    assert current.bounding_box() != first
    page.keyboard.press("p")
    page.keyboard.press("p")
    expect(counter).to_have_text(f"{total}/{total}")  # back past the first: the last


@SQLITE_ONLY
def test_search_goes_on_to_the_pages_holding_matches(live: LiveServer, page: Page) -> None:
    path = upload(live, live.register(), long_session(1100))  # needles on pages 3 and 5
    open_session(page, live, path)
    counter = page.locator("[data-search-count]")
    page.keyboard.press("/")
    page.keyboard.type("needle")
    expect(counter).to_have_text("0/0")  # not on page 1
    page.keyboard.press("Enter")  # a new query: the server searches every page
    page.wait_for_url(re.compile(r"\?q=needle$"))
    expect(page.locator('.pager [aria-current="page"]')).to_have_text("3")
    expect(counter).to_have_text("1/1")
    expect(page.locator("mark.hit.current")).to_be_in_viewport()
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    page.wait_for_url(re.compile(r"page=5"))
    expect(counter).to_have_text("1/1")
    page.keyboard.press("p")
    page.wait_for_url(re.compile(r"page=3.*#last-match$"))
    expect(counter).to_have_text("1/1")


@SQLITE_ONLY
def test_number_keys_and_buttons_toggle_the_event_filters(
    live: LiveServer, page: Page, corpus: Path
) -> None:
    path = upload(live, live.register(), parse_path(corpus / CLAUDE).session)
    open_session(page, live, path)
    for key, category in (
        ("1", "message"),
        ("2", "tool"),
        ("3", "file"),
        ("4", "shell"),
        ("5", "thinking"),
    ):
        button = page.locator(f'[data-filter="{category}"]')
        items = page.locator(f'#timeline [data-cat="{category}"]')
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(items.first).to_be_attached()
        page.keyboard.press(key)
        expect(button).to_have_attribute("aria-pressed", "false")
        assert items.evaluate_all("all => all.every(e => e.offsetParent === null)")
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(items.first).to_be_visible()
    # The keys are ignored while typing in the search box.
    page.keyboard.press("/")
    page.keyboard.type("1")
    expect(page.locator('[data-filter="message"]')).to_have_attribute("aria-pressed", "true")


@SQLITE_ONLY
def test_the_page_reads_without_javascript(live: LiveServer, browser: Browser) -> None:
    path = upload(live, live.register(), every_kind())
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(live.url + path)
    expect(page.locator("h1")).to_have_text("Every kind")
    expect(page.locator(".kind-UserMessage").first).to_contain_text("Fix it")
    expect(page.locator(".ev-shell .badge.bad")).to_have_text("exit 1")
    expect(page.locator(".dl.add")).to_have_text(re.compile(r"11\s*\+new line"))
    expect(page.locator("[data-filters]")).to_be_hidden()  # they need the script
    thinking = page.locator("details.thinking")
    expect(thinking.locator(".md")).to_be_hidden()
    thinking.locator("summary").click()
    expect(thinking.locator(".md")).to_be_visible()
    context.close()


@SQLITE_ONLY
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_screenshots(live: LiveServer, page: Page, corpus: Path, theme: str) -> None:
    """The whole page of a session with every kind of event, and the first screen of two real
    sessions, one with a search under way."""
    token = live.register()
    open_session(page, live, upload(live, token, every_kind()), theme)
    page.locator("details.thinking summary").click()
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    screenshot(page, "detail" if theme == "dark" else "detail-light")
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(live.url + upload(live, token, parse_path(corpus / CLAUDE).session))
    page.screenshot(path=ARTIFACTS / f"detail-claude-{theme}.png")
    page.goto(live.url + upload(live, token, read_session(corpus / CODEX_HAIL)))
    page.keyboard.press("/")
    page.keyboard.type("capab")
    expect(page.locator("[data-search-count]")).to_have_text(re.compile(r"^1/\d+$"))
    page.screenshot(path=ARTIFACTS / f"detail-codex-search-{theme}.png")
