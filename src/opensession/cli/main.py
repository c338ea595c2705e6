"""The ``opensession`` command: a Click group with one module per noun."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from opensession import __version__
from opensession.cli.account import account
from opensession.cli.config import config
from opensession.cli.daemon import daemon
from opensession.cli.docs import docs
from opensession.cli.index import index
from opensession.cli.parse import discover, parse
from opensession.cli.publish import publish
from opensession.cli.session import session
from opensession.cli.validate import validate
from opensession.cli.views import log, search, show, stats


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "-V", "--version", prog_name="opensession")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Collect, browse, hand off and share AI coding sessions.

    Sessions from Claude Code, Codex, Cursor, Gemini CLI, OpenCode, Amp, Cline, Goose and Aider
    become one format, HAIL.
    """
    if ctx.invoked_subcommand is None:
        # Scripts and pipes get the help, as before the terminal UI existed.
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            click.echo(ctx.get_help())
            return
        _open_tui(None)


@cli.command(".", hidden=True)
def here() -> None:
    """Open the terminal UI on the sessions of the current directory's git repository."""
    from opensession.localdb.store import find_repo_root

    repo = find_repo_root(Path.cwd())
    if repo is None:
        raise click.ClickException(
            f"{Path.cwd()} is not inside a git repository: run 'opensession' for every session"
        )
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.ClickException(
            "the terminal UI needs a terminal: for a listing, run 'opensession log --repo .'"
        )
    _open_tui(repo)


def _open_tui(scope_repo: Path | None) -> None:
    """Run the terminal UI until the user quits it."""
    from opensession.tui.app import OpenSessionApp

    OpenSessionApp(scope_repo).run()


cli.add_command(parse)
cli.add_command(discover)
cli.add_command(validate)
cli.add_command(docs)
cli.add_command(index)
cli.add_command(log)
cli.add_command(show)
cli.add_command(search)
cli.add_command(stats)
cli.add_command(session)
cli.add_command(publish)
cli.add_command(config)
cli.add_command(account)
cli.add_command(daemon)
