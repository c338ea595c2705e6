"""``opensession session handoff``: hand sessions to the next agent, and keep handoffs in git."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from opensession.cli.common import open_index

if TYPE_CHECKING:
    from opensession.gitnative.repo import GitRepo
    from opensession.hail.model import Session
    from opensession.handoff.artifacts import Artifact, SourceSession
    from opensession.handoff.schema import SessionSummary, ValidationReport

_T = TypeVar("_T")

HANDOFF_FORMATS = ("md", "json", "jsonl", "stream", "hail")
_FILES = "handoff.files"


@click.group()
def session() -> None:
    """Work with sessions: hand them off to the next agent."""


class _HandoffGroup(click.Group):
    """``handoff [FILES]… [OPTIONS]`` builds a handoff; ``handoff save|artifact …`` are
    subcommands. Anything else than a subcommand name first is the build's own arguments."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in self.commands:
            return super().parse_args(ctx, args)
        ctx.allow_interspersed_args = True
        ctx.meta[_FILES] = click.Command.parse_args(self, ctx, args)
        ctx.args = []
        return []


def _selection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        (
            click.option(
                "--last",
                metavar="[N|HEAD~N]",
                is_flag=False,
                flag_value="1",
                help="The newest session, or the N newest (HEAD~N: the same N), in the current "
                "git repository when run inside one.",
            ),
            click.option("--claude", multiple=True, metavar="REF", help="A Claude Code session."),
            click.option("--gemini", multiple=True, metavar="REF", help="A Gemini CLI session."),
            click.option(
                "--tool", "tools", multiple=True, metavar='"NAME REF"', help='e.g. "codex HEAD~1".'
            ),
        )
    ):
        command = option(command)
    return command


@session.group(
    cls=_HandoffGroup,
    invoke_without_command=True,
    subcommand_metavar="[FILES]... | save | artifact",
)
@_selection_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(HANDOFF_FORMATS),
    default="md",
    show_default=True,
    help="Markdown; a JSON array of summaries; one summary per line; stream envelopes "
    "(NDJSON); or the raw sessions as HAIL JSONL.",
)
@click.option("--validate", is_flag=True, help="Check each summary; print the report (exit 0).")
@click.option("--strict", is_flag=True, help="With --validate: exit 1 on error-level findings.")
@click.option(
    "--populate",
    metavar="PROVIDER[:MODEL]",
    help="Pipe the handoff JSON to claude, codex, opencode, gemini or amp and ask it to draft "
    "HANDOFF.md (secrets are redacted first).",
)
@click.pass_context
def handoff(
    ctx: click.Context,
    last: str | None,
    claude: tuple[str, ...],
    gemini: tuple[str, ...],
    tools: tuple[str, ...],
    output_format: str,
    validate: bool,
    strict: bool,
    populate: str | None,
) -> None:
    """Hand sessions to the next agent: a v2 execution contract of what was asked, done,
    verified, failed and left, in order, every claim pointing at its event.

    Name sessions by FILES (paths or session ids), --last [N|HEAD~N], --claude REF, --gemini
    REF or --tool "NAME REF" (REF: HEAD, HEAD~N, an id). Several sessions are merged oldest
    first. Subcommands: 'save' stores the handoff as a git ref artifact; 'artifact' lists,
    shows, refreshes and renders them.

    \b
    Exit codes: 0 done (also with --validate findings); 1 bad reference, unreadable session,
    provider failure, or --validate --strict with error-level findings.
    """
    if ctx.invoked_subcommand is not None:
        return
    files: list[str] = ctx.meta.get(_FILES, [])
    machine = output_format in ("stream", "jsonl")
    try:
        gathered = _gather(files, last, claude, gemini, tools)
    except click.ClickException as exc:
        if machine:
            _echo_line(_diagnostic(exc.format_message()))
        raise
    sessions = [s for _, s in gathered]
    if output_format == "hail" and not populate:
        from opensession.hail.jsonl import dumps_session

        for one in sessions:
            sys.stdout.buffer.write(dumps_session(one))
        sys.stdout.buffer.flush()
        return
    if populate:
        _populate(populate, sessions)
        return
    summaries = _summaries(sessions)
    reports = _reports(summaries) if validate or strict else None
    _print_handoff(summaries, reports, output_format)
    if reports is not None:
        from opensession.handoff.render import human_report

        click.echo(human_report(reports), err=True, nl=False)
        if output_format == "md":
            click.echo(_dumps([r.to_json() for r in reports]), err=True)
        errors = sum(1 for r in reports for f in r.findings if f.severity == "error")
        if strict and errors:
            raise click.ClickException(f"handoff validation failed: {errors} error finding(s)")


