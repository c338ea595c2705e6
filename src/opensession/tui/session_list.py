"""The session list: every indexed session, filtered, ordered and grouped as the user asks.

The list is painted from the local index at once, then the index is brought up to date from
the tools' logs in a thread worker (unless ``OPS_TUI_REFRESH_DISCOVERY_ON_START`` is off) and
painted again. Filtering, ordering and grouping are functions on the rows read (``arrange``);
the table only draws the lines on screen (Textual's line API), so 10,000 sessions scroll and
filter without re-building widgets.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from opensession.localdb.store import LocalIndex, SessionRow
from opensession.tui.tabs import TabBar

if TYPE_CHECKING:
    from opensession.localdb.indexer import Progress

Order = Literal["recent", "popular", "longest"]
ORDERS: tuple[Order, ...] = ("recent", "popular", "longest")
"""``recent``: newest first; ``popular``: most messages first; ``longest``: longest first."""

TIME_RANGES: dict[str, timedelta | None] = {
    "all time": None,
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
Scope = Literal["local", "repo"]
PROGRESS_INTERVAL = 0.25
"""Seconds between two updates of the refresh's progress on screen."""
TEXT_SEARCH_LIMIT = 1000
"""Sessions kept from a full-text search of the messages (best matches first)."""

SYNC_LABELS = {"local": "local", "uploaded": "uploaded", "in_git": "in git"}


@dataclass(frozen=True)
class ListView:
    """What the user chose to see: filters, order, scope and search."""

    tool: str | None = None
    order: Order = "recent"
    time_range: str = "all time"
    scope: Scope = "local"
    query: str = ""
    text_matches: frozenset[str] | None = None
    """Ids of the sessions whose messages match ``query`` (full-text search), or None while
    ``query`` is only matched, fuzzily, against titles, repos, tools, models and ids."""


@dataclass(frozen=True)
class Entry:
    """One line of the list: a session, and how deep it sits (1 for a sub-agent)."""

    row: SessionRow
    depth: int = 0


@dataclass(frozen=True)
class Catalog:
    """Every indexed session, with what fuzzy search matches against, built off the UI thread."""

    rows: list[SessionRow]
    haystacks: dict[str, str] = field(default_factory=dict)
    """Per session id: title, repo name, tool, model and id, lower case, one per line."""

    @classmethod
    def build(cls, rows: list[SessionRow]) -> Catalog:
        """The catalog of ``rows``."""
        haystacks = {
            row.id: "\n".join(
                (
                    " ".join((row.title or "").split()),
                    repo_name(row.repo_root),
                    row.tool,
                    row.model,
                    row.id,
                )
            ).lower()
            for row in rows
        }
        return cls(rows, haystacks)

    @property
    def tools(self) -> list[str]:
        """The tools that have sessions, by name."""
        return sorted({row.tool for row in self.rows})


def fuzzy_patterns(query: str) -> list[re.Pattern[str]]:
    """One pattern per word of ``query``: its letters in order, within one field (a word
    matches ``opsn`` in ``opensession`` but not across title and repo)."""
    return [
        re.compile("[^\n]*?".join(re.escape(letter) for letter in word))
        for word in query.lower().split()
    ]


def in_repo(row: SessionRow, repo: str) -> bool:
    """Whether ``row`` belongs to the repository at ``repo`` (its root, or its cwd inside it)."""
    if row.repo_root == repo:
        return True
    cwd = row.cwd
    return cwd is not None and (cwd == repo or cwd.startswith(repo.rstrip(os.sep) + os.sep))


