"""``opensession log``, ``show``, ``search`` and ``stats``: the local index in the terminal.

``log``, ``search`` and ``stats`` read only the index (no discovery, no parsing, no pydantic);
``show`` re-reads the one session it names from its source.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
import orjson

from opensession.cli.common import open_index
from opensession.parsers.registry import TOOLS

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from opensession.hail import model as m
    from opensession.localdb.reports import GroupBy
    from opensession.localdb.store import LocalIndex, SessionRow

SHOW_FORMATS = ("text", "md", "json", "hail")
RESULT_LINES = 6
"""Lines of a tool's output shown under its call; the rest is folded."""
DIFF_LINES = 60
"""Lines of a diff shown in the timeline; the rest is folded."""
EMPTY_INDEX = "no sessions indexed yet: run 'opensession index'"
_SPAN = re.compile(r"(\d+)\s*([mhdw])")
_SPAN_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_MARKS = ("\x02", "\x03")
"""Around the matched words of a search snippet (never in session text)."""


def parse_since(text: str) -> datetime:
    """``30m``, ``24h``, ``7d``, ``2w`` ago, or a ``YYYY-MM-DD`` (local midnight), as UTC."""
    span = _SPAN.fullmatch(text.strip())
    if span:
        amount = timedelta(**{_SPAN_UNITS[span.group(2)]: int(span.group(1))})
        return datetime.now(UTC) - amount
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither a span (30m, 24h, 7d, 2w) nor a date (YYYY-MM-DD)"
        ) from None
    return day.astimezone(UTC)


class _Since(click.ParamType):
    name = "SPAN|DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value if isinstance(value, datetime) else parse_since(str(value))


SINCE = _Since()
TOOL = click.Choice(TOOLS)
REPO_HELP = "Only sessions in this git repository ('.' for the current one)."