def _gather(
    files: Sequence[str],
    last: str | None,
    claude: Sequence[str],
    gemini: Sequence[str],
    tools: Sequence[str],
) -> list[tuple[Any, Session]]:
    """The named sessions, read from their sources (refreshing the index first when a
    reference reads it, so HEAD is the session just finished)."""
    from opensession.handoff.selection import load_sessions, select_sessions, uses_index
    from opensession.localdb.refs import SessionRefError

    try:
        with open_index() as index:
            if uses_index(last, claude, gemini, tools):
                _refresh(index)
            selected = select_sessions(
                index, files=files, last=last, claude=claude, gemini=gemini, tools=tools
            )
        return list(zip(selected, load_sessions(selected), strict=True))
    except SessionRefError as exc:
        raise click.ClickException(str(exc)) from None


def _refresh(index: Any) -> None:
    from opensession.config.settings import ConfigError, load_settings
    from opensession.localdb.indexer import index_sources
    from opensession.parsers.discovery import discover

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    index_sources(index, discover(settings.custom_paths).sources)


def _summaries(sessions: Sequence[Session]) -> list[SessionSummary]:
    from opensession.handoff.builder import build_summary
    from opensession.handoff.merge import merge_summaries

    return merge_summaries(build_summary(one) for one in sessions).summaries


def _reports(summaries: Sequence[SessionSummary]) -> list[ValidationReport]:
    from opensession.handoff.validation import validate_summary

    return [validate_summary(summary) for summary in summaries]


def _print_handoff(
    summaries: Sequence[SessionSummary],
    reports: Sequence[ValidationReport] | None,
    output_format: str,
) -> None:
    from opensession.handoff.merge import merge_summaries
    from opensession.handoff.render import render_markdown, stream_envelopes

    if output_format == "md":
        click.echo(render_markdown(merge_summaries(summaries)), nl=False)
        return
    if output_format == "stream":
        for envelope in stream_envelopes(summaries, reports):
            _echo_line(envelope)
        return
    documents = []
    for number, summary in enumerate(summaries):
        document = summary.to_json()
        if reports is not None:
            document["validation"] = reports[number].to_json()
        documents.append(document)
    if output_format == "jsonl":
        for document in documents:
            _echo_line(document)
    else:
        click.echo(_dumps(documents))


def _populate(spec: str, sessions: Sequence[Session]) -> None:
    from opensession.handoff.merge import merge_summaries
    from opensession.handoff.populate import PopulateError, parse_provider, populate

    try:
        parse_provider(spec)
        merged = merge_summaries(_summaries(_redacted(sessions)))
        populate(spec, _dumps(merged.to_json()).encode())
    except PopulateError as exc:
        raise click.ClickException(str(exc)) from None


def _redacted(sessions: Sequence[Session]) -> list[Session]:
    """The sessions with secrets redacted: what leaves the machine or may be pushed."""
    from opensession.hail.sanitize import sanitize_session

    return [sanitize_session(one)[0] for one in sessions]


# --- artifacts ---


@handoff.command()
@click.argument("files", nargs=-1)
@_selection_options
@click.option(
    "--payload-format",
    type=click.Choice(("json", "jsonl")),
    default="json",
    show_default=True,
    help="The merged handoff as one JSON document, or one session summary per line.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the artifact's id, ref and sources.")
def save(
    files: tuple[str, ...],
    last: str | None,
    claude: tuple[str, ...],
    gemini: tuple[str, ...],
    tools: tuple[str, ...],
    payload_format: str,
    as_json: bool,
) -> None:
    """Save the merged handoff of the named sessions as a git ref artifact
    (refs/opensession/handoff/artifacts/<id>) in the current repository.

    Secrets are redacted first. The working tree and index are not touched. Share artifacts
    with: git push origin 'refs/opensession/*:refs/opensession/*'
    """
    from opensession.handoff.artifacts import save_artifact, source_of

    repo = _repo()
    gathered = _gather(files, last, claude, gemini, tools)
    sessions = _redacted([s for _, s in gathered])
    sources = [source_of(original, str(resolved.source_path)) for resolved, original in gathered]
    artifact = _git(
        lambda: save_artifact(repo, _summaries(sessions), sources, payload_format)  # type: ignore[arg-type]
    )
    if as_json:
        click.echo(_dumps(_artifact_json(artifact, None)))
        return
    count = len(artifact.sources)
    click.echo(f"saved {artifact.artifact_id} ({count} session{'s' if count != 1 else ''})")
    click.echo(f"  ref {artifact.ref}")
    click.echo(
        f"  render: opensession session handoff artifact render-md {artifact.artifact_id} "
        "--output HANDOFF.md"
    )


@handoff.group()
def artifact() -> None:
    """Handoff artifacts stored as git refs: list, show, refresh, render-md."""


