"""``opensession index``: bring the local index up to date with the sessions on disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

if TYPE_CHECKING:
    from opensession.localdb.indexer import IndexReport
    from opensession.localdb.store import LocalIndex, SourceState
    from opensession.parsers.discovery import Discovery, SessionSource


@click.command()
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Only the sessions whose working directory is inside this repo.",
)
@click.option("--full", is_flag=True, help="Re-read every source, changed or not.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts and errors as JSON.")
def index(repo: Path | None, full: bool, as_json: bool) -> None:
    """Index every discovered session (the config's watchers.custom_paths included) into the
    local database that log, show, search and the TUI read.

    Only new or changed files are parsed; files that are gone are forgotten. A file that fails
    to parse is recorded with its error and retried once it changes.
    """
    import sqlite3

    from opensession.config.settings import ConfigError, load_settings
    from opensession.localdb.store import default_path, is_damaged, set_aside_damaged
    from opensession.parsers.discovery import discover

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    found = discover(settings.custom_paths)
    try:
        report = _index_once(found, repo, full=full)
    except sqlite3.DatabaseError as exc:
        if not is_damaged(exc):
            raise
        aside = set_aside_damaged(default_path())
        click.echo(
            f"warning: the local index was damaged ({exc}); moved it to {aside} and "
            "rebuilding it from the tools' logs",
            err=True,
        )
        report = _index_once(found, repo, full=True)
    if as_json:
        click.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
        return
    for failure in report.errors:
        click.echo(f"failed: {failure.path}: {failure.error}", err=True)
    click.echo(report.summary())


def _index_once(found: Discovery, repo: Path | None, *, full: bool) -> IndexReport:
    """Index what discovery found (only what lies in ``repo`` when given) into the local index."""
    from opensession.localdb.store import LocalIndex
    from opensession.parsers.discovery import scope_to_repo

    with LocalIndex.open() as local_index:
        if local_index.warning:
            click.echo(f"warning: {local_index.warning}", err=True)
        sources = found.sources
        if repo is not None:
            known = local_index.source_states()
            sources = scope_to_repo(
                found, repo.resolve(), lambda source: _session_cwd(local_index, known, source)
            ).sources
        report = _index_with_progress(local_index, sources, full=full, prune=repo is None)
        if repo is not None:
            everywhere = {str(source.path) for source in found.sources}
            report.removed = local_index.remove_sources(
                path for path in local_index.source_states() if path not in everywhere
            )
    return report


def _index_with_progress(
    local_index: LocalIndex, sources: list[SessionSource], *, full: bool, prune: bool
) -> IndexReport:
    """Index with a progress bar on stderr, shown only on a terminal and cleared when done."""
    from rich.console import Console
    from rich.progress import Progress

    from opensession.localdb.indexer import index_sources

    console = Console(stderr=True)
    if not console.is_terminal:
        return index_sources(local_index, sources, full=full, prune=prune)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Indexing sessions", total=len(sources))
        return index_sources(
            local_index,
            sources,
            full=full,
            prune=prune,
            progress=lambda done, total: bar.update(task, completed=done),
        )


def _session_cwd(
    local_index: LocalIndex, known: dict[str, SourceState], source: SessionSource
) -> str | None:
    """A source's working directory: from the index when the file is unchanged, else parsed."""
    from opensession.localdb.store import stat_source
    from opensession.parsers.discovery import parsed_cwd

    before = known.get(str(source.path))
    if before is not None and before.parse_error is None:
        try:
            size, mtime_ns, inode = stat_source(source.path)
        except OSError:
            return None
        if (before.size, before.mtime_ns, before.inode) == (size, mtime_ns, inode):
            return local_index.source_cwd(before.path)
    return parsed_cwd(source)
