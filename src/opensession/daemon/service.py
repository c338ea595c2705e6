"""The daemon's work: keep the local index current as the tools write, and upload the changed
sessions of the selected repositories to the connected server.

Two threads: the main one waits for file system events (and signals), re-indexes what changed
and queues uploads; the uploader sends what is due. Both sleep while nothing happens.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType

from opensession.config.settings import ConfigError, Settings, load_settings
from opensession.daemon.health import HealthRecord
from opensession.daemon.process import DaemonFiles, PidLock
from opensession.daemon.queue import QueuedUpload, UploadQueue
from opensession.daemon.scope import UploadScope
from opensession.daemon.uploads import queue_stale, send
from opensession.daemon.watcher import Watcher, WatchRoot, watch_roots
from opensession.localdb.indexer import index_sources
from opensession.localdb.store import LocalIndex
from opensession.parsers.discovery import SessionSource, discover

log = logging.getLogger("opensession.daemon")

SETTLE_SECONDS = 2.0
"""How long a session's log must stay quiet before it is uploaded (see UploadQueue.enqueue)."""
BATCH_SECONDS = 0.1
"""After the first event, how long to gather the rest of a burst before indexing."""
MISSING_ROOT_POLL_SECONDS = 2.0
"""How often folders that do not exist yet are looked for."""
IDLE_WAIT_SECONDS = 60.0
ERROR_PAUSE_SECONDS = 5.0
"""How long to wait after an unexpected error before trying again (no busy loop of errors)."""


class _StartupInterruptedError(Exception):
    """Raised from the start-up pass's progress callback to cut it short on SIGTERM."""


LOG_MAX_BYTES = 5_000_000
LOG_BACKUPS = 2
"""The log file is rotated at 5 MB, keeping two old ones (``daemon.log.1``, ``daemon.log.2``)."""
_LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def log_file_handler(path: Path, max_bytes: int = LOG_MAX_BYTES) -> logging.Handler:
    """A handler writing to ``path``, rotated so that a daemon running for months keeps at
    most ``(LOG_BACKUPS + 1) * max_bytes`` of log."""
    from logging.handlers import RotatingFileHandler

    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=LOG_BACKUPS)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    return handler


def configure_logging(log_file: Path | None = None) -> None:
    """Log lines with their time to ``log_file`` (rotated) or stderr; httpx's per-request
    lines left out."""
    handlers = [log_file_handler(log_file)] if log_file is not None else None
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT, handlers=handlers)
    logging.getLogger("httpx").setLevel(logging.WARNING)


class Daemon:
    """One daemon process. ``run`` blocks until SIGTERM/SIGINT (or ``stop``)."""

    def __init__(self, files: DaemonFiles, *, settle: float = SETTLE_SECONDS) -> None:
        self.files = files
        self.settle = settle
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._hook_called = threading.Event()
        self._lock = PidLock(files)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        self._lock.acquire()
        try:
            self._serve()
        finally:
            self._lock.release()
            log.info("stopped")

    def _serve(self) -> None:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._on_stop_signal)
        signal.signal(signal.SIGUSR1, self._on_wake_signal)
        settings = load_settings()
        health = HealthRecord(self.files.health)
        _record_settings(health, settings)
        index = LocalIndex.open()
        queue = UploadQueue(index.db)
        roots = watch_roots(settings.custom_paths)
        watcher = Watcher(roots, self._wake)
        uploader = Uploader(index.path, health, self._stopping)
        log.info("started (pid %d), index %s", os.getpid(), index.path)
        try:
            watcher.start()
            health.update(watched=_texts(watcher.watched), waiting_for=_texts(watcher.missing))
            try:
                self._index_everything(index, queue, settings, health)
            except _StartupInterruptedError:
                return
            uploader.start()
            failed = False
            while not self._stopping.is_set():
                self._wake.wait(MISSING_ROOT_POLL_SECONDS if watcher.missing else IDLE_WAIT_SECONDS)
                if self._stopping.is_set():
                    break
                if self._wake.is_set():
                    if not self._hook_called.is_set():
                        time.sleep(BATCH_SECONDS)
                    self._wake.clear()
                    self._hook_called.clear()
                try:
                    if failed:  # the changes of the failed round are lost: look at everything
                        self._index_everything(index, queue, load_settings(), health)
                        failed = False
                    if self._handle_changes(index, queue, watcher, health):
                        uploader.wake()
                except _StartupInterruptedError:
                    break
                except Exception as exc:  # the daemon outlives one bad round; the log says why
                    failed = True
                    log.exception("indexing the changes failed")
                    health.error(f"indexing the changes failed: {exc}")
                    self._stopping.wait(ERROR_PAUSE_SECONDS)
        finally:
            watcher.stop()
            if uploader.is_alive():
                uploader.wake()
                uploader.join(timeout=30)
            index.close()

    def _stop_requested(self, done: int, total: int) -> None:
        if self._stopping.is_set():
            raise _StartupInterruptedError

    def _on_stop_signal(self, number: int, frame: FrameType | None) -> None:
        log.info("stopping on %s", signal.Signals(number).name)
        self.stop()

    def _on_wake_signal(self, number: int, frame: FrameType | None) -> None:
        # A hook asked: the turn is over, nothing more is coming to batch with.
        self._hook_called.set()
        self._wake.set()

    def _index_everything(
        self, index: LocalIndex, queue: UploadQueue, settings: Settings, health: HealthRecord
    ) -> None:
        """The start-up pass: index every discovered source, then queue every session of the
        selection that the server does not have in its current version."""
        found = discover(settings.custom_paths)
        report = index_sources(index, found.sources, progress=self._stop_requested)
        log.info("%s", report.summary())
        health.update(last_index=report.to_json())
        self._queue_uploads(index, queue, settings, None, delay=0.0)

    def _handle_changes(
        self, index: LocalIndex, queue: UploadQueue, watcher: Watcher, health: HealthRecord
    ) -> bool:
        """Index what changed (events, folders that appeared, hook requests); queue the
        uploads. Returns whether anything was queued."""
        try:
            settings = load_settings()
        except ConfigError as exc:
            health.error(str(exc))
            log.error("%s", exc)
            return False
        _record_settings(health, settings)
        roots = watch_roots(settings.custom_paths)
        if [root.path for root in roots] != [root.path for root in watcher.roots]:
            log.info("watching %s now", ", ".join(str(root.path) for root in roots))
            watcher.set_roots(roots)
        appeared = watcher.appeared()
        if appeared:
            log.info("now watching %s", ", ".join(str(root.path) for root in appeared))
        health.update(watched=_texts(watcher.watched), waiting_for=_texts(watcher.missing))
        requested = queue.take_requested_sources()
        changed = watcher.changed_paths()
        if not (appeared or requested or changed):
            return False
        sources, rescanned = (
            _sources_to_index(index, watcher.roots, changed, appeared)
            if changed or appeared
            else ({}, [])
        )
        sources.update({Path(path): SessionSource(tool, Path(path)) for path, tool in requested})
        report = index_sources(index, list(sources.values()), prune=False)
        report.removed = index.remove_sources(_gone_sources(index, rescanned))
        if report.changed or report.removed or report.failed:
            log.info("%s", report.summary())
            health.update(last_index=report.to_json())
        hurried = {path for path, _tool in requested} & set(report.changed)
        queued = self._queue_uploads(
            index, queue, settings, [p for p in report.changed if p not in hurried], self.settle
        )
        queued += self._queue_uploads(index, queue, settings, list(hurried), delay=0.0)
        return queued > 0

    def _queue_uploads(
        self,
        index: LocalIndex,
        queue: UploadQueue,
        settings: Settings,
        source_paths: list[str] | None,
        delay: float,
    ) -> int:
        """``queue_stale``, logged; returns how many were queued."""
        queued = queue_stale(index, queue, settings, source_paths, delay)
        if queued:
            log.info("queued %d session(s) for upload", len(queued))
        return len(queued)