def _repo_root(path: Path | None) -> str | None:
    """The repository root stored for sessions under ``path`` (``path`` itself outside git)."""
    if path is None:
        return None
    from opensession.localdb.store import find_repo_root

    folder = path.expanduser().resolve()
    return str(find_repo_root(folder) or folder)


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _echo_json(value: object) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _local_time(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _count(value: int) -> str:
    """``950``, ``12.3k``, ``4.1M``."""
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return str(value)


# --- log ---


@click.command()
@click.option("-n", "limit", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--tool", type=TOOL, help="Only this tool's sessions.")
@click.option("--since", type=SINCE, help="Only sessions started since: 7d, 24h, 2w, YYYY-MM-DD.")
@click.option("--repo", type=click.Path(path_type=Path, file_okay=False), help=REPO_HELP)
@click.option("--search", "text", help="Only sessions whose text holds every word of TEXT.")
@click.option("--errors", is_flag=True, help="List the sources that failed to parse instead.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def log(
    limit: int,
    tool: str | None,
    since: datetime | None,
    repo: Path | None,
    text: str | None,
    errors: bool,
    as_json: bool,
) -> None:
    """List indexed sessions, newest first: one line each with time, tool, model, title,
    duration, messages, tokens in/out and files changed (sub-agents left out).

    Reads only the local index; `opensession index` brings it up to date.
    """
    with open_index() as index:
        if errors:
            _log_errors(index, as_json)
            return
        rows = index.list_sessions(
            tool=tool, since=since, repo=_repo_root(repo), search=text, limit=limit
        )
        empty = not rows and index.count_sessions() == 0
    if as_json:
        _echo_json([row.to_json() for row in rows])
    elif rows:
        import shutil

        for line in _log_lines(rows, shutil.get_terminal_size().columns):
            click.echo(line)
    if empty:
        click.echo(EMPTY_INDEX, err=True)
    elif not rows and not as_json:
        click.echo("no indexed session matches", err=True)


def _log_errors(index: LocalIndex, as_json: bool) -> None:
    failed = index.failed_sources()
    if as_json:
        _echo_json([{"path": s.path, "tool": s.tool, "error": s.parse_error} for s in failed])
        return
    if not failed:
        click.echo("no source failed to parse", err=True)
    for source in failed:
        click.echo(f"{source.tool:<12} {source.path}: {source.parse_error}")


_LOG_COLUMNS: tuple[tuple[str, str | None, bool, int], ...] = (
    ("id", "yellow", False, 0),
    ("time", None, False, 0),
    ("tool", "cyan", False, 0),
    ("model", "magenta", False, 120),
    ("title", None, False, 0),
    ("duration", None, True, 0),
    ("msgs", None, True, 0),
    ("tokens in/out", None, True, 100),
    ("files", None, True, 0),
)
"""(header, colour, right-aligned, narrowest terminal showing it) of each ``log`` column."""
_TITLE_MIN = 12


def _log_lines(rows: list[SessionRow], width: int) -> list[str]:
    """The sessions as a table ``width`` columns wide: the title takes what the other columns
    leave; the model, then the tokens, are left out on narrow terminals.

    Plain string formatting rather than a rich table: it keeps ``log`` well under 150 ms."""
    from rich.cells import cell_len, set_cell_size

    columns = [column for column in _LOG_COLUMNS if width >= column[3]]
    table = [[name for name, *_ in columns]]
    for row in rows:
        stats = row.stats
        cells = {
            "id": row.id[:8],
            "time": _local_time(row.created_at),
            "tool": row.tool,
            "model": row.model,
            "title": " ".join((row.title or "(untitled)").split()),
            "duration": _duration(stats.duration_seconds),
            "msgs": str(stats.message_count),
            "tokens in/out": (
                f"{_count(stats.total_input_tokens)}/{_count(stats.total_output_tokens)}"
            ),
            "files": str(stats.files_changed),
        }
        table.append([cells[name] for name, *_ in columns])
    widths = [max(cell_len(line[i]) for line in table) for i in range(len(columns))]
    title = next(i for i, column in enumerate(columns) if column[0] == "title")
    model = next((i for i, column in enumerate(columns) if column[0] == "model"), None)
    if model is not None:
        widths[model] = min(widths[model], 24)
    others = sum(widths) - widths[title] + 2 * (len(columns) - 1)
    widths[title] = max(_TITLE_MIN, min(widths[title], width - others))
    lines = []
    for number, line in enumerate(table):
        shown = []
        for (_, colour, right, _), cell, size in zip(columns, line, widths, strict=True):
            if cell_len(cell) > size:
                cell = set_cell_size(cell, size - 1) + "…"
            cell = " " * (size - cell_len(cell)) + cell if right else set_cell_size(cell, size)
            shown.append(click.style(cell, bold=True) if number == 0 else click.style(cell, colour))
        lines.append("  ".join(shown).rstrip())
    return lines


# --- show ---


@click.command()
@click.argument("ref", required=False)
@click.option("--claude", "claude_ref", metavar="REF", help="A Claude Code session: HEAD~2 …")
@click.option("--gemini", "gemini_ref", metavar="REF", help="A Gemini CLI session.")
@click.option("--tool", "tool_ref", metavar='"TOOL REF"', help='Any tool\'s: "codex HEAD".')
@click.option(
    "--format",
    "output_format",
    type=click.Choice(SHOW_FORMATS),
    default="text",
    show_default=True,
    help="A readable timeline, Markdown, one HAIL JSON document or HAIL JSONL.",
)
def show(
    ref: str | None,
    claude_ref: str | None,
    gemini_ref: str | None,
    tool_ref: str | None,
    output_format: str,
) -> None:
    """Show the session REF: a file path, a session id or unique prefix, or HEAD / HEAD~N
    (newest first, within the current git repository when run inside one).

    --claude REF, --gemini REF and --tool "TOOL REF" take only that tool's sessions.
    """
    import sys

    from opensession.localdb.refs import SessionRefError, load_session, resolve_session_ref

    try:
        tool, ref = _tool_and_ref(ref, claude_ref, gemini_ref, tool_ref)
        with open_index() as index:
            resolved = resolve_session_ref(index, ref, tool=tool)
        session = load_session(resolved)
    except SessionRefError as exc:
        raise click.ClickException(str(exc)) from None
    if output_format == "text":
        _print_timeline(_console(), session)
        return
    from opensession.cli.parse import render_session

    sys.stdout.buffer.write(render_session(session, output_format))
    sys.stdout.buffer.flush()


def _tool_and_ref(
    ref: str | None, claude_ref: str | None, gemini_ref: str | None, tool_ref: str | None
) -> tuple[str | None, str]:
    """The tool restriction and reference from REF and the per-tool options (one of them)."""
    from opensession.localdb.refs import parse_tool_ref

    given = [value for value in (claude_ref, gemini_ref, tool_ref) if value is not None]
    if len(given) > 1:
        raise click.UsageError("give only one of --claude, --gemini and --tool")
    if claude_ref is not None:
        tool, tool_ref_text = "claude-code", claude_ref
    elif gemini_ref is not None:
        tool, tool_ref_text = "gemini", gemini_ref
    elif tool_ref is not None:
        tool, tool_ref_text = parse_tool_ref(tool_ref)
        if ref is not None and len(tool_ref.split()) == 1:
            return tool, ref  # `show HEAD~1 --tool codex`
    else:
        if ref is None:
            raise click.UsageError("name a session: REF, --claude REF, --gemini REF or --tool")
        return None, ref
    if ref is not None:
        raise click.UsageError(f"give the reference once: {ref!r} or {tool_ref_text!r}")
    return tool, tool_ref_text


def _print_timeline(console: Console, session: m.Session) -> None:
    """The session as a timeline: a header, then its events, tool results under their calls."""
    from rich.padding import Padding

    from opensession.hail import model as m

    console.print(_header(session))
    results: dict[str, m.Event] = {}
    for event in session.events:
        call = _call_id(event)
        if isinstance(event.event_type, m.ToolResult) and call:
            results.setdefault(call, event)
    called = {_call_id(e) for e in session.events if not isinstance(e.event_type, m.ToolResult)}
    subtasks: set[str] = set()
    for event in session.events:
        kind = event.event_type
        if isinstance(kind, m.ToolResult) and _call_id(event) in called:
            continue  # shown under its call
        if isinstance(kind, m.TaskStart) and event.task_id:
            subtasks.add(event.task_id)
        inside = event.task_id in subtasks and not isinstance(kind, m.TaskStart | m.TaskEnd)
        parts = _event(event)
        result = results.get(_call_id(event) or "")
        if result is not None:
            parts.append(Padding(_result(result), (0, 0, 0, 2), expand=False))
        for part in parts:
            console.print(Padding(part, (0, 0, 0, 4 if inside else 0), expand=False))


def _header(session: m.Session) -> RenderableType:
    from rich.panel import Panel
    from rich.text import Text

    agent, stats = session.agent, session.stats
    text = Text(session.context.title or session.session_id, style="bold")
    text.append("\n")
    text.append(f"{agent.tool}", style="cyan")
    text.append(f" · {agent.model}", style="magenta")
    text.append(f" · {_local_time(session.context.created_at)}")
    text.append(f" · {_duration(stats.duration_seconds)}")
    text.append(
        f" · {stats.message_count} messages · {stats.tool_call_count} tool calls"
        f" · tokens {stats.total_input_tokens:,} in / {stats.total_output_tokens:,} out"
        f" · {stats.files_changed} files changed (+{stats.lines_added} -{stats.lines_removed})"
    )
    text.append(f"\n{session.session_id}", style="dim")
    return Panel(text, expand=False)


def _call_id(event: m.Event) -> str | None:
    """What ties a tool call to its result: the call id the parsers record on both."""
    value = event.attributes.get("semantic.call_id")
    if not isinstance(value, str):
        value = getattr(getattr(event.event_type, "data", None), "call_id", None)
    return value if isinstance(value, str) else None


def _event(event: m.Event) -> list[RenderableType]:
    """What one event shows (its result, if any, is added under it by the caller)."""
    from rich.markdown import Markdown
    from rich.text import Text

    from opensession.hail import model as m
    from opensession.tui.timeline import diff_text

    kind = event.event_type
    time = event.timestamp.astimezone().strftime("%H:%M:%S")
    body = event.text()
    if isinstance(kind, m.UserMessage):
        return [Text(f"\n▌ user · {time}", style="bold cyan"), Text(body)]
    if isinstance(kind, m.AgentMessage):
        return [Text(f"\n● agent · {time}", style="bold green"), Markdown(body)]
    if isinstance(kind, m.Thinking):
        return [_folded(f"thinking · {time}\n{body}", RESULT_LINES, "dim italic")]
    if isinstance(kind, m.SystemMessage):
        return [_folded(f"system · {time}\n{body}", 3, "dim")]
    if isinstance(kind, m.ShellCommand):
        line = Text("$ ", style="bold")
        line.append(kind.data.command, style="bold")
        if kind.data.exit_code is not None:
            failed = kind.data.exit_code != 0
            line.append(f"  exit {kind.data.exit_code}", style="bold red" if failed else "green")
        return [line]
    if isinstance(kind, m.FileEdit):
        code = next((b.code for b in event.content.blocks if isinstance(b, m.CodeBlock)), None)
        parts: list[RenderableType] = [Text(f"✎ edit {kind.data.path}", style="bold yellow")]
        diff = kind.data.diff or code
        if diff:
            parts.append(diff_text(diff, DIFF_LINES))
        return parts
    if isinstance(kind, m.TaskStart):
        line = Text(f"▶ task {kind.data.title or ''}".rstrip(), style="bold blue")
        agent = event.attributes.get("subagent_session_id")
        if isinstance(agent, str):
            line.append(f"  (sub-agent {agent})", style="dim")
        return [line, _folded(body, 3, "")] if body else [line]
    if isinstance(kind, m.TaskEnd):
        summary = kind.data.summary or ""
        return [_folded(f"◀ task done {summary}".rstrip(), 3, "blue")]
    if isinstance(kind, m.ToolResult):
        return [_result(event)]
    if isinstance(kind, m.Custom):
        return [Text(f"· {kind.data.kind}", style="dim")]
    line = Text(f"→ {_describe(kind)}", style="bold")
    return [line, _folded(body, 2, "dim")] if isinstance(kind, m.ToolCall) and body else [line]


def _describe(kind: m.HailModel) -> str:
    """A tool use in a few words: ``Read path``, ``WebSearch query``, ``ToolCall name``."""
    from opensession.hail import model as m

    data = getattr(kind, "data", None)
    kind_name = str(getattr(kind, "type", "event"))
    if isinstance(kind, m.ToolCall):
        return kind.data.name
    if isinstance(data, m.PathData):
        return f"{kind_name.removeprefix('File').lower()} {data.path}"
    if isinstance(data, m.QueryData | m.PatternData | m.UrlData | m.PromptData):
        return f"{kind_name} {next(iter(data.model_dump().values()))}"
    return kind_name


def _result(event: m.Event) -> RenderableType:
    """A tool's output: its first lines, red when it is an error."""
    from opensession.hail import model as m

    kind = event.event_type
    error = isinstance(kind, m.ToolResult) and kind.data.is_error
    text = event.text() or "\n".join(
        b.code for b in event.content.blocks if isinstance(b, m.CodeBlock)
    )
    return _folded(text or "(no output)", RESULT_LINES, "red" if error else "dim")


def _folded(text: str, keep: int, style: str) -> Text:
    """The first ``keep`` lines of ``text``, then ``… N more lines``."""
    from rich.text import Text

    lines = text.rstrip("\n").splitlines() or [""]
    shown = Text("\n".join(lines[:keep]), style=style)
    if len(lines) > keep:
        shown.append(f"\n… {len(lines) - keep} more lines", style="dim")
    return shown


# --- search ---


@click.command()
@click.argument("query")
@click.option("--tool", type=TOOL, help="Only this tool's sessions.")
@click.option("--repo", type=click.Path(path_type=Path, file_okay=False), help=REPO_HELP)
@click.option("-n", "limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def search(query: str, tool: str | None, repo: Path | None, limit: int, as_json: bool) -> None:
    """Find the sessions whose messages, tool names, file paths or commands hold every word
    of QUERY ("a phrase" in quotes), best match first, with the matching passage."""
    if not query.split():
        raise click.UsageError("the search text is empty")
    with open_index() as index:
        hits = index.search(query, tool=tool, repo=_repo_root(repo), limit=limit, marks=_MARKS)
        empty = not hits and index.count_sessions() == 0
    if as_json:
        _echo_json([_hit_json(hit.session, hit.snippet) for hit in hits])
    else:
        console = _console()
        for hit in hits:
            _print_hit(console, hit.session, hit.snippet)
    if empty:
        click.echo(EMPTY_INDEX, err=True)
    elif not hits and not as_json:
        click.echo(f"no indexed session matches {query!r}", err=True)


def _snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """The snippet as (text, matched) pieces, newlines flattened."""
    flat = " ".join(snippet.split())
    pieces: list[tuple[str, bool]] = []
    for number, piece in enumerate(re.split(f"[{''.join(_MARKS)}]", flat)):
        if piece:
            pieces.append((piece, number % 2 == 1))
    return pieces


def _hit_json(row: SessionRow, snippet: str) -> dict[str, Any]:
    """The session's JSON, plus ``snippet`` and ``highlights`` (its matched [start, end))."""
    text, highlights = "", []
    for piece, matched in _snippet_parts(snippet):
        if matched:
            highlights.append([len(text), len(text) + len(piece)])
        text += piece
    return {**row.to_json(), "snippet": text, "highlights": highlights}


def _print_hit(console: Console, row: SessionRow, snippet: str) -> None:
    from rich.text import Text

    line = Text(row.id[:8], style="yellow")
    line.append(f"  {_local_time(row.created_at)}  ")
    line.append(row.tool, style="cyan")
    line.append("  " + " ".join((row.title or "(untitled)").split()), style="bold")
    if row.is_auxiliary:
        line.append("  (sub-agent)", style="dim")
    line.truncate(console.width, overflow="ellipsis")
    console.print(line)
    passage = Text("    ")
    for piece, matched in _snippet_parts(snippet):
        passage.append(piece, style="bold reverse yellow" if matched else "")
    passage.truncate(console.width, overflow="ellipsis")
    console.print(passage)


# --- stats ---


@click.command()
@click.option("--since", type=SINCE, help="Only sessions started since: 7d, 24h, 2w, YYYY-MM-DD.")
@click.option("--by", "by", type=click.Choice(("tool", "model", "day", "repo")), help="Group.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(since: datetime | None, by: str | None, as_json: bool) -> None:
    """Totals of the indexed sessions: sessions, messages, tool calls, input/output tokens,
    lines added/removed and time spent, overall or per tool, model, day (UTC) or repo.

    Sessions and time count main sessions; the rest includes sub-agents' work.
    """
    from opensession.localdb.reports import session_totals

    with open_index() as index:
        totals = session_totals(index, since=since, by=cast("GroupBy | None", by))
        empty = index.count_sessions() == 0
    if empty:
        click.echo(EMPTY_INDEX, err=True)
    if as_json:
        rows = [total.to_json() for total in totals]
        _echo_json(rows if by else rows[0])
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    if by:
        table.add_column(by, style="cyan", no_wrap=True, overflow="ellipsis")
    for name in (
        "sessions",
        "sub-\nagents",
        "messages",
        "tool\ncalls",
        "tokens\nin",
        "tokens\nout",
    ):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("lines\n+/-", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    for total in totals:
        cells = [
            f"{total.sessions:,}",
            f"{total.sub_agents:,}",
            f"{total.messages:,}",
            f"{total.tool_calls:,}",
            _count(total.input_tokens),
            _count(total.output_tokens),
            f"+{total.lines_added:,} -{total.lines_removed:,}",
            _duration(total.duration_seconds),
        ]
        table.add_row(*([total.group or ""] if by else []), *cells)
    _console().print(table)
