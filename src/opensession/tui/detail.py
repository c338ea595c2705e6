"""The session detail screen: a header of the session's numbers and its timeline.

The session is read from its source in a thread (a 100 MB log takes seconds) while the header,
known from the index, is already on screen. The timeline draws only the rows in view and renders
an entry's body only once it is unfolded and visible (``TimelineView``).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import ClassVar

from rich.console import RenderableType
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from opensession.hail import model as m
from opensession.hail.markdown import format_duration
from opensession.localdb.refs import ResolvedSession, SessionRefError, load_session
from opensession.localdb.store import SessionRow
from opensession.tui.publish_view import copy_session_id, copy_share_url
from opensession.tui.timeline import (
    FILTERS,
    TimelineEntry,
    build_timeline,
    entry_body,
    estimated_height,
    row_text,
    search_text,
)

PAGE = 10
"""Entries PgDn/PgUp move by."""
CATEGORY_NAMES = {
    "message": "messages",
    "tool": "tool calls",
    "file": "file changes",
    "shell": "shell commands",
    "thinking": "thinking",
}


class TimelineView(ScrollView, can_focus=False):
    """The timeline of a session: one row per entry, unfolded entries with their body under it.

    Only rows in view are drawn and a body is rendered the first time it is in view; until then
    its height is estimated from its text. The screen owns the keys; this widget keeps the
    cursor, the folds, the filters and the search matches.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"timeline--cursor"}
    DEFAULT_CSS = """
    TimelineView {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    TimelineView > .timeline--cursor {
        background: $accent 35%;
    }
    """

    class CursorMoved(Message):
        """The cursor, the filters or the search changed: the status line is stale."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: m.Session | None = None
        self.entries: list[TimelineEntry] = []
        self.shown: list[int] = []
        """Entry numbers shown (not hidden by a filter), in order."""
        self.cursor = 0
        """Position of the selected entry in ``shown``."""
        self.hidden: set[str] = set()
        self.search_query = ""
        self.matches: list[int] = []
        """Positions in ``shown`` of the entries the search found."""
        self._open: list[bool] = []
        self._bodies: dict[int, list[Strip]] = {}
        self._estimates: dict[int, int] = {}
        self._search_texts: list[str] | None = None
        self._offsets: list[int] = [0]
        self._width = 0

    # --- data ---

    def set_session(self, session: m.Session, entries: list[TimelineEntry]) -> None:
        """Show ``session`` as ``entries`` (from ``build_timeline``)."""
        self.session = session
        self.entries = entries
        self._open = [entry.opens for entry in entries]
        self._apply_filters(keep=None)

    # --- moving ---

    def move_to(self, position: int) -> None:
        """Put the cursor on the entry at ``position`` of the visible ones (clamped)."""
        if not self.shown:
            return
        self.cursor = max(0, min(position, len(self.shown) - 1))
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.CursorMoved())

    def move(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def next_user_message(self, direction: int) -> bool:
        """Move to the next (``direction`` 1) or previous (-1) user message shown; False when
        there is none that way."""
        step = 1 if direction > 0 else -1
        for position in range(self.cursor + step, len(self.shown) if step > 0 else -1, step):
            if self.entries[self.shown[position]].is_user_message:
                self.move_to(position)
                return True
        return False

    def first_failure(self) -> bool:
        """Move to the first failed entry shown; False when none is shown."""
        for position, number in enumerate(self.shown):
            if self.entries[number].failed:
                self.move_to(position)
                return True
        return False

    def toggle(self) -> None:
        """Fold or unfold the entry under the cursor."""
        if not self.shown:
            return
        number = self.shown[self.cursor]
        self._open[number] = not self._open[number]
        self._relayout()
        self.move_to(self.cursor)

    # --- filters and search ---

    def toggle_filter(self, category: str) -> None:
        """Hide or show the entries of ``category``; the cursor stays on its entry, or goes to
        the next one shown."""
        self.hidden ^= {category}
        self._apply_filters(keep=self.shown[self.cursor] if self.shown else None)

    def _apply_filters(self, keep: int | None) -> None:
        self.shown = [n for n, e in enumerate(self.entries) if e.category not in self.hidden]
        position = bisect_right(self.shown, keep) - 1 if keep is not None else 0
        if keep is not None and (position < 0 or self.shown[position] != keep):
            position += 1
        self._find_matches()
        self._relayout()
        self.move_to(max(0, min(position, len(self.shown) - 1)))
        if not self.shown:
            self.refresh()
            self.post_message(self.CursorMoved())

    def search(self, query: str) -> int:
        """Find ``query`` (any case) in the entries shown and move to the first match from the
        cursor on; the number of matches."""
        self.search_query = query.strip()
        self._find_matches()
        later = [position for position in self.matches if position >= self.cursor]
        if self.matches:
            self.move_to((later or self.matches)[0])
        else:
            self.refresh()
            self.post_message(self.CursorMoved())
        return len(self.matches)

    def next_match(self, direction: int) -> bool:
        """Move to the next (1) or previous (-1) match, wrapping around; False without any."""
        if not self.matches:
            return False
        if direction > 0:
            following = [p for p in self.matches if p > self.cursor]
            self.move_to((following or self.matches)[0])
        else:
            preceding = [p for p in self.matches if p < self.cursor]
            self.move_to((preceding or self.matches)[-1])
        return True

    def _find_matches(self) -> None:
        if not self.search_query or self.session is None:
            self.matches = []
            return
        if self._search_texts is None:
            session = self.session
            self._search_texts = [search_text(session, entry) for entry in self.entries]
        needle = self.search_query.casefold()
        texts = self._search_texts
        self.matches = [p for p, n in enumerate(self.shown) if needle in texts[n]]

    # --- layout ---

    def _height(self, number: int) -> int:
        if not self._open[number]:
            return 1
        body = self._bodies.get(number)
        if body is not None:
            return 1 + len(body)
        estimate = self._estimates.get(number)
        if estimate is None and self.session is not None:
            estimate = estimated_height(self.session, self.entries[number], self._width - 6) + 1
            self._estimates[number] = estimate
        return 1 + (estimate or 1)

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self._bodies.clear()
            self._estimates.clear()
        self._offsets = list(accumulate(map(self._height, self.shown), initial=0))
        virtual_size = Size(width, self._offsets[-1])
        if virtual_size != self.virtual_size:
            self.virtual_size = virtual_size
            self._scroll_update(virtual_size)

    def _measure(self, number: int) -> bool:
        """Render an unfolded entry's body now; whether its height became known."""
        if not self._open[number] or number in self._bodies or self.session is None:
            return False
        entry = self.entries[number]
        body = entry_body(self.session, entry, dark=self.app.current_theme.dark)
        self._bodies[number] = self._strips(Padding(body, (0, 1, 1, 4)), self._width)
        return True

    def _strips(
        self, renderable: RenderableType, width: int, style: Style | None = None
    ) -> list[Strip]:
        console = self.app.console
        options = console.options.update_width(max(width, 1)).update(height=None)
        lines = console.render_lines(renderable, options, style=style or self.rich_style, pad=True)
        return [Strip(line, width) for line in lines]

    def _scroll_to_cursor(self) -> None:
        if not self.shown or not self.size.height:
            return
        if self._measure(self.shown[self.cursor]):
            self._relayout()
        top = self._offsets[self.cursor]
        height = min(self._offsets[self.cursor + 1] - top, self.size.height)
        scrolled = round(self.scroll_offset.y)
        if top < scrolled:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif top + height > scrolled + self.size.height:
            self.scroll_to(y=top + height - self.size.height, animate=False, immediate=True)

    def on_resize(self, _: events.Resize) -> None:
        self._relayout()
        self._scroll_to_cursor()

    # --- drawing ---

    def render_lines(self, crop: Region) -> list[Strip]:
        # Bodies coming into view are rendered first, so the lines below them are placed right.
        if self.scrollable_content_region.width != self._width:
            self._relayout()
        top = round(self.scroll_offset.y)
        position = max(bisect_right(self._offsets, top) - 1, 0)
        while position < len(self.shown) and self._offsets[position] < top + self.size.height:
            if self._measure(self.shown[position]):
                self._relayout()
            position += 1
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._width
        line = round(self.scroll_offset.y) + y
        position = bisect_right(self._offsets, line) - 1
        if self.session is not None and not self.shown and y == 0:
            note = "every event is hidden by the filters: press 1-5" if self.entries else ""
            return self._strips(Text(note or "this session has no events", style="dim"), width)[0]
        if not 0 <= position < len(self.shown):
            return Strip.blank(width, self.rich_style)
        number = self.shown[position]
        inner = line - self._offsets[position]
        if inner == 0:
            row = row_text(
                self.entries[number], unfolded=self._open[number], query=self.search_query
            )
            style = self.rich_style
            if position == self.cursor:
                style += self.get_component_rich_style("timeline--cursor")
            return self._strips(row, width, style)[0]
        body = self._bodies.get(number, [])
        return body[inner - 1] if inner - 1 < len(body) else Strip.blank(width, self.rich_style)

    def on_click(self, event: events.Click) -> None:
        line = round(self.scroll_offset.y) + event.y
        position = bisect_right(self._offsets, line) - 1
        if not 0 <= position < len(self.shown):
            return
        if position == self.cursor and line == self._offsets[position]:
            self.toggle()
        else:
            self.move_to(position)


