"""``opensession daemon``: the background process that keeps the index current and uploads the
selected repositories' sessions as they change; and the agent hooks that feed it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

if TYPE_CHECKING:
    from opensession.config.settings import Settings
    from opensession.daemon.hooks import HookChange
    from opensession.daemon.process import DaemonFiles

_AGENT_HELP = (
    "The agent whose hook to manage. Only claude-code has hooks that name the session log "
    "(Codex CLI's notify gives only a thread id; Gemini CLI, Cursor, OpenCode, Amp, Cline, Goose "
    "and Aider have none): the daemon's watcher covers the others."
)


@click.group()
def daemon() -> None:
    """Run the background daemon: it watches the tools' session folders, keeps the local index
    current and uploads new and changed sessions of the selected repositories to the connected
    server. It installs no agent hooks; 'enable-hook' does, when you want them."""


def _repos_option(help_text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--repo PATH`` (repeatable), a folder that exists."""
    return click.option(
        "--repo",
        "repos",
        multiple=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help=help_text,
    )


@daemon.command()
@_repos_option("Upload the sessions of this repository (repeatable; saved, as 'daemon select').")
@click.option("--all", "all_repos", is_flag=True, help="Upload every session (saved).")
@click.option("--foreground", is_flag=True, help="Run in this terminal instead of detached.")
def start(repos: tuple[Path, ...], all_repos: bool, foreground: bool) -> None:
    """Start the daemon (detached: it survives the terminal closing; its pid, log and health
    files are under the state directory). With no server connected it only keeps the index
    current. Sessions go up public, or private with 'opensession config set daemon.private
    true'. Exits 1 when it is already running."""
    from opensession.daemon.process import DaemonError, running_pid, start_detached

    files = _files()
    pid = running_pid(files)
    if pid is not None:
        raise click.ClickException(f"the daemon is already running (pid {pid})")
    settings = _load()
    if repos or all_repos:
        settings = _save_selection(settings, repos, all_repos)
    if foreground:
        _run_foreground(files)
        return
    try:
        pid = start_detached(files)
    except DaemonError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"daemon started (pid {pid}); log {files.log}")
    click.echo(_uploading_line(settings))