def arrange(catalog: Catalog, view: ListView, *, repo: str | None, now: datetime) -> list[Entry]:
    """The lines of the list for ``view``: matching sessions in its order, each sub-agent
    session right after its parent (indented, oldest first) when the parent is listed too."""
    span = TIME_RANGES[view.time_range]
    since = now - span if span is not None else None
    patterns = fuzzy_patterns(view.query) if view.text_matches is None else []
    kept: list[SessionRow] = []
    for row in catalog.rows:
        if view.tool is not None and row.tool != view.tool:
            continue
        if since is not None and row.created_at < since:
            continue
        if view.scope == "repo" and (repo is None or not in_repo(row, repo)):
            continue
        if view.text_matches is not None and row.id not in view.text_matches:
            continue
        haystack = catalog.haystacks[row.id]
        if not all(pattern.search(haystack) for pattern in patterns):
            continue
        kept.append(row)
    listed = {row.id for row in kept}
    children: dict[str, list[SessionRow]] = {}
    parents: list[SessionRow] = []
    for row in kept:
        parent = row.parent_session_id
        if row.is_auxiliary and parent is not None and parent in listed and parent != row.id:
            children.setdefault(parent, []).append(row)
        else:
            parents.append(row)
    parents.sort(key=_order_key(view.order))
    entries: list[Entry] = []
    for row in parents:
        entries.append(Entry(row))
        for child in sorted(children.get(row.id, ()), key=lambda child: child.created_at):
            entries.append(Entry(child, depth=1))
    return entries


def _order_key(order: Order) -> Callable[[SessionRow], tuple[float, ...]]:
    if order == "popular":
        return lambda row: (-row.stats.message_count, -row.created_at.timestamp())
    if order == "longest":
        return lambda row: (-row.stats.duration_seconds, -row.created_at.timestamp())
    return lambda row: (-row.created_at.timestamp(),)


_Option = TypeVar("_Option")


def cycle(options: Sequence[_Option], current: _Option) -> _Option:
    """The option after ``current`` (the first one after the last)."""
    return options[(list(options).index(current) + 1) % len(options)]


# --- how a row looks ---


def format_time(value: datetime) -> str:
    """``MM-DD HH:MM`` in local time."""
    return value.astimezone().strftime("%m-%d %H:%M")


def format_duration(seconds: int) -> str:
    """``45s``, ``12m``, ``3h05``, ``2d04``: at most five characters."""
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}"


def format_count(value: int) -> str:
    """``950``, ``12.3k``, ``4.5M``: at most five characters."""
    if value < 1000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1000:.1f}k" if value < 99_950 else f"{value // 1000}k"
    return f"{value / 1_000_000:.1f}M" if value < 99_950_000 else f"{value // 1_000_000}M"


def repo_name(repo_root: str | None) -> str:
    """The last part of a repository's path or URL, without ``.git``."""
    if not repo_root:
        return ""
    return PurePosixPath(repo_root.rstrip("/")).name.removesuffix(".git")


def tool_label(tool: str) -> str:
    """A tool's name as the narrow tool column shows it (``claude-code`` is ``claude``)."""
    return tool.removesuffix("-code")


def model_label(model: str) -> str:
    """A model's name without its vendor prefix, which the tool column already implies."""
    return model.removeprefix("claude-")


@dataclass(frozen=True)
class Column:
    """A column of the list: ``width`` cells, 0 for the title, which takes what is left."""

    key: str
    label: str
    width: int
    right: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("time", "time", 11),
    Column("tool", "tool", 8),
    Column("model", "model", 12),
    Column("title", "title", 0),
    Column("repo", "repo", 10),
    Column("duration", "dur", 5, right=True),
    Column("messages", "msgs", 5, right=True),
    Column("tokens", "tokens", 6, right=True),
    Column("sync", "sync", 8),
)
DROPPED_FIRST: tuple[str, ...] = ("tokens", "duration", "model", "repo", "sync", "messages")
"""Columns left out, in this order, while the title would be narrower than ``TITLE_MIN``."""
TITLE_MIN = 28
MARK_WIDTH = 2
"""The picked mark before each line."""


def layout(width: int) -> list[tuple[Column, int]]:
    """The columns shown in ``width`` cells, each with its width."""
    shown = list(COLUMNS)
    title = 0
    for dropped in (None, *DROPPED_FIRST):
        shown = [column for column in shown if column.key != dropped]
        fixed = MARK_WIDTH + sum(column.width for column in shown) + len(shown) - 1
        title = width - fixed
        if title >= TITLE_MIN:
            break
    return [(column, column.width or max(title, 8)) for column in shown]