def compact_number(value: int) -> str:
    """``950``, ``12.3k``, ``16.8M``."""
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return str(value)


def header_line(row: SessionRow) -> str:
    """Tool, model, duration, tokens and messages of a session, from the index (the status
    line counts the events)."""
    stats = row.stats
    tokens = stats.total_input_tokens + stats.total_output_tokens
    return " · ".join(
        part
        for part in (
            row.tool,
            row.model,
            format_duration(stats.duration_seconds),
            f"{compact_number(tokens)} tokens",
            f"{stats.message_count} messages",
        )
        if part
    )


class SessionDetailScreen(Screen[None]):
    """One session: its header and its timeline, read from its source in a thread."""

    AUTO_FOCUS = ""
    """Nothing takes the keys from the screen's bindings until `/` opens the search box."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "back", "back", tooltip="Back (Esc first closes the search box)"),
        Binding("enter,space", "toggle", "fold", tooltip="Fold or unfold the event"),
        Binding("slash", "search", "search", tooltip="Search this session"),
        Binding("e", "first_error", "error", tooltip="Jump to the first failed event"),
        Binding("o", "open_source", "$EDITOR", tooltip="Open the source file in $EDITOR"),
        Binding("c", "copy_id", "copy id", tooltip="Copy the session id"),
        Binding("C", "copy_url", "copy URL", tooltip="Copy the share URL (once uploaded)"),
        Binding("j,down", "move(1)", "next", show=False, tooltip="Next event"),
        Binding("k,up", "move(-1)", "previous", show=False, tooltip="Previous event"),
        Binding("g,home", "move_to(0)", "first", show=False, tooltip="First event"),
        Binding("G,end", "last", "last", show=False, tooltip="Last event"),
        Binding(
            "pagedown", f"move({PAGE})", "page down", show=False, tooltip=f"{PAGE} events down"
        ),
        Binding("pageup", f"move(-{PAGE})", "page up", show=False, tooltip=f"{PAGE} events up"),
        Binding("u", "user_message(1)", "user", show=False, tooltip="Next user message"),
        Binding("U", "user_message(-1)", "user", show=False, tooltip="Previous user message"),
        Binding("n", "match(1)", "next match", show=False, tooltip="Next search match"),
        Binding("p", "match(-1)", "previous match", show=False, tooltip="Previous search match"),
        *(
            Binding(
                key,
                f"filter('{category}')",
                label,
                show=False,
                tooltip=f"Show or hide {CATEGORY_NAMES[category]}",
            )
            for key, category, label in FILTERS
        ),
    ]
    DEFAULT_CSS = """
    SessionDetailScreen #detail-title { text-style: bold; height: 1; }
    SessionDetailScreen #detail-meta { color: $text-muted; height: 1; }
    SessionDetailScreen #detail-error { color: $error; height: auto; display: none; }
    SessionDetailScreen #detail-search { display: none; }
    SessionDetailScreen #detail-status { height: 1; background: $panel; }
    """

    def __init__(self, row: SessionRow) -> None:
        super().__init__()
        self.row = row
        self.load_seconds: float | None = None
        """How long reading and laying out the session took (None until done)."""

    def compose(self) -> ComposeResult:
        yield Static(self.row.title or "(untitled session)", id="detail-title", markup=False)
        yield Static(header_line(self.row), id="detail-meta", markup=False)
        yield Static(id="detail-error", markup=False)
        yield TimelineView(id="timeline")
        yield Input(placeholder="search this session, Enter to find", id="detail-search")
        yield Static(id="detail-status")
        yield Footer()

    def on_mount(self) -> None:
        self.timeline.loading = True
        self._update_status()
        self._load()

    @property
    def timeline(self) -> TimelineView:
        return self.query_one(TimelineView)

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        """Read the session from its source and lay it out, off the UI thread."""
        started = time.perf_counter()
        resolved = ResolvedSession(self.row.id, Path(self.row.source_path), self.row.tool)
        try:
            session = load_session(resolved)
            entries = build_timeline(session)
        except SessionRefError as exc:
            self._from_thread(self._show_error, str(exc))
            return
        except Exception as exc:  # a parser bug must not take the whole UI down
            self._from_thread(self._show_error, f"cannot read {self.row.source_path}: {exc!r}")
            return
        self.load_seconds = time.perf_counter() - started
        self._from_thread(self._show_session, session, entries)

    def _from_thread(self, callback: Callable[..., object], *args: object) -> None:
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(callback, *args)

    def _show_session(self, session: m.Session, entries: list[TimelineEntry]) -> None:
        timeline = self.timeline
        timeline.loading = False
        timeline.set_session(session, entries)

    def _show_error(self, message: str) -> None:
        self.timeline.loading = False
        self.timeline.display = False
        error = self.query_one("#detail-error", Static)
        error.update(message)
        error.display = True

    # --- the status line ---

    def on_timeline_view_cursor_moved(self, _: TimelineView.CursorMoved) -> None:
        self._update_status()

    def _update_status(self) -> None:
        timeline = self.timeline
        status = Text(no_wrap=True, overflow="ellipsis")
        for key, category, label in FILTERS:
            shown = category not in timeline.hidden
            status.append(f" {key}", style="bold" if shown else "dim")
            status.append(f" {label}", style="" if shown else "dim strike")
        if timeline.shown:
            status.append(f"  │ {timeline.cursor + 1}/{len(timeline.shown)}")
        if timeline.search_query:
            found = timeline.matches
            status.append(f"  │ /{timeline.search_query} ")
            if found and timeline.cursor in found:
                status.append(f"{found.index(timeline.cursor) + 1} of {len(found)}")
            else:
                status.append(f"{len(found)} matches" if found else "no match", style="")
        self.query_one("#detail-status", Static).update(status)

    # --- actions ---

    def action_back(self) -> None:
        """Leave the search box, or go back to where the screen was opened from."""
        search = self.query_one("#detail-search", Input)
        if search.display:
            search.display = False
            self.set_focus(None)
            return
        self.dismiss()

    def action_move(self, delta: int) -> None:
        self.timeline.move(delta)

    def action_move_to(self, position: int) -> None:
        self.timeline.move_to(position)

    def action_last(self) -> None:
        self.timeline.move_to(len(self.timeline.shown) - 1)

    def action_toggle(self) -> None:
        self.timeline.toggle()

    def action_user_message(self, direction: int) -> None:
        if not self.timeline.next_user_message(direction):
            where = "below" if direction > 0 else "above"
            self.notify(f"no user message {where}", timeout=2)

    def action_first_error(self) -> None:
        timeline = self.timeline
        if timeline.first_failure():
            return
        hidden = any(entry.failed for entry in timeline.entries)
        self.notify(
            "the failures are hidden by a filter (1-5)" if hidden else "no failure in this session",
            timeout=3,
        )

    def action_filter(self, category: str) -> None:
        self.timeline.toggle_filter(category)

    def action_search(self) -> None:
        search = self.query_one("#detail-search", Input)
        search.display = True
        search.value = self.timeline.search_query
        search.focus()
        search.select_all()  # typing replaces the last search

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.set_focus(None)
        if not self.timeline.search(event.value) and self.timeline.search_query:
            self.notify(f"no match for {self.timeline.search_query!r}", timeout=2)

    def action_match(self, direction: int) -> None:
        timeline = self.timeline
        if not timeline.search_query:
            self.notify("search first with /", timeout=2)
        elif not timeline.next_match(direction):
            self.notify(f"no match for {timeline.search_query!r}", timeout=2)

    def action_open_source(self) -> None:
        """Open the session's source file in ``$EDITOR``, the UI suspended meanwhile."""
        editor = os.environ.get("EDITOR", "").strip()
        if not editor:
            self.notify("$EDITOR is not set: export EDITOR=vim (or your editor) first", timeout=4)
            return
        if not Path(self.row.source_path).exists():
            self.notify(f"the source is gone: {self.row.source_path}", severity="error")
            return
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), self.row.source_path], check=False)
        except SuspendNotSupported:
            self.notify("this terminal cannot be handed over to $EDITOR", severity="error")
        except OSError as exc:
            self.notify(f"cannot run $EDITOR ({editor}): {exc.strerror}", severity="error")

    def action_copy_id(self) -> None:
        copy_session_id(self, self.row)

    def action_copy_url(self) -> None:
        copy_share_url(self, self.row)