def _run_foreground(files: DaemonFiles) -> None:
    from opensession.config.settings import ConfigError
    from opensession.daemon.process import DaemonError
    from opensession.daemon.service import Daemon, configure_logging

    configure_logging()
    try:
        Daemon(files).run()
    except (DaemonError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None


@daemon.command()
def stop() -> None:
    """Stop the daemon, letting it finish the upload under way (a queued upload is kept and
    sent at the next start)."""
    from opensession.daemon.process import DaemonError
    from opensession.daemon.process import stop as stop_daemon

    try:
        pid = stop_daemon(_files())
    except DaemonError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("the daemon is not running" if pid is None else f"daemon stopped (pid {pid})")


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def status(as_json: bool) -> None:
    """Whether the daemon runs, since when, and what it uploads. Exits 1 when it does not run."""
    report = _health_report()
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    elif report["running"]:
        click.echo(
            f"running (pid {report['pid']}) for {_duration(report['uptime_seconds'])}; "
            f"{report['queue_depth']} upload(s) queued"
        )
        click.echo(_uploading_line(_load()))
    else:
        click.echo("not running (start it with 'opensession daemon start')")
    sys.exit(0 if report["running"] else 1)


@daemon.command()
def health() -> None:
    """The daemon's health as JSON: running, pid, uptime_seconds, watched (folders watched),
    waiting_for (folders that do not exist yet), queue_depth, uploads, last_upload, last_error,
    server, scope. Exits 1 when it does not run."""
    report = _health_report()
    click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    sys.exit(0 if report["running"] else 1)


@daemon.command()
@_repos_option("A repository whose sessions are uploaded (repeatable; replaces the selection).")
@click.option("--all", "all_repos", is_flag=True, help="Upload every session.")
@click.option("--none", "nothing", is_flag=True, help="Upload nothing (the index stays current).")
def select(repos: tuple[Path, ...], all_repos: bool, nothing: bool) -> None:
    """Choose whose sessions the daemon uploads: repositories (--repo, a path inside one names
    the whole repository), every session (--all) or none (--none). A running daemon follows
    the new selection from its next change."""
    if sum((bool(repos), all_repos, nothing)) != 1:
        raise click.UsageError("give --repo PATH (one or more), --all or --none")
    settings = _save_selection(_load(), repos, all_repos)
    click.echo(_uploading_line(settings))


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def show(as_json: bool) -> None:
    """The daemon's watch targets: the folders it watches (and whether they exist yet), the
    repositories whose sessions it uploads, and the server."""
    from opensession.daemon.scope import UploadScope
    from opensession.daemon.watcher import watch_roots

    settings = _load()
    scope = UploadScope.from_settings(settings)
    roots = watch_roots(settings.custom_paths)
    report = {
        "watch": [{"path": str(root.path), "exists": root.path.is_dir()} for root in roots],
        "repos": [str(repo) for repo in scope.repos],
        "all_repos": scope.all_repos,
        "private": settings.daemon_private,
        "server": settings.server_url or None,
    }
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo("watches:")
    for root in report["watch"]:
        click.echo(f"  {root['path']}" + ("" if root["exists"] else "  (not there yet)"))
    click.echo(_uploading_line(settings))


@daemon.command("enable-hook")
@click.option("--agent", type=click.Choice(["claude-code"]), required=True, help=_AGENT_HELP)
@click.option("--dry-run", is_flag=True, help="Print the change to the settings; write nothing.")
def enable_hook(agent: str, dry_run: bool) -> None:
    """Add a hook to the agent's user settings (Claude Code: ~/.claude/settings.json, or
    $CLAUDE_CONFIG_DIR) that runs 'opensession daemon stream-push --agent AGENT' at the end of
    each turn and sub-agent, so new events reach the index and the server at once. A backup of
    the file is kept beside it; enabling twice changes nothing."""
    from opensession.daemon.hooks import enable_change

    _apply_hook_change(lambda: enable_change(agent), dry_run, "enabled")


@daemon.command("disable-hook")
@click.option("--agent", type=click.Choice(["claude-code"]), required=True, help=_AGENT_HELP)
@click.option("--dry-run", is_flag=True, help="Print the change to the settings; write nothing.")
def disable_hook(agent: str, dry_run: bool) -> None:
    """Remove the stream-push hooks from the agent's settings (other hooks stay), keeping a
    backup of the file."""
    from opensession.daemon.hooks import disable_change

    _apply_hook_change(lambda: disable_change(agent), dry_run, "disabled")


def _apply_hook_change(make: Callable[[], HookChange], dry_run: bool, verb: str) -> None:
    from opensession.daemon.hooks import HookError, apply_change

    try:
        change = make()
    except HookError as exc:
        raise click.ClickException(str(exc)) from None
    if not change.changed:
        click.echo(f"already {verb}: {change.path} unchanged")
        return
    if dry_run:
        click.echo(change.diff(), nl=False)
        click.echo(f"dry run: {change.path} not written")
        return
    try:
        backup = apply_change(change)
    except OSError as exc:
        raise click.ClickException(f"{change.path}: cannot be written ({exc})") from None
    click.echo(f"hook {verb} in {change.path}" + (f" (backup: {backup})" if backup else ""))


@daemon.command("stream-push")
@click.option("--agent", type=click.Choice(["claude-code"]), required=True, help=_AGENT_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
def stream_push(agent: str, as_json: bool) -> None:
    """Hook target: read the agent hook's JSON on stdin (it names the session log) and push
    the log's new events: handed to the running daemon, which reads on and uploads at once;
    indexed and uploaded here when no daemon runs. Prints nothing unless --json."""
    from opensession.daemon.stream_push import HookPayloadError, read_payload
    from opensession.daemon.stream_push import stream_push as push

    try:
        payload = read_payload(sys.stdin.buffer.read())
    except HookPayloadError as exc:
        raise click.ClickException(str(exc)) from None
    outcome = push(agent, payload, _files())
    if as_json:
        click.echo(orjson.dumps(outcome, option=orjson.OPT_INDENT_2).decode())


def _files() -> DaemonFiles:
    from opensession.daemon.process import DaemonFiles

    return DaemonFiles.default()


def _load() -> Settings:
    from opensession.config.settings import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _save_selection(settings: Settings, repos: tuple[Path, ...], all_repos: bool) -> Settings:
    """Save the selection (each path widened to its git repository) in the config file."""
    from dataclasses import replace

    from opensession.config.settings import ConfigError, save_settings
    from opensession.localdb.store import find_repo_root

    chosen = [find_repo_root(path.resolve()) or path.resolve() for path in repos]
    settings = replace(settings, daemon_repos=chosen, daemon_all_repos=all_repos)
    try:
        save_settings(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return settings


def _uploading_line(settings: Settings) -> str:
    from opensession.daemon.scope import UploadScope

    scope = UploadScope.from_settings(settings)
    if not settings.server_url:
        return (
            "uploading nothing: no server connected "
            "('opensession account connect --server URL --api-key KEY')"
        )
    if scope.empty:
        return (
            f"uploading nothing to {settings.server_url}: no repositories selected "
            "('opensession daemon select --repo PATH' or '--all')"
        )
    visibility = "private" if settings.daemon_private else "public"
    return f"uploading sessions of {scope.describe()} to {settings.server_url} ({visibility})"


def _health_report() -> dict[str, Any]:
    """The health file of the running daemon, with its live uptime and queue depth."""
    from opensession.daemon.process import read_health, running_pid

    files = _files()
    pid = running_pid(files)
    if pid is None:
        return {"running": False, "pid": None, "queue_depth": _queue_depth()}
    recorded = read_health(files) or {}
    started = recorded.pop("started_at_unix", None)
    recorded.pop("pid", None)
    uptime = round(time.time() - started, 1) if isinstance(started, (int, float)) else None
    return {
        "running": True,
        "pid": pid,
        "uptime_seconds": uptime,
        **recorded,
        "queue_depth": _queue_depth(),
    }


def _queue_depth() -> int:
    from opensession.cli.common import open_index
    from opensession.daemon.queue import UploadQueue

    with open_index() as index:
        return UploadQueue(index.db).depth()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