def cell_values(entry: Entry) -> dict[str, str]:
    """The text of each column for ``entry``."""
    row = entry.row
    stats = row.stats
    title = " ".join((row.title or "(untitled)").split())
    return {
        "time": format_time(row.created_at),
        "tool": tool_label(row.tool),
        "model": model_label(row.model),
        "title": f"└ {title}" if entry.depth else title,
        "repo": repo_name(row.repo_root),
        "duration": format_duration(stats.duration_seconds),
        "messages": format_count(stats.message_count),
        "tokens": format_count(stats.total_input_tokens + stats.total_output_tokens),
        "sync": SYNC_LABELS.get(row.sync_state, row.sync_state),
    }


def _cell(value: str, width: int, *, right: bool = False, style: Style | None = None) -> Text:
    cell = Text(value, style=style or "", no_wrap=True, end="")
    cell.truncate(width, overflow="ellipsis")
    padding = " " * (width - cell.cell_len)
    return Text(padding, end="") + cell if right else cell + padding


def line_text(
    values: dict[str, str],
    columns: Iterable[tuple[Column, int]],
    *,
    mark: str = "",
    muted: Style | None = None,
) -> Text:
    """One line of cells, separated by a space, after the mark; every column but the title
    in the ``muted`` style."""
    line = Text(mark.ljust(MARK_WIDTH), no_wrap=True, end="")
    for number, (column, width) in enumerate(columns):
        if number:
            line.append(" ")
        style = None if column.key == "title" else muted
        line.append_text(_cell(values[column.key], width, right=column.right, style=style))
    return line


class SessionTable(ScrollView, can_focus=True):
    """The sessions as lines, a cursor on one and a mark on each picked one."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "session-table--cursor",
        "session-table--cursor-blurred",
        "session-table--muted",
        "session-table--picked",
        "session-table--empty",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Next session", show=False),
        Binding("k,up", "cursor_up", "Previous session", show=False),
        Binding("home", "first", "First session", show=False),
        Binding("end", "last", "Last session", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("space", "pick", "Pick for handoff", show=False),
    ]

    class Chosen(Message):
        """A session was double-clicked."""

        def __init__(self, row: SessionRow) -> None:
            super().__init__()
            self.row = row

    class Picked(Message):
        """The picked sessions changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[Entry] = []
        self.cursor = 0
        self.picked: dict[str, SessionRow] = {}
        self.placeholder = "Loading sessions…"
        self._columns = layout(80)

    @property
    def current(self) -> SessionRow | None:
        """The session under the cursor."""
        return self.entries[self.cursor].row if self.entries else None

    def show(self, entries: list[Entry], placeholder: str) -> None:
        """Show ``entries`` (``placeholder`` when there are none), keeping the cursor on the
        same session when it is still listed."""
        current = self.current
        self.entries = entries
        self.placeholder = placeholder
        if current is not None:
            self.cursor = next(
                (n for n, entry in enumerate(entries) if entry.row.id == current.id), 0
            )
        self.cursor = min(self.cursor, max(len(entries) - 1, 0))
        rows = {entry.row.id: entry.row for entry in entries}
        self.picked = {key: rows.get(key, row) for key, row in self.picked.items()}
        self.virtual_size = Size(self.size.width, len(entries))
        if self.cursor == 0:
            self.scroll_to(y=0, animate=False)
        else:
            self._follow_cursor()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._columns = layout(self.scrollable_content_region.width)
        self.virtual_size = Size(event.size.width, len(self.entries))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = round(self.scroll_offset.y) + y
        if not self.entries:
            if y != 0:
                return Strip.blank(width, base)
            style = self.get_component_rich_style("session-table--empty")
            return Strip([Segment(f"  {self.placeholder}"[:width], style)]).extend_cell_length(
                width, base
            )
        if index >= len(self.entries):
            return Strip.blank(width, base)
        entry = self.entries[index]
        picked = entry.row.id in self.picked
        mark = "●" if picked else ""
        values = cell_values(entry)
        if index == self.cursor:
            name = "session-table--cursor" if self.has_focus else "session-table--cursor-blurred"
            style = self.get_component_rich_style(name)
            text = line_text(values, self._columns, mark=mark)
        else:
            style = base
            if picked:
                style = self.get_component_rich_style("session-table--picked")
            muted = self.get_component_rich_style("session-table--muted")
            text = line_text(values, self._columns, mark=mark, muted=muted)
        segments = list(text.render(self.app.console, end=""))
        return Strip(segments).apply_style(style).extend_cell_length(width, style).crop(0, width)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def move_cursor(self, to: int) -> None:
        """Put the cursor on line ``to`` (clamped to the list) and scroll it into view."""
        if not self.entries:
            return
        self.cursor = max(0, min(to, len(self.entries) - 1))
        self._follow_cursor()
        self.refresh()

    def _follow_cursor(self) -> None:
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.entries) - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + max(self.scrollable_content_region.height - 1, 1))

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - max(self.scrollable_content_region.height - 1, 1))

    def action_pick(self) -> None:
        """Pick the session under the cursor (or drop it), then move down."""
        row = self.current
        if row is None:
            return
        if self.picked.pop(row.id, None) is None:
            self.picked[row.id] = row
        self.move_cursor(self.cursor + 1)
        self.post_message(self.Picked())

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_offset.y) + event.y
        if 0 <= index < len(self.entries):
            self.move_cursor(index)
            if event.chain >= 2:
                self.post_message(self.Chosen(self.entries[index].row))