@artifact.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json: bool) -> None:
    """The artifacts of the current repository, newest first, each fresh or stale (a source
    session changed since it was saved) or with a source gone."""
    from opensession.handoff.artifacts import freshness, list_artifacts, load_source, overall

    repo = _repo()
    artifacts = _git(lambda: list_artifacts(repo))
    rows = [(a, overall(freshness(a, load_source))) for a in artifacts]
    if as_json:
        click.echo(_dumps([_artifact_json(a, state) for a, state in rows]))
        return
    if not rows:
        click.echo(
            "no handoff artifacts in this repository; create one with "
            "'opensession session handoff save --last'",
            err=True,
        )
    for one, state in rows:
        count = len(one.sources)
        objective = next((s.objective for s in one.handoff.summaries if s.objective), "")
        click.echo(
            f"{one.artifact_id}  {state:<14} {count} session{'s' if count != 1 else ' '}  "
            f"{objective.splitlines()[0][:60] if objective else ''}"
        )


@artifact.command()
@click.argument("artifact_id", metavar="ID")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("json", "md")),
    default="json",
    show_default=True,
    help="The stored payload as JSON (with the manifest), or rendered as Markdown.",
)
def show(artifact_id: str, output_format: str) -> None:
    """Show the artifact ID (an id or its full ref): its sources, their freshness and the
    stored handoff."""
    from opensession.handoff.artifacts import freshness, load_source, overall
    from opensession.handoff.render import render_markdown

    one = _read(artifact_id)
    if output_format == "md":
        click.echo(render_markdown(one.handoff), nl=False)
        return
    states = freshness(one, load_source)
    document = _artifact_json(one, overall(states))
    for source in document["sources"]:
        source["state"] = states[source["session_id"]]
    document["handoff"] = one.handoff.to_json()
    click.echo(_dumps(document))


@artifact.command()
@click.argument("artifact_id", metavar="ID")
def refresh(artifact_id: str) -> None:
    """Rebuild the artifact ID from its source sessions as they are now: a new commit on its
    ref with the old one as parent (history kept). Nothing happens when it is fresh."""
    from opensession.handoff.artifacts import (
        freshness,
        load_source,
        overall,
        refresh_artifact,
        source_of,
    )

    repo = _repo()
    current = _read(artifact_id, repo)
    states = freshness(current, load_source)
    gone = [session_id for session_id, state in states.items() if state == "source_missing"]
    if gone:
        raise click.ClickException(
            f"cannot refresh {current.artifact_id}: source session(s) gone: {', '.join(gone)}"
        )
    if overall(states) == "fresh":
        click.echo(f"{current.artifact_id} is fresh: no source session changed")
        return
    sessions: list[Session] = []
    sources: list[SourceSession] = []
    for source in current.sources:
        loaded = load_source(source)
        assert loaded is not None  # checked above: no source is missing
        sessions.append(loaded)
        sources.append(source_of(loaded, source.source_path))
    summaries = _summaries(_redacted(sessions))
    updated = _git(lambda: refresh_artifact(repo, current.artifact_id, summaries, sources))
    click.echo(f"refreshed {updated.artifact_id} (version {updated.versions})")


@artifact.command(name="render-md")
@click.argument("artifact_id", metavar="ID")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (e.g. HANDOFF.md) instead of stdout.",
)
def render_md(artifact_id: str, output: Path | None) -> None:
    """Render the artifact ID as Markdown: HANDOFF.md is always derived from the artifact."""
    from opensession.handoff.render import render_markdown

    text = render_markdown(_read(artifact_id).handoff)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)


def _repo() -> GitRepo:
    from opensession.gitnative.repo import GitError, GitRepo

    try:
        return GitRepo.discover(Path.cwd())
    except GitError as exc:
        raise click.ClickException(str(exc)) from None


def _read(artifact_id: str, repo: GitRepo | None = None) -> Artifact:
    from opensession.handoff.artifacts import ArtifactError, read_artifact

    repo = repo or _repo()
    try:
        return _git(lambda: read_artifact(repo, artifact_id))
    except ArtifactError as exc:
        raise click.ClickException(str(exc)) from None


def _git(action: Callable[[], _T]) -> _T:
    from opensession.gitnative.repo import GitError
    from opensession.handoff.artifacts import ArtifactError

    try:
        return action()
    except (GitError, ArtifactError) as exc:
        raise click.ClickException(str(exc)) from None


def _artifact_json(one: Artifact, state: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "artifact_id": one.artifact_id,
        "ref": one.ref,
        "commit": one.commit,
        "created_at": one.created_at,
        "payload_format": one.payload_format,
        "versions": one.versions,
        "sources": [source.to_json() for source in one.sources],
    }
    if state is not None:
        document["state"] = state
    return document


def _dumps(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _echo_line(value: object) -> None:
    click.echo(orjson.dumps(value).decode())


def _diagnostic(message: str) -> dict[str, Any]:
    from opensession.handoff.render import diagnostic

    return diagnostic(message)
