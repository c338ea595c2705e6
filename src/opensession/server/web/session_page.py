"""The session detail page ``/session/{id}``: stats, the timeline a page at a time, a minimap of
the whole thread and its task groups.

Who may read a session follows the API (``routes/sessions.py``): a private session exists only
for its uploader; to anyone else, as for an id that names no session, the page is an HTML 404.
A search (``?q=``) runs over the whole session and names the pages holding matches; the page's
script highlights them within the page.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine, Row, select

from opensession.hail.markdown import format_duration
from opensession.server import sessions_store as store
from opensession.server.context import server_context
from opensession.server.db.schema import sessions
from opensession.server.errors import ApiError, not_found, unauthorized
from opensession.server.web.templating import render_page
from opensession.server.web.timeline import (
    FILTERS,
    Plan,
    SessionBody,
    page_items,
    plan_timeline,
    read_body,
    search_session,
)

router = APIRouter(include_in_schema=False)

_SESSION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
QUERY_LIMIT = 200
"""Characters of a search kept."""


@dataclass(frozen=True)
class SessionFacts:
    """The header of the page: what the session is and its numbers."""

    title: str
    description: str | None
    session_id: str
    tool: str
    tool_version: str | None
    provider: str | None
    model: str | None
    nickname: str
    started: datetime
    duration: str
    events: int
    messages: int
    tool_calls: int
    input_tokens: int
    output_tokens: int
    tokens: str
    """Both counts, short: ``15.1M / 38.9k``."""
    files_changed: int
    lines_added: int
    lines_removed: int
    score: int
    score_plugin: str
    max_active_agents: int
    has_errors: bool
    public: bool
    tags: list[str]
    repository: str | None
    branch: str | None
    commit: str | None
    pr_url: str | None


@dataclass(frozen=True)
class SessionLink:
    """Another session this one names: a link when it was uploaded and may be read here."""

    relation: str
    session_id: str
    """The HAIL session id."""
    href: str | None
    title: str | None


@dataclass(frozen=True)
class PageLink:
    number: int
    href: str


@router.get("/session/{session_id}", response_class=HTMLResponse)
def session_detail(
    request: Request, session_id: str, page: str | None = None, q: str = ""
) -> HTMLResponse:
    """One session: header, timeline page ``page`` (up to 500 events a page), minimap, task groups;
    ``q`` searches the whole session."""
    context = server_context(request)
    user = getattr(request.state, "user", None)
    if user is None and not context.settings.public_feed_enabled:
        raise unauthorized("this server has no public feed: sign in to read sessions")
    row = (
        store.find_session(context.engine, session_id)
        if _SESSION_ID.fullmatch(session_id)
        else None
    )
    if row is None or not (row.is_public or (user is not None and row.user_id == user.id)):
        raise not_found(f"there is no session {session_id[:40]!r} here, or it is private")
    try:
        body = read_body(context.blobs.get(row.body_key))
    except FileNotFoundError:
        raise ApiError(
            500,
            "body_missing",
            "this session's content is missing: its uploader can upload it again",
        ) from None
    plan = plan_timeline(body)
    query = q.replace("\x00", "").strip()[:QUERY_LIMIT]
    found = search_session(body, plan, query) if query else {}
    number = _page_number(page, len(plan.pages), found)
    if number is None:
        raise not_found(f"this session has no page {str(page)[:20]!r}")
    start, end = plan.pages[number - 1]
    shown = Counter(entry.category for entry in plan.entries[start:end])
    links = _links(context.engine, row, plan, user.id if user else None)
    agents = {link.session_id: link.href for link in links if link.href}

    def href(target: int, anchor: str = "") -> str:
        """A link to page ``target`` (``#anchor`` alone when it is this page), keeping ``q``."""
        fragment = f"#{anchor}" if anchor else ""
        if target == number and anchor:
            return fragment
        params = {"page": target} if target > 1 else {}
        if query:
            params["q"] = query
        return f"/session/{row.id}" + (f"?{urlencode(params)}" if params else "") + fragment

    response = render_page(
        request,
        context,
        "session.html",
        id=row.id,
        facts=_facts(row, body),
        links=links,
        agents=agents,
        items=page_items(body, plan, number, found.get(number, ())),
        plan=plan,
        page=number,
        pages=[PageLink(n, href(n)) for n in range(1, len(plan.pages) + 1)],
        href=href,
        filters=FILTERS,
        shown=shown,
        query=query,
        found=found,
        found_pages=sorted(found),
        matches=sum(len(indices) for indices in found.values()),
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _page_number(given: str | None, count: int, found: dict[int, list[int]]) -> int | None:
    """The page asked for; without one, the first page a search found something on, else 1.
    None when ``given`` is no page of the session."""
    if given is None:
        return min(found, default=1)
    if not given.isascii() or not given.isdigit():
        return None
    number = int(given)
    return number if 1 <= number <= count else None


def _facts(row: Row[Any], body: SessionBody) -> SessionFacts:
    header, stats = body.header, body.stats
    git = header.context.attributes.get("git")
    git = git if isinstance(git, dict) else {}
    return SessionFacts(
        title=row.title or header.context.title or row.session_id,
        description=row.description,
        session_id=row.session_id,
        tool=row.tool,
        tool_version=header.agent.tool_version,
        provider=row.agent_provider,
        model=row.agent_model,
        nickname=row.nickname,
        started=row.created_at,
        duration=format_duration(row.duration_seconds),
        events=stats.event_count,
        messages=row.message_count,
        tool_calls=stats.tool_call_count,
        input_tokens=row.total_input_tokens,
        output_tokens=row.total_output_tokens,
        tokens=f"{_short(row.total_input_tokens)} / {_short(row.total_output_tokens)}",
        files_changed=stats.files_changed,
        lines_added=stats.lines_added,
        lines_removed=stats.lines_removed,
        score=int(row.session_score),
        score_plugin=row.score_plugin,
        max_active_agents=row.max_active_agents,
        has_errors=row.has_errors,
        public=row.is_public,
        tags=_tags(row.tags),
        repository=row.git_repo_name or _text(git.get("repository_url")),
        branch=row.git_branch,
        commit=row.git_commit,
        pr_url=row.pr_url if row.pr_url and row.pr_url.startswith("https://") else None,
    )


def _short(count: int) -> str:
    """``950``, ``12.3k``, ``4.1M``."""
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}"
    return str(count)


def _tags(stored: str | None) -> list[str]:
    """The tags column, read as its JSON text."""
    try:
        tags = orjson.loads(stored) if stored else []
    except orjson.JSONDecodeError:
        return []
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _links(engine: Engine, row: Row[Any], plan: Plan, viewer: str | None) -> list[SessionLink]:
    """The sessions this one names (handoffs, parent, related) and the sub-agents its tasks
    name, linked when the same uploader's copy is here and the viewer may read it."""
    agents = {group.agent for group in plan.groups if group.agent}
    named = [
        (
            "sub-agent" if link["linked_session_id"] in agents else link["link_type"],
            link["linked_session_id"],
        )
        for link in store.links_of(engine, row.id)
    ]
    known = {linked for _, linked in named}
    named += [("sub-agent", agent) for agent in sorted(agents - known)]
    known |= agents
    found = _uploaded(engine, row.user_id, sorted(known), viewer)
    return [
        SessionLink(relation, linked, *(found.get(linked) or (None, None)))
        for relation, linked in named
    ]


def _uploaded(
    engine: Engine, owner: str, hail_ids: list[str], viewer: str | None
) -> dict[str, tuple[str, str | None]]:
    """The page address and title of ``owner``'s uploads of these HAIL session ids that
    ``viewer`` may read (one uploader's copies: the index on (user_id, session_id) finds them)."""
    if not hail_ids:
        return {}
    query = select(sessions.c.id, sessions.c.session_id, sessions.c.title, sessions.c.is_public)
    query = query.where(sessions.c.user_id == owner, sessions.c.session_id.in_(hail_ids[:200]))
    with engine.connect() as db:
        rows = db.execute(query).all()
    return {
        found.session_id: (f"/session/{found.id}", found.title)
        for found in rows
        if found.is_public or viewer == owner
    }
