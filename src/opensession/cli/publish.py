"""``opensession publish``: share a session with the team's server or in the repository.

Every session is sanitized (secrets redacted) before anything leaves the machine; ``--dry-run``
shows what would be sent and what was redacted without sending anything.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

if TYPE_CHECKING:
    from opensession.config.settings import Settings
    from opensession.gitnative.repo import GitRepo
    from opensession.hail.sanitize import RedactionReport
    from opensession.localdb.store import SyncState
    from opensession.publishing import PreparedSession

UPLOAD_ALL_REMOVED = (
    "'publish upload-all' was removed: publish sessions one at a time with "
    "'opensession publish upload <file>' (or HEAD, HEAD~N, a session id), or let the daemon "
    "upload them as they change ('opensession daemon start')"
)
NOT_CONNECTED = (
    "no server connected: run 'opensession account connect --server URL --api-key KEY', "
    "or store the session in this repository with 'opensession publish upload FILE_OR_REF --git'"
)


@click.group()
def publish() -> None:
    """Share sessions: upload them to the team's server, or store them on the
    opensession/sessions branch of the current git repository (--git)."""


@publish.command("upload")
@click.argument("ref", metavar="FILE_OR_REF")
@click.option(
    "--git",
    "to_git",
    is_flag=True,
    help="Store the session on the opensession/sessions branch of the current repository "
    "instead of uploading it (the working tree and index are not touched).",
)
@click.option("--push", is_flag=True, help="With --git: push the branch afterwards.")
@click.option("--remote", metavar="NAME", help="With --push: the remote to push to [origin].")
@click.option("--dry-run", is_flag=True, help="Show what would be sent and redacted; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("--private", is_flag=True, help="Upload the session as private (server only).")
def upload(
    ref: str,
    to_git: bool,
    push: bool,
    remote: str | None,
    dry_run: bool,
    as_json: bool,
    private: bool,
) -> None:
    """Publish the session FILE_OR_REF: a file path, a session id or unique prefix, or
    HEAD / HEAD~N (as for 'opensession show').

    Secrets are redacted first (unless the config's privacy.redact_secrets is false), and home
    directories masked when privacy.mask_home_paths is on. By default the session goes to the
    server connected with 'opensession account connect'; --git stores it in the current git
    repository instead.
    """
    if push and not to_git:
        raise click.UsageError("--push only applies with --git")
    if remote is not None and not push:
        raise click.UsageError("--remote only applies with --push")
    if private and to_git:
        raise click.UsageError("--private only applies to server uploads, not --git")
    from opensession.config.settings import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    prepared = _prepare(ref, settings)
    if to_git:
        repo = _current_repo()
        if dry_run:
            _print_dry_run(prepared, f"git {repo.root} branch opensession/sessions", as_json)
            return
        _store_in_git(prepared, repo, (remote or "origin") if push else None, as_json)
        return
    if dry_run:
        _print_dry_run(prepared, settings.server_url or "no server connected", as_json)
        return
    if not settings.server_url:
        raise click.ClickException(NOT_CONNECTED)
    visibility = "private" if private else "public"
    _upload_to_server(prepared, settings.server_url, settings.api_key, visibility, as_json)


@publish.command("upload-all", hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def upload_all(args: tuple[str, ...]) -> None:
    """Removed: says what replaces it."""
    click.echo(f"Error: {UPLOAD_ALL_REMOVED}", err=True)
    sys.exit(2)


def _prepare(ref: str, settings: Settings) -> PreparedSession:
    """The session ``ref`` names, sanitized as the config's privacy settings say."""
    from opensession.cli.common import open_index
    from opensession.localdb.refs import SessionRefError, load_session, resolve_session_ref
    from opensession.publishing import ExcludedProjectError, prepare_session

    try:
        with open_index() as index:
            resolved = resolve_session_ref(index, ref)
        return prepare_session(load_session(resolved), settings)
    except (SessionRefError, ExcludedProjectError) as exc:
        raise click.ClickException(str(exc)) from None


def _current_repo() -> GitRepo:
    """The git repository of the working directory; a one-line error when there is none."""
    from opensession.gitnative.repo import GitError, GitRepo

    try:
        return GitRepo.discover(Path.cwd())
    except GitError as exc:
        raise click.ClickException(str(exc)) from None


def _store_in_git(
    prepared: PreparedSession, repo: GitRepo, remote: str | None, as_json: bool
) -> None:
    """Commit the session onto the sessions branch, push it to ``remote`` when given, and say
    what happened."""
    from opensession.gitnative.repo import GitError
    from opensession.publishing import store_in_git

    try:
        outcome = store_in_git(prepared, repo, remote)
    except (GitError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    _record(prepared, "in_git", None)
    if as_json:
        click.echo(orjson.dumps(outcome, option=orjson.OPT_INDENT_2).decode())
        return
    verb = "stored" if outcome["changed"] else "already stored"
    click.echo(
        f"{verb} {outcome['session_id']} on {outcome['branch']} at {outcome['commit'][:12]} "
        f"({repo.root})"
    )
    if remote is not None:
        click.echo(f"pushed {outcome['branch']} to {remote}")
    click.echo(_redaction_line(prepared.report))


def _upload_to_server(
    prepared: PreparedSession, server_url: str, api_key: str, visibility: str, as_json: bool
) -> None:
    """Upload the session and say where it is."""
    from opensession.client import ClientError
    from opensession.publishing import upload_to_server

    try:
        outcome = upload_to_server(prepared, server_url, api_key, visibility=visibility)
    except (ClientError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    _record(prepared, "uploaded", outcome["id"])
    if as_json:
        click.echo(orjson.dumps(outcome, option=orjson.OPT_INDENT_2).decode())
        return
    verb = "uploaded" if outcome["created"] else "updated"
    click.echo(f"{verb} {outcome['session_id']} ({visibility}): {outcome['url']}")
    click.echo(_redaction_line(prepared.report))


def _record(prepared: PreparedSession, state: SyncState, server_id: str | None) -> None:
    """Note the new sync state in the local index when the session is indexed."""
    from opensession.cli.common import open_index
    from opensession.publishing import record_sync

    with open_index() as index:
        record_sync(index, prepared.session.session_id, state, server_id)


def _print_dry_run(prepared: PreparedSession, destination: str, as_json: bool) -> None:
    """What would be sent where, and what was redacted; nothing is sent."""
    session = prepared.session
    summary = {
        "session_id": session.session_id,
        "title": session.context.title,
        "tool": session.agent.tool,
        "events": len(session.events),
        "bytes": len(prepared.body),
        "destination": destination,
        "redactions": prepared.report.counts,
        "sent": False,
    }
    if as_json:
        click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(f"dry run: nothing sent to {destination}")
    click.echo(f"  session      {session.session_id}")
    click.echo(f"  title        {session.context.title or '-'}")
    click.echo(f"  tool         {session.agent.tool}")
    click.echo(f"  events       {summary['events']}")
    click.echo(f"  size         {summary['bytes']} bytes")
    click.echo(_redaction_line(prepared.report))


def _redaction_line(report: RedactionReport) -> str:
    """``redacted 3: anthropic_api_key 1, env_secret 2`` or ``redacted nothing``."""
    if not report.total:
        return "redacted nothing"
    counts = ", ".join(f"{name} {count}" for name, count in sorted(report.counts.items()))
    return f"redacted {report.total}: {counts}"
