"""``opensession account``: connect to a server with an API key, and check the connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
import orjson

if TYPE_CHECKING:
    from opensession.client import ServerClient
    from opensession.config.settings import Settings

_NOT_CONNECTED = (
    "not connected to a server: run 'opensession account connect --server URL --api-key KEY'"
)


@click.group()
def account() -> None:
    """Connect to an opensession server and check the connection."""


@account.command()
@click.option("--server", "url", required=True, help="The server's address, http(s)://…")
@click.option(
    "--api-key",
    required=True,
    prompt=True,
    hide_input=True,
    help="Your personal API key (osk_…), issued on the server.",
)
def connect(url: str, api_key: str) -> None:
    """Check the API key against the server, then save both in the config file."""
    from dataclasses import replace

    from opensession.client import ClientError
    from opensession.client.account import verify_api_key
    from opensession.config.settings import ConfigError, normalize_server_url, save_settings

    settings = _load()
    url = normalize_server_url(url)
    api_key = api_key.strip()
    try:
        user = verify_api_key(url, api_key)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except ClientError as exc:
        raise click.ClickException(f"not connected: {exc.message}") from None
    try:
        path = save_settings(replace(settings, server_url=url, api_key=api_key))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"connected to {url} as {user.get('nickname')}; saved in {path}")


@account.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(as_json: bool) -> None:
    """The server connected to, its version and capabilities, and whose the API key is.

    Exits 1 when the server cannot be reached or refuses the key."""
    from opensession.client import ClientError
    from opensession.config.settings import mask_api_key

    settings = _load()
    report: dict[str, Any] = {"connected": bool(settings.server_url), "server": None}
    error: str | None = None
    if settings.server_url:
        report.update(
            server=settings.server_url,
            api_key=mask_api_key(settings.api_key),
            version=None,
            capabilities=None,
            user=None,
        )
        try:
            with _client(settings.server_url, settings.api_key) as client:
                report["version"] = client.health().get("version")
                report["capabilities"] = client.capabilities()
                report["user"] = client.me()
        except ClientError as exc:
            error = exc.message
        report["connected"] = error is None
        report["error"] = error
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    else:
        _print_status(report)
    if error:
        raise SystemExit(1)


@account.command()
def verify() -> None:
    """Exit 0 when the saved API key works on the saved server, 1 (with the cause) otherwise."""
    from opensession.client import ClientError
    from opensession.client.account import verify_api_key

    settings = _load()
    if not settings.server_url:
        raise click.ClickException(_NOT_CONNECTED)
    try:
        user = verify_api_key(settings.server_url, settings.api_key)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except ClientError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"ok: the API key works on {settings.server_url} as {user.get('nickname')}")


def _print_status(report: dict[str, Any]) -> None:
    if report["server"] is None:
        click.echo(_NOT_CONNECTED)
        return
    click.echo(f"server:       {report['server']}")
    if report["version"]:
        click.echo(f"version:      {report['version']}")
    click.echo(f"api key:      {report['api_key'] or '(none)'}")
    user = report["user"]
    if user:
        click.echo(f"user:         {user.get('nickname')} ({user.get('email')}, {user['user_id']})")
    capabilities = report["capabilities"]
    if capabilities:
        offered = sorted(name for name, value in capabilities.items() if value is True)
        click.echo(f"profile:      {capabilities.get('profile')}")
        click.echo(f"capabilities: {', '.join(offered) or '(none)'}")
    if report["error"]:
        click.echo(f"error: {report['error']}", err=True)


def _client(url: str, api_key: str) -> ServerClient:
    """A client with few retries, or the command ends naming a URL that is not http(s)."""
    from opensession.client.account import account_client

    try:
        return account_client(url, api_key)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _load() -> Settings:
    from opensession.config.settings import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
