"""The session list: ``/`` (home) and ``/sessions``, the feed as a page that needs no JavaScript.

Layout, filters, ordering and page are GET query parameters
(``?tab=agents&tool=codex&sort=popular&range=7d&q=login&page=2``), so every view is a link that
can be shared and that the back button returns to; a plain GET form sets them. The sessions are
those the JSON API lists (``sessions_store.list_sessions``), under the same public-feed policy:
public sessions for everyone while the feed is on, plus the signed-in reader's private ones.
``list.js`` only adds the keyboard shortcuts of the footer legend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

import orjson
from annotated_types import Le, MaxLen
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import Engine, select

from opensession.parsers.registry import TOOLS
from opensession.server.context import ServerContext, server_context
from opensession.server.db.schema import session_counts
from opensession.server.sessions_store import SessionQuery, Sort, TimeRange, list_sessions
from opensession.server.web.templating import render_page

router = APIRouter(include_in_schema=False)
Context = Annotated[ServerContext, Depends(server_context)]

PER_PAGE = 20
TABS = ("list", "agents")
SORTS: tuple[str, ...] = get_args(Sort)
RANGES: tuple[str, ...] = get_args(TimeRange)
SORT_LABELS = {"recent": "Most recent", "popular": "Most popular", "longest": "Longest"}
RANGE_LABELS = {
    "all": "All time",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}

# SessionQuery's field for each query parameter of the page.
_FIELDS = {"page": "page", "q": "search", "tool": "tool", "sort": "sort", "range": "time_range"}
_DEFAULTS = {"tab": "list", "tool": "", "sort": "recent", "range": "all", "q": "", "page": 1}


def _limit(field: str) -> int:
    """The upper bound SessionQuery puts on ``field`` (its ``le`` or ``max_length``)."""
    for constraint in SessionQuery.model_fields[field].metadata:
        if isinstance(constraint, Le):
            return int(constraint.le)
        if isinstance(constraint, MaxLen):
            return constraint.max_length
    raise LookupError(f"SessionQuery.{field} has no upper bound")


MAX_PAGE = _limit("page")

# What each query parameter takes, for the message of a bad one.
_EXPECTED = {
    "tab": "list or agents",
    "page": f"a whole number from 1 to {MAX_PAGE:,}",
    "q": f"at most {_limit('search')} characters, without NUL characters",
    "tool": f"a tool name of at most {_limit('tool')} characters",
    "sort": " or ".join(", ".join(SORTS).rsplit(", ", 1)),
    "range": " or ".join(", ".join(RANGES).rsplit(", ", 1)),
}


class InvalidParameterError(ValueError):
    """A query parameter the page cannot take: the message says which and what it takes."""

    def __init__(self, name: str, value: str) -> None:
        printable = "".join(char if char.isprintable() else "\ufffd" for char in value)
        shown = printable if len(printable) <= 40 else printable[:40] + "…"
        super().__init__(f"“{name}={shown}” is not valid: {name} must be {_EXPECTED[name]}.")


@dataclass(frozen=True)
class ListView:
    """What the page shows: the layout tab and the listing query."""

    tab: str
    query: SessionQuery

    @property
    def values(self) -> dict[str, Any]:
        """The page's query parameters, each with its current value."""
        query = self.query
        return {
            "tab": self.tab,
            "tool": query.tool or "",
            "sort": query.sort,
            "range": query.time_range,
            "q": query.search or "",
            "page": query.page,
        }

    @property
    def filtered(self) -> bool:
        """Whether a filter narrows the feed (a tool, a time range or a search)."""
        return bool(self.query.tool or self.query.search or self.query.time_range != "all")

    def link(self, **changes: Any) -> str:
        """The query string (``?…``, or empty for the default view) of this view with
        ``changes``; parameters at their default values are left out."""
        values = {**self.values, **changes}
        kept = {name: value for name, value in values.items() if value != _DEFAULTS[name]}
        return f"?{urlencode(kept)}" if kept else ""


def parse_view(params: Mapping[str, str]) -> ListView:
    """The view asked for by the query parameters ``params`` (empty ones count as unset);
    InvalidParameterError names the first one that is not valid."""
    tab = params.get("tab") or "list"
    if tab not in TABS:
        raise InvalidParameterError("tab", tab)
    given = {name: params.get(name, "").strip() for name in _FIELDS}
    try:
        query = SessionQuery(
            per_page=PER_PAGE, **{_FIELDS[name]: value for name, value in given.items() if value}
        )
    except ValidationError as exc:
        field = exc.errors()[0]["loc"][0]
        name = next(name for name, known in _FIELDS.items() if known == field)
        raise InvalidParameterError(name, given[name]) from None
    return ListView(tab, query)


@dataclass(frozen=True)
class Card:
    """One session as its card shows it: every value ready to print."""

    id: str
    tool: str
    model: str
    title: str
    nickname: str | None
    repository: str | None
    private: bool
    created_iso: str
    created_exact: str
    ago: str
    duration: str
    messages: str
    tokens: str
    tokens_exact: str
    files_changed: str
    score: str
    agents: int


