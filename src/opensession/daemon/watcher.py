"""What the daemon watches: each tool's session folder (and the config's custom paths), through
watchdog's native observer (inotify, FSEvents), including folders that do not exist yet."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from opensession.parsers.discovery import Location, SessionSource, default_locations, sources_in

_IGNORED_EVENTS = frozenset({"opened", "closed", "closed_no_write"})
"""Reading a file changes nothing (the indexer reads them too)."""


@dataclass(frozen=True)
class WatchRoot:
    """A folder watched recursively: a tool's folder (its ``locations`` say where in it the
    sessions are) or a custom path (whose sessions are recognised by content)."""

    path: Path
    locations: tuple[Location, ...] = ()

    def contains(self, path: Path) -> bool:
        return path == self.path or self.path in path.parents

    def sources(self) -> Iterator[SessionSource]:
        """The session sources under the root now."""
        if self.locations:
            return chain.from_iterable(location.sources() for location in self.locations)
        return sources_in(self.path)


def watch_roots(
    custom_paths: Iterable[Path], locations: list[Location] | None = None
) -> list[WatchRoot]:
    """One root per tool folder of ``locations`` (the default ones) and per custom path."""
    by_root: dict[Path, list[Location]] = {}
    for location in locations if locations is not None else default_locations():
        by_root.setdefault(_resolved(location.root), []).append(location)
    roots = [WatchRoot(root, tuple(group)) for root, group in by_root.items()]
    for custom in custom_paths:
        path = _resolved(custom.expanduser())
        if path not in by_root:
            roots.append(WatchRoot(path))
    return roots


def _resolved(path: Path) -> Path:
    """``path`` with its links resolved as far as it exists (a missing folder keeps its name)."""
    return path.resolve(strict=False)


class _Collector(FileSystemEventHandler):
    """Gathers the paths of file system events until the daemon takes them."""

    def __init__(self, wake: threading.Event) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._paths: set[Path] = set()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED_EVENTS:
            return
        if event.is_directory and event.event_type == "modified":
            # Comes with every write to a file in the folder, which has an event of its own;
            # taken as a change it would make the daemon list the whole tool folder again.
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        with self._lock:
            self._paths.update(Path(_text(path)) for path in paths if path)
        self._wake.set()

    def take(self) -> set[Path]:
        with self._lock:
            paths, self._paths = self._paths, set()
        return paths


def _text(path: str | bytes) -> str:
    return path.decode() if isinstance(path, bytes) else path


class Watcher:
    """Watches the roots that exist; the others are looked for again by ``appeared``."""

    def __init__(self, roots: list[WatchRoot], wake: threading.Event) -> None:
        self.roots = roots
        self._collector = _Collector(wake)
        self._observer: BaseObserver = Observer()
        self._watches: dict[Path, ObservedWatch] = {}

    @property
    def watched(self) -> list[Path]:
        return [root.path for root in self.roots if root.path in self._watches]

    @property
    def missing(self) -> list[Path]:
        return [root.path for root in self.roots if root.path not in self._watches]

    def start(self) -> None:
        self._observer.start()
        self.appeared()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    def set_roots(self, roots: list[WatchRoot]) -> None:
        """Watch ``roots`` from now on (the config's custom paths changed): the roots no longer
        among them are let go, the new ones watched by the next ``appeared``."""
        kept = {root.path for root in roots}
        for path in [path for path in self._watches if path not in kept]:
            self._forget(path)
        self.roots = roots

    def appeared(self) -> list[WatchRoot]:
        """Start watching the roots that exist now and were not watched; returns them. A root
        removed since it was watched is let go, and watched again once it is back."""
        for path in [path for path in self._watches if not path.is_dir()]:
            self._forget(path)
        found = []
        for root in self.roots:
            if root.path in self._watches or not root.path.is_dir():
                continue
            try:
                watch = self._observer.schedule(self._collector, str(root.path), recursive=True)
            except OSError:
                continue  # removed again, or unreadable: looked for once more later
            self._watches[root.path] = watch
            found.append(root)
        return found

    def _forget(self, path: Path) -> None:
        watch = self._watches.pop(path)
        with suppress(KeyError, OSError):  # its folder is gone, and the watch with it
            self._observer.unschedule(watch)

    def changed_paths(self) -> set[Path]:
        """The paths changed since last asked."""
        return self._collector.take()
