"""``opensession parse`` and ``opensession discover``: tool logs to HAIL, and where they are."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

from opensession.parsers.registry import TOOLS

if TYPE_CHECKING:
    from opensession.hail.model import Session
    from opensession.parsers.discovery import SessionSource

FORMATS = ("hail", "json", "md")


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--tool", type=click.Choice(TOOLS), help="Parse as this tool's format.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="hail",
    show_default=True,
    help="HAIL JSONL, one HAIL JSON document, or Markdown.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Write here instead of stdout; a folder gets every session (sub-agents too).",
)
def parse(source: Path, tool: str | None, output_format: str, out: Path | None) -> None:
    """Convert a tool's session file or folder at SOURCE to HAIL.

    The tool is detected from the content unless --tool says it. Warnings about parts that
    could not be read go to stderr; the rest of the session is still written.
    """
    from opensession.parsers.base import SessionParseError
    from opensession.parsers.registry import parse_path

    try:
        result = parse_path(source, tool)
    except SessionParseError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if out is not None and out.is_dir():
        for session in result.sessions:
            target = out / f"{_safe_name(session.session_id)}.{_extension(output_format)}"
            target.write_bytes(render_session(session, output_format))
        click.echo(f"wrote {len(result.sessions)} session(s) to {out}", err=True)
        return
    data = render_session(result.session, output_format)
    if out is not None:
        out.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if len(result.sessions) > 1:
        others = len(result.sessions) - 1
        click.echo(
            f"note: {source} holds {others} more session(s); use --out FOLDER to write them all",
            err=True,
        )


def _safe_name(session_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in session_id).strip(".") or "s"


def _extension(output_format: str) -> str:
    return {"hail": "hail.jsonl", "json": "json", "md": "md"}[output_format]


def render_session(session: Session, output_format: str) -> bytes:
    """A session as ``hail`` (JSONL), ``json`` (one document) or ``md`` bytes."""
    from opensession.hail.jsonl import dumps_session
    from opensession.hail.markdown import session_to_markdown

    if output_format == "hail":
        return dumps_session(session)
    if output_format == "json":
        return session.model_dump_json(indent=2).encode() + b"\n"
    return session_to_markdown(session).encode()


@click.command()
@click.option("--repo", type=click.Path(path_type=Path, file_okay=False), help="Only this repo.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def discover(repo: Path | None, as_json: bool) -> None:
    """Find every tool's sessions on this machine: where each tool was looked for and what
    was found there (the config's watchers.custom_paths included)."""
    from opensession.config.settings import ConfigError, load_settings
    from opensession.parsers.discovery import discover as discover_sources
    from opensession.parsers.discovery import parsed_cwd, scope_to_repo

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    found = discover_sources(settings.custom_paths)
    if repo is not None:
        found = scope_to_repo(found, repo.resolve(), parsed_cwd, track=_progress)
    by_tool = found.by_tool()
    failures = _indexed_failures()
    if as_json:
        payload = {
            "tools": [
                {
                    "tool": name,
                    "locations": [
                        {"path": str(loc.root), "pattern": loc.pattern, "exists": loc.root.is_dir()}
                        for loc in found.locations
                        if loc.tool == name
                    ],
                    "count": len(by_tool.get(name, [])),
                    "sources": [str(source.path) for source in by_tool.get(name, [])],
                    "failed": [
                        {"path": path, "error": error}
                        for tool, path, error in failures
                        if tool == name
                    ],
                }
                for name in TOOLS
            ]
        }
        click.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    for name in TOOLS:
        sources = by_tool.get(name, [])
        roots = sorted(
            {str(loc.root) for loc in found.locations if loc.tool == name and loc.root.is_dir()}
        )
        where = ", ".join(roots) if roots else "no default location on this machine"
        click.echo(f"{name:<12} {len(sources):>6} session(s)   {where}")
    if failures:
        click.echo(f"\n{len(failures)} source(s) could not be read when last indexed:")
        for _tool, path, error in failures:
            click.echo(f"  {path}: {error}")


def _indexed_failures() -> list[tuple[str, str, str]]:
    """(tool, path, error) of the sources the local index failed to read; none without one."""
    from opensession.localdb.store import LocalIndex, default_path

    if not default_path().exists():
        return []
    with LocalIndex.open() as index:
        return [(s.tool, s.path, s.parse_error or "") for s in index.failed_sources()]


def _progress(sources: list[SessionSource]) -> Iterable[SessionSource]:
    """A progress bar on stderr (shown only on a terminal) while sessions are read."""
    from rich.console import Console
    from rich.progress import track

    console = Console(stderr=True)
    return track(sources, "Reading sessions", console=console, transient=True)
