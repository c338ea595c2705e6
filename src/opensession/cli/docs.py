"""``opensession docs``: reference material generated from the CLI itself."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


@click.group()
def docs() -> None:
    """Documentation helpers (shell completion)."""


@docs.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  opensession docs completion bash > ~/.local/share/bash-completion/completions/opensession
    zsh:   opensession docs completion zsh > "${fpath[1]}/_opensession"
    fish:  opensession docs completion fish > ~/.config/fish/completions/opensession.fish
    """
    root = ctx.find_root().command
    completion_class = get_completion_class(shell)
    if completion_class is None:  # Click knows every shell in SHELLS; guard against its removal
        raise click.ClickException(f"Click has no completion support for {shell}")
    script = completion_class(root, {}, "opensession", "_OPENSESSION_COMPLETE").source()
    click.echo(script)
