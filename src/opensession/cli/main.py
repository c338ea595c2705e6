"""The ``opensession`` command: a Click group with one module per noun."""

from __future__ import annotations

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
        click.echo(ctx.get_help())


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
