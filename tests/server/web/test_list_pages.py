"""The session list pages (``/`` and ``/sessions``): over HTTP against a live server, and in a
real browser (shortcuts, no JavaScript, screenshots in both themes)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Browser, Page, expect

from opensession.hail import Session
from opensession.parsers.registry import parse_path
from opensession.server.web.list_pages import compact, duration, time_ago
from tests.server.conftest import LiveServer
from tests.server.test_sessions import auth, make_session, uploaded_id
from tests.server.web.conftest import screenshot

# Real sessions of the corpus: (path, the title its card shows, max active agents).
CORPUS_SESSIONS = (
    ("claude-code/spotter/tool_heavy.jsonl", "start phoenix in background", 1),
    ("claude-code/spotter/subagent.jsonl", None, 2),
    ("codex/localpush/rollout-2026-02-23T12-47-42-019c8a53-a0dd-7130-bcd7-95445d84846a.jsonl",
     None, 3),
    ("codex/agentsview__standard_session.jsonl", "Add rate limiting", 1),
    ("gemini/agentsview__tool_calls.json", "Read this file", 1),
    ("opencode/opensession__storage", None, 1),
)  # fmt: skip


def corpus_sessions(corpus: Path) -> list[Session]:
    return [parse_path(corpus / path).session for path, _, _ in CORPUS_SESSIONS]


def upload_all(live: LiveServer, token: dict[str, Any], sessions: list[Session]) -> list[str]:
    return [uploaded_id(live, token, session) for session in sessions]


def get(
    live: LiveServer, path: str = "/", token: dict[str, Any] | None = None, **params: Any
) -> httpx.Response:
    """The page, signed in through the web UI's ``os_access`` cookie when ``token`` is given."""
    headers = {"Cookie": f"os_access={token['access_token']}"} if token else {}
    return live.client.get(path, params=params, headers=headers)


def cards(html: str) -> list[tuple[str, str, str]]:
    """(tool, session id, title) of each card, in page order."""
    found = re.findall(
        r'<article class="session tool-([^"]+)".*?<a href="/session/([0-9a-f-]+)">([^<]*)</a>',
        html,
        re.DOTALL,
    )
    return [(tool, session_id, unescape(title)) for tool, session_id, title in found]


def titles(html: str) -> list[str]:
    return [title for _, _, title in cards(html)]


def group_headings(html: str) -> list[int]:
    return [int(agents) for agents in re.findall(r'<h2 id="agents-(\d+)">', html)]


def links(html: str, rel: str) -> list[str]:
    return [unescape(href) for href in re.findall(rf'<a rel="{rel}" href="([^"]+)"', html)]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- over HTTP ---


