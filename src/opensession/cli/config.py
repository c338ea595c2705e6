"""``opensession config``: show, set and locate the config file without editing TOML."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
import orjson

if TYPE_CHECKING:
    from opensession.config.settings import Settings


@click.group()
def config() -> None:
    """Show and change the settings in opensession.toml."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def show(as_json: bool) -> None:
    """Print the settings, the API key masked, with the keys this version does not know."""
    import tomli_w

    from opensession.config.paths import config_file
    from opensession.config.settings import mask_api_key, settings_document

    document = settings_document(_load())
    server = document["server"]
    server["api_key"] = mask_api_key(server["api_key"])
    if as_json:
        payload: dict[str, Any] = {"path": str(config_file()), **document}
        click.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(f"# {config_file()}")
    click.echo(tomli_w.dumps(document), nl=False)


@config.command("set")
@click.argument("key")
@click.argument("value")
def set_(key: str, value: str) -> None:
    """Set KEY (dotted, like server.url or privacy.redact_secrets) to VALUE.

    Booleans take true/false, lists a comma-separated VALUE or a TOML array."""
    from opensession.config.settings import ConfigError, save_settings, with_value

    try:
        path = save_settings(with_value(_load(), key, value))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"set {key} in {path}")


@config.command("path")
def path() -> None:
    """Print where the config file is (it may not exist yet)."""
    from opensession.config.paths import config_file

    click.echo(str(config_file()))


def _load() -> Settings:
    """The settings, or the command ends with the config file's error."""
    from opensession.config.settings import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