def _sources_to_index(
    index: LocalIndex, roots: list[WatchRoot], changed: set[Path], appeared: list[WatchRoot]
) -> tuple[dict[Path, SessionSource], list[WatchRoot]]:
    """The sources to index for these changed paths: a known source (or a known folder source
    holding the path) alone; anything else means listing its root again (a new file). Returns
    them with the roots that were listed again."""
    candidates = {str(p) for path in changed for p in (path, *path.parents)}
    known = index.source_states(candidates)
    sources: dict[Path, SessionSource] = {}
    rescan: dict[Path, WatchRoot] = {root.path: root for root in appeared}
    for path in changed:
        owner = next((p for p in (path, *path.parents) if str(p) in known), None)
        if owner is not None and owner.exists():
            sources[owner] = SessionSource(known[str(owner)].tool, owner)
            continue
        for root in roots:
            if root.contains(path):
                rescan[root.path] = root
    for root in rescan.values():
        for source in root.sources():
            sources[source.path] = source
    return sources, list(rescan.values())


def _gone_sources(index: LocalIndex, roots: Iterable[WatchRoot]) -> list[str]:
    """Indexed sources under ``roots`` whose file or folder no longer exists."""
    roots = list(roots)
    if not roots:
        return []
    return [
        path
        for path in index.source_states()
        if any(root.contains(Path(path)) for root in roots) and not Path(path).exists()
    ]


def _record_settings(health: HealthRecord, settings: Settings) -> None:
    """Note the server and selection now in force (the config is read again on each change)."""
    health.update(
        server=settings.server_url or None,
        scope=UploadScope.from_settings(settings).describe(),
    )


def _texts(paths: Iterable[Path]) -> list[str]:
    return [str(path) for path in paths]


class Uploader(threading.Thread):
    """Sends the queued uploads that are due, with its own connection to the index."""

    def __init__(self, index_path: Path, health: HealthRecord, stopping: threading.Event) -> None:
        super().__init__(name="opensession-uploader", daemon=True)
        self.index_path = index_path
        self.health = health
        self.stopping = stopping
        self._wake = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        with LocalIndex.open(self.index_path) as index:
            queue = UploadQueue(index.db)
            while not self.stopping.is_set():
                self._wake.clear()
                try:
                    self._send_due(index, queue)
                except Exception as exc:  # as above: logged, then tried again later
                    log.exception("sending the queued uploads failed")
                    self.health.error(f"sending the queued uploads failed: {exc}")
                    self.stopping.wait(ERROR_PAUSE_SECONDS)
                    continue
                next_due = queue.next_due()
                wait = IDLE_WAIT_SECONDS if next_due is None else next_due - time.time()
                self._wake.wait(min(max(wait, 0.0), IDLE_WAIT_SECONDS))

    def _send_due(self, index: LocalIndex, queue: UploadQueue) -> None:
        try:
            settings = load_settings()
        except ConfigError as exc:
            self.health.error(str(exc))
            return
        if not settings.server_url:
            return
        for item in queue.due():
            if self.stopping.is_set():
                return
            self._send(index, queue, item, settings)
        self.health.update(queue_depth=queue.depth())

    def _send(
        self, index: LocalIndex, queue: UploadQueue, item: QueuedUpload, settings: Settings
    ) -> None:
        outcome = send(index, queue, item, settings)
        if outcome.status == "uploaded":
            log.info("%s: %s", outcome.message, outcome.url)
            self.health.uploaded(item.session_id, outcome.url or "")
        else:
            log.warning("%s", outcome.message)
            self.health.error(outcome.message)