def test_the_feed_shows_real_sessions_with_every_field(live: LiveServer, corpus: Path) -> None:
    token = live.register()
    sessions = corpus_sessions(corpus)
    ids = upload_all(live, token, sessions)
    for path in ("/", "/sessions"):
        response = get(live, path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "private, no-cache"
        html = response.text
        shown = cards(html)
        assert {session_id for _, session_id, _ in shown} == set(ids)
        assert [tool for tool, _, _ in shown].count("codex") == 2
        assert {tool for tool, _, _ in shown} == {"claude-code", "codex", "gemini", "opencode"}
        for _, expected, _ in CORPUS_SESSIONS:
            assert expected is None or expected in titles(html)
        assert "6 sessions" in html and "page 1 of 1" in html
    html = get(live, "/").text
    assert html.count('<span class="nickname">@ada</span>') == 6
    tool_heavy, stats = sessions[0], sessions[0].stats
    start = tool_heavy.context.created_at.astimezone(UTC)
    exact = f"{start:%Y-%m-%d %H:%M:%S} UTC"
    assert f'<time datetime="{start:%Y-%m-%dT%H:%M:%S}Z" title="{exact}">' in html
    tokens = f"{stats.total_input_tokens:,} in, {stats.total_output_tokens:,} out"
    total_tokens = compact(stats.total_input_tokens + stats.total_output_tokens)
    assert f'<dd title="{tokens}">{total_tokens}</dd>' in html
    assert f"<dd>{duration(stats.duration_seconds)}</dd>" in html
    assert f"<dd>{stats.message_count}</dd>" in html
    assert ">claude-opus-4-6</span>" in html and ">gemini-2.5-pro</span>" in html
    for label in ("duration", "messages", "tokens", "files changed", "score", "max agents"):
        assert html.count(f"<dt>{label}</dt>") == 6
    oldest_first = sorted(zip(sessions, ids, strict=True), key=lambda p: p[0].context.created_at)
    assert [session_id for _, session_id, _ in cards(html)] == [i for _, i in oldest_first][::-1]
    assert '<ol class="sessions" role="list"' in html
    assert "<kbd>t</kbd> tool" in html and "<kbd>l</kbd> layout" in html


def test_filters_order_range_and_search_are_query_parameters(live: LiveServer) -> None:
    token = live.register()
    now = datetime.now(UTC)
    for name, tool, age, messages, seconds in (
        ("fresh claude", "claude-code", timedelta(hours=2), 1, 30),
        ("week codex", "codex", timedelta(days=3), 9, 90),
        ("month gemini", "gemini", timedelta(days=20), 4, 4000),
        ("old codex login", "codex", timedelta(days=90), 2, 10),
    ):
        session = make_session(
            name, title=name, tool=tool, created_at=now - age, messages=messages,
            seconds=seconds, text=f"work on {name}",
        )  # fmt: skip
        uploaded_id(live, token, session)

    everything = ["fresh claude", "week codex", "month gemini", "old codex login"]
    assert titles(get(live).text) == everything
    assert titles(get(live, tool="codex").text) == ["week codex", "old codex login"]
    assert titles(get(live, sort="popular").text)[0] == "week codex"
    assert titles(get(live, sort="longest").text)[0] == "month gemini"
    assert titles(get(live, range="24h").text) == ["fresh claude"]
    assert titles(get(live, range="7d").text) == ["fresh claude", "week codex"]
    longest = titles(get(live, range="30d", sort="longest").text)
    assert longest == ["month gemini", "week codex", "fresh claude"]
    assert titles(get(live, q="LOGIN").text) == ["old codex login"]
    assert titles(get(live, q="codex", tool="codex", range="30d").text) == ["week codex"]

    html = get(live, "/sessions", tool="codex", sort="popular", range="30d", q="week").text
    assert '<option value="codex" selected>' in html
    assert '<option value="popular" selected>' in html
    assert '<option value="30d" selected>' in html
    assert 'name="q" value="week"' in html
    assert "1 session matches these filters" in html
    # The tabs keep the filters; "Clear filters" keeps the order and the layout.
    agents_tab = "/sessions?tab=agents&amp;tool=codex&amp;sort=popular&amp;range=30d&amp;q=week"
    assert f'href="{agents_tab}"' in html
    assert '<a class="reset" href="/sessions?sort=popular">' in html
    # The empty values a plain form submits count as unset.
    form = get(live, "/sessions", tab="list", tool="", sort="recent", range="all", q="")
    assert form.status_code == 200 and len(titles(form.text)) == 4


def test_the_agents_tab_groups_real_sessions_by_max_active_agents(
    live: LiveServer, corpus: Path
) -> None:
    token = live.register()
    sessions = corpus_sessions(corpus)
    ids = upload_all(live, token, sessions)
    html = get(live, "/sessions", tab="agents").text
    assert group_headings(html) == [3, 2, 1]
    assert "3 active agents" in html and "1 active agent " in html
    sections = html.split('<section class="agent-group"')[1:]
    expected = {agents: set() for agents in (1, 2, 3)}
    for session_id, (_, _, agents) in zip(ids, CORPUS_SESSIONS, strict=True):
        expected[agents].add(session_id)
    for section, agents in zip(sections, (3, 2, 1), strict=True):
        assert {session_id for _, session_id, _ in cards(section)} == expected[agents]
        assert f"<dd>{agents}</dd>" in section
    assert '<a href="/sessions?tab=agents" aria-current="page">Agents</a>' in html
    # The List tab, the same sessions in one chronological feed.
    listed = get(live, "/sessions", tab="list").text
    assert group_headings(listed) == [] and len(cards(listed)) == 6


def test_pages_keep_the_filters(live: LiveServer) -> None:
    token = live.register()
    now = datetime.now(UTC)
    for number in range(23):
        created = now - timedelta(hours=number + 1)
        session = make_session(
            f"s-{number}", title=f"codex {number}", tool="codex", created_at=created
        )
        uploaded_id(live, token, session)
    uploaded_id(live, token, make_session("other", title="a gemini one", tool="gemini"))

    first = get(live, "/sessions", tool="codex", range="7d").text
    assert titles(first) == [f"codex {number}" for number in range(20)]
    assert "23 sessions match these filters" in first and "Page 1 of 2" in first
    assert links(first, "prev") == []
    [next_link] = links(first, "next")
    assert query_of(next_link) == {"tool": ["codex"], "range": ["7d"], "page": ["2"]}

    second = live.client.get(next_link).text
    assert titles(second) == ["codex 20", "codex 21", "codex 22"]
    assert "Page 2 of 2" in second and links(second, "next") == []
    [previous] = links(second, "prev")
    assert query_of(previous) == {"tool": ["codex"], "range": ["7d"]}

    past = get(live, "/sessions", tool="codex", page=7)
    assert past.status_code == 200 and titles(past.text) == []
    assert "There is no page 7" in past.text and "Go to page 2" in past.text


def test_without_a_public_feed_the_page_asks_to_sign_in(
    start_server: Callable[..., LiveServer],
) -> None:
    live = start_server(public_feed_enabled=False)
    token = live.register()
    uploaded_id(live, token, make_session(title="the secret plan"))
    for path in ("/", "/sessions"):
        response = get(live, path)
        assert response.status_code == 401
        assert "Sign in to see sessions" in response.text and 'href="/login"' in response.text
        assert "the secret plan" not in response.text
    assert get(live, "/", token).status_code == 200
    assert titles(get(live, "/", token).text) == ["the secret plan"]
    # A bad filter from someone anonymous is still a sign-in page, not a hint about the data.
    assert get(live, "/", sort="bogus").status_code == 401


def test_private_sessions_are_shown_to_their_uploader_only(live: LiveServer) -> None:
    ada, bob = live.register("ada"), live.register("bob")
    uploaded_id(live, ada, make_session("p", title="ada public"))
    uploaded_id(live, ada, make_session("q", title="ada private"), visibility="private")
    uploaded_id(live, bob, make_session("r", title="bob private"), visibility="private")

    assert set(titles(get(live).text)) == {"ada public"}
    ada_page = get(live, "/", ada).text
    assert set(titles(ada_page)) == {"ada public", "ada private"}
    assert ada_page.count('<span class="private-badge">private</span>') == 1
    assert "[@ada]" in ada_page
    assert set(titles(get(live, "/", bob).text)) == {"ada public", "bob private"}
    assert set(titles(get(live, "/", ada, q="private").text)) == {"ada private"}
    # The JSON API agrees with the page.
    api = live.client.get("/api/sessions", headers=auth(ada)).json()
    assert {item["title"] for item in api["sessions"]} == set(titles(ada_page))


BAD_PARAMETERS = [
    ({"tab": "grid"}, "“tab=grid” is not valid: tab must be list or agents."),
    ({"sort": "oldest"}, "sort must be recent, popular or longest."),
    ({"range": "1y"}, "range must be all, 24h, 7d or 30d."),
    ({"page": "0"}, "page must be a whole number from 1 to 10,000."),
    ({"page": "two"}, "“page=two” is not valid"),
    ({"page": "10001"}, "page must be a whole number"),
    ({"page": "1e3"}, "page must be a whole number"),
    ({"q": "x" * 201}, "q must be at most 200 characters"),
    ({"q": "a\x00b"}, "q must be at most 200 characters, without NUL characters."),
    ({"tool": "t" * 65}, "tool must be a tool name of at most 64 characters."),
    ({"tool": "\x00"}, "tool must be"),
]


def test_bad_parameters_give_a_page_that_says_what_is_wrong(live: LiveServer) -> None:
    for params, message in BAD_PARAMETERS:
        response = get(live, "/sessions", **params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("text/html")
        assert "These filters could not be applied" in response.text
        assert message in unescape(response.text), (params, response.text)
        assert '<a href="/sessions">Show all sessions</a>' in response.text


def test_empty_states(live: LiveServer) -> None:
    html = get(live).text
    assert "No sessions yet." in html and 'href="/upload"' in html
    assert "0 sessions" in html and "page 1 of 1" in html
    html = get(live, q="nothing like this").text
    assert "No sessions match these filters." in html and "Clear the filters" in html


def test_the_read_only_profile_does_not_offer_uploading(
    start_server: Callable[..., LiveServer],
) -> None:
    live = start_server(profile="worker")
    html = get(live).text
    assert "No sessions yet." in html and 'href="/upload"' not in html


def test_display_helpers() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert time_ago(now - timedelta(seconds=20), now) == "just now"
    assert time_ago(now - timedelta(minutes=5), now) == "5m ago"
    assert time_ago(now - timedelta(hours=3, minutes=59), now) == "3h ago"
    assert time_ago(now - timedelta(days=2), now) == "2d ago"
    assert time_ago(now - timedelta(days=65), now) == "2mo ago"
    assert time_ago(now - timedelta(days=800), now) == "2y ago"
    assert time_ago(now + timedelta(minutes=1), now) == "in the future"
    assert [duration(s) for s in (0, 45, 125, 3780, 86400 + 4 * 3600 + 5)] == [
        "0s", "45s", "2m 5s", "1h 3m", "1d 4h",
    ]  # fmt: skip
    assert [compact(n) for n in (0, 950, 1000, 12_345, 4_500_000, 2 * 10**9)] == [
        "0", "950", "1k", "12.3k", "4.5M", "2B",
    ]  # fmt: skip


# --- in a browser ---


def test_the_browser_renders_real_sessions_in_both_themes(
    live: LiveServer, corpus: Path, page: Page
) -> None:
    token = live.register()
    upload_all(live, token, corpus_sessions(corpus))
    page.goto(live.url + "/")
    expect(page.locator("ol.sessions > li > article")).to_have_count(6)
    expect(page.get_by_role("link", name="start phoenix in background")).to_be_visible()
    expect(page.locator("[data-shortcut-legend]")).to_be_visible()
    assert page.locator("html").get_attribute("data-theme") == "dark"
    screenshot(page, "list")
    page.locator("[data-theme-toggle]").click()
    assert page.locator("html").get_attribute("data-theme") == "light"
    screenshot(page, "list-light")
    page.goto(live.url + "/sessions?tab=agents")
    expect(page.get_by_role("heading", name=re.compile("3 active agents"))).to_be_visible()
    screenshot(page, "list-agents-light")
    page.get_by_role("link", name="start phoenix in background").click()
    page.wait_for_url(re.compile(r"/session/[0-9a-f-]{36}$"))


def test_shortcuts_change_the_url_and_the_content(
    live: LiveServer, corpus: Path, page: Page
) -> None:
    token = live.register()
    upload_all(live, token, corpus_sessions(corpus))
    now = datetime.now(UTC)
    today = make_session("today", title="today's claude", created_at=now - timedelta(hours=1))
    uploaded_id(live, token, today)
    page.goto(live.url + "/sessions")
    articles = page.locator("article.session")
    expect(articles).to_have_count(7)

    page.keyboard.press("t")  # All tools -> claude-code, the first tool
    page.wait_for_url(re.compile(r"\?tool=claude-code$"))
    expect(articles).to_have_count(3)
    expect(page.locator("article.tool-gemini")).to_have_count(0)
    page.keyboard.press("t")  # -> codex
    page.wait_for_url(re.compile(r"\?tool=codex$"))
    expect(articles).to_have_count(2)

    page.keyboard.press("o")  # recent -> popular
    page.wait_for_url(re.compile(r"\?tool=codex&sort=popular$"))
    expect(page.get_by_label("Order", exact=True)).to_have_value("popular")

    page.goto(live.url + "/sessions")
    page.keyboard.press("r")  # all -> 24h
    page.wait_for_url(re.compile(r"\?range=24h$"))
    expect(articles).to_have_count(1)
    expect(page.get_by_role("link", name="today's claude")).to_be_visible()
    for expected in ("7d", "30d"):
        page.keyboard.press("r")
        page.wait_for_url(re.compile(rf"\?range={expected}$"))
    page.keyboard.press("r")  # back to all: the parameter goes
    page.wait_for_url(re.compile(r"/sessions$"))
    expect(articles).to_have_count(7)

    page.keyboard.press("l")
    page.wait_for_url(re.compile(r"\?tab=agents$"))
    expect(page.locator("section.agent-group h2")).to_have_count(3)
    page.go_back()
    page.wait_for_url(re.compile(r"/sessions$"))
    expect(page.locator("section.agent-group")).to_have_count(0)

    # Keys typed into the search box are text, not shortcuts.
    page.get_by_label("Search", exact=True).click()
    page.keyboard.type("tool")
    assert page.url.endswith("/sessions")
    expect(page.get_by_label("Search", exact=True)).to_have_value("tool")


def test_the_page_works_without_javascript(
    live: LiveServer, corpus: Path, browser: Browser
) -> None:
    token = live.register()
    upload_all(live, token, corpus_sessions(corpus))
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        page.goto(live.url + "/sessions")
        expect(page.locator("article.session")).to_have_count(6)
        expect(page.locator("[data-shortcut-legend]")).to_be_hidden()
        page.get_by_label("Tool", exact=True).select_option("gemini")
        page.get_by_label("Search", exact=True).fill("read")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(re.compile(r"tool=gemini"))
        assert query_of(page.url) == {
            "tab": ["list"], "tool": ["gemini"], "sort": ["recent"], "range": ["all"],
            "q": ["read"],
        }  # fmt: skip
        expect(page.locator("article.session")).to_have_count(1)
        expect(page.get_by_role("link", name="Read this file")).to_be_visible()
        page.get_by_role("link", name="Agents").click()
        page.wait_for_url(re.compile(r"tab=agents"))
        assert query_of(page.url)["tool"] == ["gemini"]
        expect(page.get_by_role("heading", name=re.compile("1 active agent"))).to_be_visible()
        page.get_by_role("link", name="Clear filters").click()
        expect(page.locator("article.session")).to_have_count(6)
        assert query_of(page.url) == {"tab": ["agents"]}
    finally:
        context.close()


def test_signed_in_readers_see_their_private_sessions_in_the_browser(
    live: LiveServer, browser: Browser
) -> None:
    token = live.register()
    uploaded_id(live, token, make_session("mine", title="my private work"), visibility="private")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(live.url + "/")
        expect(page.get_by_text("No sessions yet.")).to_be_visible()
        context.add_cookies(
            [{"name": "os_access", "value": token["access_token"], "url": live.url}]
        )
        page.reload()
        expect(page.get_by_role("link", name="my private work")).to_be_visible()
        expect(page.locator(".private-badge")).to_have_text("private")
    finally:
        context.close()


def test_http_client_sees_no_server_error_for_odd_requests(live: LiveServer) -> None:
    for query in ("page=&page=2", "tab=list&tab=agents", "q=%F0%9F%A6%80", "tool=%3Cscript%3E"):
        response = httpx.get(f"{live.url}/sessions?{query}")
        assert response.status_code == 200, (query, response.text)
    assert "&lt;script&gt;" in httpx.get(f"{live.url}/sessions?tool=%3Cscript%3E").text