class ColumnHeader(Widget):
    """The column names above the table, laid out like its lines."""

    def render(self) -> Text:
        values = {column.key: column.label for column in COLUMNS}
        return line_text(values, layout(self.size.width - 1))


class SearchBar(Input):
    """The search box: narrows the list as the user types; Enter searches the message text."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Search text", tooltip="Search the messages' text as well"),
        Binding("escape", "cancel", "Close", tooltip="Close the search and clear it"),
    ]

    class Cancelled(Message):
        """The user closed the search."""

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class SessionsScreen(Screen[None]):
    """The Sessions tab: status line, column header, the list and the search box."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", tooltip="Open the session's timeline"),
        Binding("slash", "search", "Search", tooltip="Search titles, repos, tools, models, ids"),
        Binding("t", "cycle_tool", "Tool", tooltip="Next tool filter (all tools, then each)"),
        Binding(
            "o", "cycle_order", "Order", tooltip="Order: recent, popular (most messages), longest"
        ),
        Binding("r", "cycle_range", "Range", tooltip="Time range: all time, 24h, 7d, 30d"),
        Binding(
            "tab", "toggle_scope", "Local/Repo", tooltip="Scope: every session, or this repo's"
        ),
        Binding(
            "R", "pick_repo", "Repo", show=False, tooltip="Choose the repository of the Repo scope"
        ),
        Binding("g", "handoff", "Handoff", show=False, tooltip="Handoff of the picked sessions"),
        Binding("P", "publish", "Publish", show=False, tooltip="Publish the session"),
        Binding(
            "escape",
            "clear",
            "Clear",
            show=False,
            tooltip="Clear the search, then the picks, then quit",
        ),
    ]

    def __init__(self, *, repo: Path | None, scope: Scope, refresh_on_start: bool) -> None:
        super().__init__()
        self.repo = str(repo) if repo is not None else None
        self.view = ListView(scope=scope)
        self.catalog: Catalog | None = None
        self.refresh_on_start = refresh_on_start
        self.message = ""

    def compose(self) -> ComposeResult:
        yield TabBar("Sessions", id="tabs")
        yield Static(id="status")
        yield ColumnHeader(id="header")
        yield SessionTable(id="sessions")
        yield SearchBar(placeholder="search titles, repos, tools, models, ids", id="search")
        yield Static(id="message")
        yield Footer()

    @property
    def table(self) -> SessionTable:
        """The list of sessions."""
        return self.query_one(SessionTable)

    def on_mount(self) -> None:
        self.query_one(SearchBar).display = False
        self.table.focus()
        self.query_one(TabBar).busy = "loading…"
        self._paint()
        self.load_sessions(refresh=self.refresh_on_start)

    # --- loading (thread workers: SQLite reads and parsing never run on the UI thread) ---

    @work(thread=True, exclusive=True, group="load")
    def load_sessions(self, *, refresh: bool) -> None:
        """Show the indexed sessions; then, when ``refresh``, index the tools' logs found on
        disk (``watchers.custom_paths`` included) and show the sessions again."""
        from opensession.config.settings import ConfigError, load_settings

        call = self.app.call_from_thread
        try:
            with LocalIndex.open() as index:
                rows = index.list_sessions(include_auxiliary=True)
                warning = index.warning
        except (sqlite3.Error, OSError) as exc:
            call(self._loaded, None, f"cannot read the local index: {exc}")
            return
        call(self._loaded, Catalog.build(rows), warning or "")
        if not refresh:
            return
        call(self._set_busy, "refreshing from disk…")
        # Discovery and parsing hold the GIL for long stretches: let the cached list be
        # painted first.
        painted = threading.Event()
        call(self.call_after_refresh, painted.set)
        painted.wait(timeout=1)
        worker = get_current_worker()
        shown_at = time.monotonic()

        def progress(done: int, total: int) -> None:
            # Quitting cancels the worker: stop between two sources rather than keep the
            # process alive until every log is parsed.
            if worker.is_cancelled:
                raise _RefreshCancelledError
            nonlocal shown_at
            if time.monotonic() - shown_at >= PROGRESS_INTERVAL:
                shown_at = time.monotonic()
                call(self._set_busy, f"refreshing {done:,}/{total:,}")

        try:
            catalog, summary = _refresh_index(load_settings().custom_paths, progress)
        except _RefreshCancelledError:
            return
        except (ConfigError, sqlite3.Error, OSError) as exc:
            call(self._loaded, None, f"refresh failed: {exc}")
            return
        call(self._loaded, catalog, summary)

    def _loaded(self, catalog: Catalog | None, message: str) -> None:
        if catalog is not None:
            self.catalog = catalog
        self.message = " ".join(message.split())
        self._set_busy("")
        self._paint()

    def _set_busy(self, what: str) -> None:
        self.query_one(TabBar).busy = what
        if not self.table.entries:
            self._paint()

    @work(thread=True, exclusive=True, group="search")
    def search_text(self, query: str) -> None:
        """Keep only the sessions whose messages (tools, files, commands) hold ``query``."""
        try:
            with LocalIndex.open() as index:
                hits = index.search(query, limit=TEXT_SEARCH_LIMIT)
        except (sqlite3.Error, OSError) as exc:
            self.app.call_from_thread(self._loaded, None, f"search failed: {exc}")
            return
        matches = frozenset(hit.session.id for hit in hits)
        self.app.call_from_thread(self._text_matched, query, matches)

    def _text_matched(self, query: str, matches: frozenset[str]) -> None:
        if self.view.query == query:
            self._change(text_matches=matches)

    # --- what the user sees ---

    def _change(self, **changes: Any) -> None:
        self.view = replace(self.view, **changes)
        self.message = ""
        self._paint()

    def _paint(self) -> None:
        table = self.table
        if self.catalog is None:
            busy = self.query_one(TabBar).busy
            table.show([], "Loading sessions…" if busy else "No sessions to show.")
        else:
            entries = arrange(self.catalog, self.view, repo=self.repo, now=datetime.now(UTC))
            table.show(entries, self._placeholder())
        self.query_one("#status", Static).update(self._status())
        message = self.query_one("#message", Static)
        message.update(self.message)
        message.display = bool(self.message)

    def _placeholder(self) -> str:
        if self.catalog is not None and not self.catalog.rows:
            if self.query_one(TabBar).busy:
                return "No sessions indexed yet: looking for them on disk…"
            return "No sessions indexed yet: run `opensession index`."
        return "No session matches: press Esc to clear the search, or change the filters."

    def _status(self) -> Text:
        view = self.view
        scope = f"Repo {repo_name(self.repo)}" if view.scope == "repo" else "Local"
        parts = [
            scope,
            view.tool or "all tools",
            view.order,
            view.time_range,
        ]
        total = len(self.table.entries)
        parts.append(f"{total:,} session{'s' if total != 1 else ''}")
        if self.table.picked:
            parts.append(f"{len(self.table.picked)} picked")
        if view.query:
            kind = "text" if view.text_matches is not None else "search"
            parts.append(f"{kind}: {view.query}")
        return Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")

    # --- keys ---

    def action_cycle_tool(self) -> None:
        tools: list[str | None] = [None, *(self.catalog.tools if self.catalog else [])]
        current = self.view.tool if self.view.tool in tools else None
        self._change(tool=cycle(tools, current))

    def action_cycle_order(self) -> None:
        self._change(order=cycle(ORDERS, self.view.order))

    def action_cycle_range(self) -> None:
        self._change(time_range=cycle(list(TIME_RANGES), self.view.time_range))

    def action_toggle_scope(self) -> None:
        if self.repo is None:
            self.message = "no repo scope: start opensession inside a git repository"
            self._paint()
            return
        self._change(scope="local" if self.view.scope == "repo" else "repo")

    def action_pick_repo(self) -> None:
        from opensession.tui.repo_picker import RepoPicker, repositories

        repos = repositories(self.catalog.rows if self.catalog else [])
        if not repos:
            self.message = "no indexed session belongs to a git repository on this machine"
            self._paint()
            return
        self.app.push_screen(RepoPicker(repos, self.repo), self._repo_picked)

    def _repo_picked(self, repo: str | None) -> None:
        if repo is not None:
            self.repo = repo
            self._change(scope="repo")

    def action_search(self) -> None:
        search = self.query_one(SearchBar)
        search.display = True
        search.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._change(query=event.value.strip(), text_matches=None)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if query:
            self.message = "searching the messages…"
            self._paint()
            self.search_text(query)
        self.query_one(SearchBar).display = bool(query)
        self.table.focus()

    @on(SearchBar.Cancelled)
    def _search_cancelled(self) -> None:
        self._close_search()

    def _close_search(self) -> None:
        search = self.query_one(SearchBar)
        search.value = ""
        search.display = False
        self.table.focus()
        self._change(query="", text_matches=None)

    def action_clear(self) -> None:
        if self.view.query:
            self._close_search()
        elif self.table.picked:
            self.table.picked.clear()
            self._paint()
        else:
            self.app.exit()

    @on(SessionTable.Picked)
    def _picked(self) -> None:
        self.query_one("#status", Static).update(self._status())

    def picked_rows(self) -> list[SessionRow]:
        """The picked sessions in the order picked, else the one under the cursor."""
        if self.table.picked:
            return list(self.table.picked.values())
        current = self.table.current
        return [current] if current is not None else []

    def action_open(self) -> None:
        row = self.table.current
        if row is not None:
            self._open(row)

    @on(SessionTable.Chosen)
    def _chosen(self, event: SessionTable.Chosen) -> None:
        self._open(event.row)

    def _open(self, row: SessionRow) -> None:
        from opensession.tui.detail import SessionDetailScreen

        self.app.push_screen(SessionDetailScreen(row))

    def action_handoff(self) -> None:
        rows = self.picked_rows()
        if not rows:
            return
        from opensession.tui.handoff_view import HandoffScreen

        self.app.push_screen(HandoffScreen(rows))

    def action_publish(self) -> None:
        row = self.table.current
        if row is None:
            return
        from opensession.tui.publish_view import PublishScreen

        self.app.push_screen(PublishScreen(row))


class _RefreshCancelledError(Exception):
    """The app quit while the index was being refreshed."""


def _refresh_index(custom_paths: list[Path], progress: Progress) -> tuple[Catalog, str]:
    """Index every session source on disk (as ``opensession index`` does) and read the index
    back; returns the sessions and a summary of what changed (empty when nothing did)."""
    from opensession.localdb.indexer import index_sources
    from opensession.parsers.discovery import discover

    found = discover(custom_paths)
    with LocalIndex.open() as index:
        report = index_sources(index, found.sources, progress=progress)
        rows = index.list_sessions(include_auxiliary=True)
    parts = []
    if report.added or report.updated or report.removed:
        parts.append(
            f"refreshed: {report.added} added, {report.updated} updated, {report.removed} removed"
        )
    if report.failed:
        parts.append(f"{report.failed} unreadable (see `opensession index`)")
    return Catalog.build(rows), "; ".join(parts)
