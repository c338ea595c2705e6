"""The publish screen: what would leave the machine (the redaction preview of ``opensession
publish upload --dry-run``), then ``u`` uploads it to the server or ``g`` stores it on the
repository's ``opensession/sessions`` branch. Also the copy actions the detail screen shares.

Reading, sanitizing, uploading and git all run in threads; each failure is one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from opensession.client import ClientError
from opensession.config.settings import ConfigError, Settings, load_settings
from opensession.gitnative.repo import GitError, GitRepo
from opensession.gitnative.session_branch import SESSIONS_BRANCH
from opensession.hail.sanitize import RedactionReport
from opensession.localdb.refs import ResolvedSession, SessionRefError, load_session
from opensession.localdb.store import LocalIndex, SessionNotFoundError, SessionRow, SyncState
from opensession.publishing import (
    ExcludedProjectError,
    PreparedSession,
    prepare_session,
    record_sync,
    share_url,
    store_in_git,
    upload_to_server,
)

NOT_CONNECTED = (
    "no server connected: set its URL and API key in Settings, or run "
    "'opensession account connect --server URL --api-key KEY'"
)
SYNC_LABELS: dict[str, str] = {"local": "local only", "uploaded": "uploaded", "in_git": "in git"}


def repository_for(cwd: str | None) -> GitRepo:
    """The git repository holding a session's working directory when that is still on disk,
    else the current directory's; GitError (one line saying what to do) when there is none."""
    return GitRepo.discover(Path(cwd) if cwd and _on_disk(cwd) else Path.cwd())


def _on_disk(folder: str | None) -> bool:
    """Whether ``folder`` names a folder on this machine."""
    if not folder:
        return False
    return Path(folder).is_dir()


def redaction_line(report: RedactionReport) -> str:
    """``redacted 3: anthropic_api_key 1, env_secret 2`` or ``redacted nothing``."""
    if not report.total:
        return "redacted nothing"
    counts = ", ".join(f"{name} {count}" for name, count in sorted(report.counts.items()))
    return f"redacted {report.total}: {counts}"


# --- copy actions (detail and publish screens) ---


def copy_session_id(screen: Screen[Any], row: SessionRow) -> None:
    """Copy the session's id to the clipboard and say so."""
    screen.app.copy_to_clipboard(row.id)
    screen.notify(f"copied the session id {row.id}", timeout=3)


def share_link(row: SessionRow) -> tuple[str | None, str]:
    """The share URL of an uploaded session (its sync state read again from the index, the
    server from the config) and what to tell the user; the URL is None when there is none.
    Reads files: call it from a thread."""
    try:
        with LocalIndex.open() as index:
            row = index.get_session(row.id)
    except SessionNotFoundError:
        pass  # a session opened from a file that was never indexed: as it was given
    if row.sync_state != "uploaded" or not row.server_id:
        return None, f"{row.id} is not uploaded: publish it first (u on the publish screen)"
    try:
        settings = load_settings()
    except ConfigError as exc:
        return None, str(exc)
    if not settings.server_url:
        return None, NOT_CONNECTED
    url = share_url(settings.server_url, row.server_id)
    return url, f"copied {url}"


def copy_share_url(screen: Screen[Any], row: SessionRow) -> None:
    """Copy the session's share URL, or say why there is none (in a thread: it reads the
    index and the config)."""

    def look_up() -> None:
        url, message = share_link(row)
        if not get_current_worker().is_cancelled:
            screen.app.call_from_thread(_copied, screen, url, message)

    screen.run_worker(look_up, thread=True, group="copy", exclusive=True)


def _copied(screen: Screen[Any], url: str | None, message: str) -> None:
    if url is not None:
        screen.app.copy_to_clipboard(url)
    screen.notify(message, severity="information" if url else "warning", timeout=4)


# --- the screen ---


@dataclass(frozen=True)
class Preview:
    """What publishing would send, and where it could go."""

    prepared: PreparedSession
    settings: Settings
    repo: GitRepo | None
    repo_error: str