def card(summary: dict[str, Any], now: datetime) -> Card:
    """The card of a SessionSummary (as ``list_sessions`` gives it) at the time ``now``."""
    created: datetime = summary["created_at"]
    tokens_in, tokens_out = summary["total_input_tokens"], summary["total_output_tokens"]
    # JSON columns come as orjson fragments, only readable by encoding them back to JSON.
    files = orjson.loads(orjson.dumps(summary["files_modified"])) or []
    return Card(
        id=summary["id"],
        tool=summary["tool"],
        model=summary["agent_model"] or summary["agent_provider"] or "unknown model",
        title=_title(summary),
        nickname=summary["nickname"],
        repository=summary["git_repo_name"],
        private=summary["visibility"] == "private",
        created_iso=created.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        created_exact=created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        ago=time_ago(created, now),
        duration=duration(summary["duration_seconds"]),
        messages=f"{summary['message_count']:,}",
        tokens=compact(tokens_in + tokens_out),
        tokens_exact=f"{tokens_in:,} in, {tokens_out:,} out",
        files_changed=f"{len(files):,}",
        score=f"{summary['session_score']:,}",
        agents=summary["max_active_agents"],
    )


def _title(summary: dict[str, Any]) -> str:
    """The session's title, else the first line of its description, else "Untitled session"."""
    for text in (summary["title"], summary["description"]):
        lines = (text or "").strip().splitlines()
        if lines:
            return lines[0]
    return "Untitled session"


def time_ago(moment: datetime, now: datetime) -> str:
    """How long before ``now`` ``moment`` was, in its largest unit: ``5m ago``, ``3d ago``."""
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    for unit, size in (("y", 365 * 86400), ("mo", 30 * 86400), ("d", 86400), ("h", 3600)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds // 60)}m ago"


def duration(seconds: int) -> str:
    """A duration in its two largest units: ``45s``, ``2m 5s``, ``1h 3m``, ``2d 4h``."""
    if seconds < 60:
        return f"{seconds}s"
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    if days:
        return f"{days}d {hour}h"
    if hours:
        return f"{hours}h {minute}m"
    return f"{minutes}m {second}s"


def compact(number: int) -> str:
    """A count in at most four characters or so: ``950``, ``12.3k``, ``4.5M``."""
    for suffix, size in (("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if number >= size:
            shown = f"{number / size:.1f}".removesuffix(".0")
            return f"{shown}{suffix}"
    return str(number)


def agent_groups(cards: list[Card]) -> list[tuple[int, list[Card]]]:
    """The cards grouped by max active agents, most first, each group in the page's order."""
    groups: dict[int, list[Card]] = {}
    for item in cards:
        groups.setdefault(item.agents, []).append(item)
    return sorted(groups.items(), key=lambda group: group[0], reverse=True)


def tool_choices(engine: Engine, selected: str | None) -> list[str]:
    """The tool filter's choices: every tool the parsers know, then any other tool that public
    sessions name, and the one selected."""
    query = select(session_counts.c.tool).where(
        session_counts.c.is_public, session_counts.c.session_count > 0
    )
    with engine.connect() as db:
        named = set(db.scalars(query))
    others = (named | ({selected} if selected else set())) - set(TOOLS)
    return [*TOOLS, *sorted(others)]


@router.get("/", response_class=HTMLResponse)
@router.get("/sessions", response_class=HTMLResponse)
def session_list(request: Request, context: Context) -> HTMLResponse:
    """The session feed: tabs List and Agents, filters, ordering, time range, search, pages."""
    user = request.state.user
    if user is None and not context.settings.public_feed_enabled:
        return _page(request, context, 401, signin_needed=True)
    try:
        view = parse_view(request.query_params)
    except InvalidParameterError as exc:
        default = ListView("list", SessionQuery(per_page=PER_PAGE))
        return _page(request, context, 400, error=str(exc), view=default, tools=list(TOOLS))
    now = datetime.now(UTC)
    summaries, total = list_sessions(context.engine, view.query, user.id if user else None, now)
    cards = [card(summary, now) for summary in summaries]
    return _page(
        request,
        context,
        200,
        view=view,
        cards=cards,
        groups=agent_groups(cards) if view.tab == "agents" else [],
        total=total,
        pages=min(MAX_PAGE, max(1, math.ceil(total / PER_PAGE))),
        tools=tool_choices(context.engine, view.query.tool),
    )


def _page(
    request: Request, context: ServerContext, status_code: int, **values: Any
) -> HTMLResponse:
    """``list.html`` with ``values`` and the orderings and time ranges of the filter form. No
    shared cache may keep it: it can show the reader's private sessions."""
    response = render_page(
        request,
        context,
        "list.html",
        status_code=status_code,
        sorts=SORT_LABELS,
        ranges=RANGE_LABELS,
        **values,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response
