"""Where each tool keeps its sessions on Linux, macOS and Windows, and finding them there.

Each tool's default locations honour its own environment variables (``CLAUDE_CONFIG_DIR``,
``CODEX_HOME``, ``XDG_DATA_HOME``, ``APPDATA``…). Extra folders or files from the config's
``watchers.custom_paths`` are searched too, recognising their sessions by content.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from opensession.parsers.registry import detect

_VSCODE_APPS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")
_CLINE_EXTENSIONS = ("saoudrizwan.claude-dev", "rooveterinaryinc.roo-cline")
_MIN_CONFIDENCE = 50
_SKIPPED_FOLDERS = frozenset({".git", "node_modules", "__pycache__", ".venv", "subagents"})


@dataclass(frozen=True)
class SessionSource:
    """One session file, folder or database of one tool."""

    tool: str
    path: Path


@dataclass(frozen=True)
class Location:
    """A place searched for one tool's sessions: files matching ``pattern`` under ``root``."""

    tool: str
    root: Path
    pattern: str
    as_folder: bool = False
    """A match stands for its parent folder (a Cline task folder holds several files)."""

    def sources(self) -> Iterator[SessionSource]:
        """The matches, under the root with its links resolved (once, not per file)."""
        if not self.root.is_dir():
            return
        for match in sorted(self.root.resolve().glob(self.pattern)):
            yield SessionSource(self.tool, match.parent if self.as_folder else match)


@dataclass
class Discovery:
    """What was searched and what was found, per tool."""

    locations: list[Location] = field(default_factory=list)
    sources: list[SessionSource] = field(default_factory=list)

    def by_tool(self) -> dict[str, list[SessionSource]]:
        found: dict[str, list[SessionSource]] = {}
        for source in self.sources:
            found.setdefault(source.tool, []).append(source)
        return found


def _base_dirs(platform: str, env: Mapping[str, str], home: Path) -> tuple[Path, Path]:
    """The user's data and config folders: XDG on Linux, Library on macOS, AppData on Windows."""

    def xdg(variable: str, default: Path) -> Path:
        value = env.get(variable, "")
        return Path(value) if value and Path(value).is_absolute() else default

    if platform == "darwin":
        support = home / "Library" / "Application Support"
        return support, support
    if platform.startswith("win"):
        roaming = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        return roaming, roaming
    return xdg("XDG_DATA_HOME", home / ".local" / "share"), xdg("XDG_CONFIG_HOME", home / ".config")


def default_locations(
    platform: str = sys.platform,
    env: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> list[Location]:
    """Every tool's default session locations for ``platform`` (``sys.platform`` values)."""
    home = home or Path.home()
    app_data, app_config = _base_dirs(platform, env, home)
    xdg_data = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local/share"
    claude = Path(env["CLAUDE_CONFIG_DIR"]) if env.get("CLAUDE_CONFIG_DIR") else home / ".claude"
    codex = Path(env["CODEX_HOME"]) if env.get("CODEX_HOME") else home / ".codex"
    locations = [
        Location("claude-code", claude / "projects", "*/*.jsonl"),
        Location("codex", codex / "sessions", "**/rollout-*.jsonl"),
        Location("gemini", home / ".gemini" / "tmp", "*/chats/session-*.json"),
        Location("gemini", home / ".gemini" / "tmp", "*/chats/session-*.jsonl"),
        # OpenCode's whole storage tree (or, from 1.2, its database) is one source of sessions
        Location("opencode", xdg_data / "opencode", "storage"),
        Location("opencode", xdg_data / "opencode", "opencode*.db"),
        Location("amp", xdg_data / "amp" / "threads", "T-*.json"),
        Location("cline", home / ".cline" / "data" / "tasks", "*/api_conversation_history.json",
                 as_folder=True),
        Location("goose", xdg_data / "goose" / "sessions", "*.jsonl"),
        Location("goose", xdg_data / "goose" / "sessions", "sessions.db"),
    ]  # fmt: skip
    if platform.startswith("win"):
        goose = app_data / "Block" / "goose" / "data" / "sessions"
        locations += [Location("goose", goose, "*.jsonl"), Location("goose", goose, "sessions.db")]
    # Cursor's per-workspace databases only list conversation ids; the global one holds them.
    cursor_user = app_config / "Cursor" / "User"
    locations.append(Location("cursor", cursor_user / "globalStorage", "state.vscdb"))
    for app in _VSCODE_APPS:
        for extension in _CLINE_EXTENSIONS:
            tasks = app_config / app / "User" / "globalStorage" / extension / "tasks"
            locations.append(
                Location("cline", tasks, "*/api_conversation_history.json", as_folder=True)
            )
    return locations


def sources_in(path: Path) -> Iterator[SessionSource]:
    """The sessions of any tool at ``path``, recognised by their content: the path itself, or
    what a folder holds (searched recursively; a folder that is a session is not entered)."""
    claims = detect(path)
    if claims and claims[0].confidence >= _MIN_CONFIDENCE:
        yield SessionSource(claims[0].tool, path)
        return
    if not path.is_dir():
        return
    try:
        children = sorted(path.iterdir())
    except OSError:
        return
    for child in children:
        if child.name not in _SKIPPED_FOLDERS and not child.is_symlink():
            yield from sources_in(child)


def discover(
    custom_paths: Iterable[Path] = (), *, locations: list[Location] | None = None
) -> Discovery:
    """Every session source in the default locations and ``custom_paths``, each once.

    Roots are resolved once, so a source reached through two roots has one path (resolving
    every file instead took most of the time of a warm re-index).
    """
    discovery = Discovery(locations=locations if locations is not None else default_locations())
    seen: set[Path] = set()
    for source in chain(
        (source for location in discovery.locations for source in location.sources()),
        (source for path in custom_paths for source in sources_in(path.expanduser().resolve())),
    ):
        if source.path not in seen:
            seen.add(source.path)
            discovery.sources.append(source)
    return discovery


def scope_to_repo(
    discovery: Discovery,
    repo: Path,
    session_cwd: Callable[[SessionSource], str | None],
    track: Callable[[list[SessionSource]], Iterable[SessionSource]] = iter,
) -> Discovery:
    """Only the sessions whose working directory (told by ``session_cwd``) is inside ``repo``,
    plus Aider's history in the repository's root. ``track`` wraps the walk over the sources
    (a progress bar: telling a session's directory may mean parsing it)."""
    kept = [source for source in track(discovery.sources) if _inside(session_cwd(source), repo)]
    aider = repo / ".aider.chat.history.md"
    if aider.is_file() and all(source.path != aider for source in kept):
        kept.append(SessionSource("aider", aider))
    return Discovery(locations=discovery.locations, sources=kept)


def parsed_cwd(source: SessionSource) -> str | None:
    """A source's working directory, read by parsing it (None when it cannot be parsed)."""
    from opensession.parsers.base import SessionParseError
    from opensession.parsers.registry import parse_path

    try:
        result = parse_path(source.path, source.tool)
    except SessionParseError:
        return None
    cwd = result.session.context.attributes.get("cwd")
    return cwd if isinstance(cwd, str) else None


def _inside(cwd: str | None, repo: Path) -> bool:
    if not cwd:
        return False
    try:
        Path(cwd).resolve().relative_to(repo.resolve())
    except ValueError:
        return False
    return True