class PublishScreen(Screen[None]):
    """The redaction preview of one session, and its upload to the server or to git."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "back", "back", tooltip="Back"),
        Binding("u", "upload", "upload", tooltip="Upload the redacted session to the server"),
        Binding(
            "g",
            "store_in_git",
            "store in git",
            tooltip="Store the redacted session on the opensession/sessions branch",
        ),
        Binding("c", "copy_id", "copy id", tooltip="Copy the session id"),
        Binding("C", "copy_url", "copy URL", tooltip="Copy the share URL (once uploaded)"),
    ]
    DEFAULT_CSS = """
    PublishScreen #publish-title { text-style: bold; height: 1; }
    PublishScreen #publish-body { height: 1fr; }
    PublishScreen #publish-status { height: auto; max-height: 6; background: $panel; }
    PublishScreen #publish-status.-error { color: $error; }
    """

    def __init__(self, row: SessionRow) -> None:
        super().__init__()
        self.row = row
        self.preview: Preview | None = None
        self.failure: str | None = None
        """Why the session cannot be published at all (unreadable, excluded, bad config)."""
        self.busy = False

    def compose(self) -> ComposeResult:
        # The title as indexed is not sanitized yet: the preview below shows it redacted.
        yield Static(f"Publish · {self.row.id}", id="publish-title", markup=False)
        with VerticalScroll(id="publish-body"):
            yield Static(id="publish-preview")
        yield Static(
            "nothing leaves the machine until you press u (server) or g (git)",
            id="publish-status",
            markup=False,
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#publish-body").loading = True
        self._prepare()

    @work(thread=True, exclusive=True, group="prepare")
    def _prepare(self) -> None:
        """Read the session and sanitize it as the config's privacy settings say."""
        resolved = ResolvedSession(self.row.id, Path(self.row.source_path), self.row.tool)
        try:
            settings = load_settings()
            prepared = prepare_session(load_session(resolved), settings)
        except (SessionRefError, ExcludedProjectError, ConfigError) as exc:
            self._from_thread(self._show_failure, str(exc))
            return
        try:
            repo, repo_error = repository_for(self.row.cwd), ""
        except GitError as exc:
            repo, repo_error = None, str(exc)
        self._from_thread(self._show_preview, Preview(prepared, settings, repo, repo_error))

    def _from_thread(self, callback: Callable[..., None], *args: object) -> None:
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(callback, *args)

    def _show_failure(self, message: str) -> None:
        self.failure = message
        self.query_one("#publish-body").loading = False
        self.query_one("#publish-preview", Static).update(Text("nothing to publish", "dim"))
        self._say(message, error=True)

    def _show_preview(self, preview: Preview) -> None:
        self.preview = preview
        self.query_one("#publish-body").loading = False
        self._render_preview()

    def _render_preview(self) -> None:
        preview = self.preview
        if preview is None:
            return
        session = preview.prepared.session
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        report = preview.prepared.report
        server = preview.settings.server_url
        git = preview.repo_error
        if preview.repo is not None:
            git = f"{preview.repo.root}  branch {SESSIONS_BRANCH}  (g stores)"
            if not _on_disk(self.row.cwd):
                git += "; the session's own folder is not on this machine"
        rows: list[tuple[str, str | Text]] = [
            ("session", session.session_id),
            ("title", session.context.title or "-"),
            ("tool", session.agent.tool),
            ("events", str(len(session.events))),
            ("size", f"{len(preview.prepared.body):,} bytes"),
            ("redacted", Text(redaction_line(report), "yellow" if report.total else "")),
            ("server", f"{server}  (u uploads)" if server else NOT_CONNECTED),
            ("git", git),
            ("state", SYNC_LABELS.get(self.row.sync_state, self.row.sync_state)),
        ]
        for label, value in rows:
            grid.add_row(label, value)
        self.query_one("#publish-preview", Static).update(grid)

    def _say(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#publish-status", Static)
        status.update(message)
        status.set_class(error, "-error")

    def _ready(self) -> Preview | None:
        """The preview when the session can be published now; else says why not."""
        if self.busy:
            self._say("still publishing: wait for it to finish")
            return None
        if self.failure is not None:
            self._say(self.failure, error=True)
            return None
        if self.preview is None:
            self._say("still reading the session")
        return self.preview

    # --- actions ---

    def action_back(self) -> None:
        self.dismiss()

    def action_upload(self) -> None:
        preview = self._ready()
        if preview is None:
            return
        if not preview.settings.server_url:
            self._say(NOT_CONNECTED, error=True)
            return
        self.busy = True
        self._say(f"uploading to {preview.settings.server_url} …")
        self._upload(preview)

    @work(thread=True, exclusive=True, group="publish")
    def _upload(self, preview: Preview) -> None:
        settings = preview.settings
        try:
            outcome = upload_to_server(preview.prepared, settings.server_url, settings.api_key)
        except (ClientError, ValueError) as exc:
            self._from_thread(self._published, None, None, str(exc))
            return
        indexed = _record(self.row.id, "uploaded", outcome["id"])
        message = f"uploaded: {outcome['url']}" + ("" if indexed else " (not in the index)")
        self._from_thread(self._published, "uploaded", outcome["id"], message)

    def action_store_in_git(self) -> None:
        preview = self._ready()
        if preview is None:
            return
        if preview.repo is None:
            self._say(preview.repo_error, error=True)
            return
        self.busy = True
        self._say(f"storing on {SESSIONS_BRANCH} in {preview.repo.root} …")
        self._store(preview, preview.repo)

    @work(thread=True, exclusive=True, group="publish")
    def _store(self, preview: Preview, repo: GitRepo) -> None:
        try:
            outcome = store_in_git(preview.prepared, repo, None)
        except (GitError, ValueError) as exc:
            self._from_thread(self._published, None, None, str(exc))
            return
        _record(self.row.id, "in_git", None)
        verb = "stored" if outcome["changed"] else "already stored"
        message = f"{verb} on {outcome['branch']} at {outcome['commit'][:12]} ({repo.root})"
        self._from_thread(self._published, "in_git", None, message)

    def _published(self, state: SyncState | None, server_id: str | None, message: str) -> None:
        self.busy = False
        if state is None:
            self._say(message, error=True)
            return
        self.row = replace(self.row, sync_state=state, server_id=server_id)
        self._render_preview()
        report = self.preview.prepared.report if self.preview else RedactionReport()
        self._say(f"{message} · {redaction_line(report)}")

    def action_copy_id(self) -> None:
        copy_session_id(self, self.row)

    def action_copy_url(self) -> None:
        copy_share_url(self, self.row)


def _record(session_id: str, state: SyncState, server_id: str | None) -> bool:
    """Note the new sync state in the local index (opened in the calling thread: a SQLite
    connection belongs to one thread); False when the session is not indexed."""
    with LocalIndex.open() as index:
        return record_sync(index, session_id, state, server_id)
