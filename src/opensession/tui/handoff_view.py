"""The handoff screen: the handoff of the selected sessions as Markdown, its validation, and
saving it as a git artifact, as ``opensession session handoff [--validate] | save`` do.

Reading the sessions and saving run in threads; each failure is one line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static
from textual.worker import get_current_worker

from opensession.gitnative.repo import GitError
from opensession.hail.model import Session
from opensession.hail.sanitize import sanitize_session
from opensession.handoff.artifacts import ArtifactError, save_artifact, source_of
from opensession.handoff.builder import build_summary
from opensession.handoff.merge import merge_summaries
from opensession.handoff.render import human_report, render_markdown
from opensession.handoff.schema import SessionSummary
from opensession.handoff.selection import load_sessions
from opensession.handoff.validation import validate_summary
from opensession.localdb.refs import ResolvedSession, SessionRefError
from opensession.localdb.store import SessionRow
from opensession.tui.publish_view import repository_for


def summaries_of(sessions: Sequence[Session]) -> list[SessionSummary]:
    """The handoff of each session, oldest first (as the CLI merges them)."""
    return merge_summaries(build_summary(one) for one in sessions).summaries


class HandoffScreen(Screen[None]):
    """The merged handoff of ``rows``: read, shown, validated (``v``) and saved (``s``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "back", "back", tooltip="Back"),
        Binding("v", "validate", "validate", tooltip="Validate the handoff and show the findings"),
        Binding(
            "s",
            "save",
            "save artifact",
            tooltip="Save it as a git artifact (refs/opensession/handoff/artifacts/)",
        ),
    ]
    DEFAULT_CSS = """
    HandoffScreen #handoff-title { text-style: bold; height: 1; }
    HandoffScreen #handoff-findings { display: none; max-height: 8; background: $panel; }
    HandoffScreen #handoff-body { height: 1fr; }
    HandoffScreen #handoff-status { height: auto; max-height: 6; background: $panel; }
    HandoffScreen #handoff-status.-error { color: $error; }
    """

    def __init__(self, rows: list[SessionRow]) -> None:
        super().__init__()
        self.rows = rows
        self.sessions: list[Session] = []
        self.summaries: list[SessionSummary] = []
        self.markdown = ""
        self.busy = False

    def compose(self) -> ComposeResult:
        count = len(self.rows)
        yield Static(f"Handoff · {count} session{'s' if count != 1 else ''}", id="handoff-title")
        yield Static(id="handoff-findings", markup=False)
        with VerticalScroll(id="handoff-body"):
            yield Markdown(id="handoff-markdown")
        yield Static("reading the sessions …", id="handoff-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#handoff-body").loading = True
        self._build()

    @work(thread=True, exclusive=True, group="build")
    def _build(self) -> None:
        """Read the sessions and build their merged handoff."""
        resolved = [ResolvedSession(r.id, Path(r.source_path), r.tool) for r in self.rows]
        try:
            sessions = load_sessions(resolved)
        except SessionRefError as exc:
            self._from_thread(self._show_failure, str(exc))
            return
        summaries = summaries_of(sessions)
        markdown = render_markdown(merge_summaries(summaries))
        self._from_thread(self._show_handoff, sessions, summaries, markdown)

    def _from_thread(self, callback: Callable[..., None], *args: object) -> None:
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(callback, *args)

    def _show_failure(self, message: str) -> None:
        self.query_one("#handoff-body").loading = False
        self._say(message, error=True)

    def _show_handoff(
        self, sessions: list[Session], summaries: list[SessionSummary], markdown: str
    ) -> None:
        self.sessions, self.summaries, self.markdown = sessions, summaries, markdown
        self.query_one("#handoff-body").loading = False
        self.query_one("#handoff-markdown", Markdown).update(markdown)
        self._say("v validates · s saves it as a git artifact (secrets redacted first)")

    def _say(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#handoff-status", Static)
        status.update(message)
        status.set_class(error, "-error")

    def _ready(self) -> bool:
        if self.busy:
            self._say("still saving: wait for it to finish")
        elif not self.summaries:
            self._say("the handoff is not built yet")
        return bool(self.summaries) and not self.busy

    # --- actions ---

    def action_back(self) -> None:
        self.dismiss()

    def action_validate(self) -> None:
        """Check each session's handoff and show the findings."""
        if not self._ready():
            return
        reports = [validate_summary(summary) for summary in self.summaries]
        findings = self.query_one("#handoff-findings", Static)
        findings.update(Text(human_report(reports).rstrip("\n")))
        findings.display = True
        errors = sum(1 for r in reports for f in r.findings if f.severity == "error")
        warnings = sum(1 for r in reports for f in r.findings if f.severity == "warning")
        verdict = "failed" if errors else "passed"
        self._say(f"validation {verdict}: {errors} errors, {warnings} warnings", error=bool(errors))

    def action_save(self) -> None:
        """Save the handoff as a git artifact in the sessions' repository."""
        if not self._ready():
            return
        self.busy = True
        self._say("saving …")
        self._save()

    @work(thread=True, exclusive=True, group="save")
    def _save(self) -> None:
        cwd = next((row.cwd for row in self.rows if row.cwd), None)
        try:
            repo = repository_for(cwd)
            redacted = [sanitize_session(one)[0] for one in self.sessions]
            sources = [
                source_of(original, row.source_path)
                for original, row in zip(self.sessions, self.rows, strict=True)
            ]
            artifact = save_artifact(repo, summaries_of(redacted), sources)
        except (GitError, ArtifactError) as exc:
            self._from_thread(self._saved, str(exc), True)
            return
        count = len(artifact.sources)
        message = (
            f"saved {artifact.artifact_id} ({count} session{'s' if count != 1 else ''}) "
            f"as {artifact.ref} in {repo.root}"
        )
        self._from_thread(self._saved, message, False)

    def _saved(self, message: str, error: bool) -> None:
        self.busy = False
        self._say(message, error=error)
