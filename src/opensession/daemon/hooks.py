"""Agent hooks: entries in an agent's own settings that run ``opensession daemon stream-push``
when the agent has written to its session log, so the daemon reads it at once.

Only Claude Code is supported: its hooks pass the transcript's path on stdin. Codex CLI's
``notify`` program gets a thread id but not the log's path, and Gemini CLI, Cursor, OpenCode,
Amp, Cline, Goose and Aider have no hook that names the log; the daemon's watcher covers them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

HOOK_AGENTS = ("claude-code",)
CLAUDE_HOOK_EVENTS = ("Stop", "SubagentStop")
"""At the end of each turn and when a sub-agent finishes: the moments a whole step of work is
in the transcript. (Not after each tool call: each push uploads the whole session, and the
watcher already picks up what is written mid-turn once the log pauses.)"""
HOOK_TIMEOUT_SECONDS = 10
_MARKER = "daemon stream-push --agent"


class HookError(ValueError):
    """The agent's settings cannot be changed safely; one line naming the file and why."""


@dataclass(frozen=True)
class HookChange:
    """What enabling or disabling a hook does to one settings file."""

    path: Path
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """The file before and after, as a unified diff."""
        import difflib

        old = (_dumps(self.before) + b"\n").decode().splitlines(True) if self.before else []
        new = (_dumps(self.after) + b"\n").decode().splitlines(True)
        return "".join(difflib.unified_diff(old, new, f"{self.path} (now)", f"{self.path} (new)"))


def claude_settings_path() -> Path:
    """Claude Code's user settings: ``$CLAUDE_CONFIG_DIR/settings.json`` or
    ``~/.claude/settings.json``."""
    folder = os.environ.get("CLAUDE_CONFIG_DIR")
    return (Path(folder) if folder else Path.home() / ".claude") / "settings.json"


def hook_command(agent: str) -> str:
    """The command a hook runs: this installation's ``opensession`` by its full path (the agent
    may not have the same PATH), then ``daemon stream-push --agent AGENT``."""
    script = Path(sys.argv[0])
    if script.name != "opensession" or not script.exists():
        found = shutil.which("opensession")
        script = Path(found) if found else Path(sys.executable).with_name("opensession")
    return f"{shlex.quote(str(script.resolve()))} {_MARKER} {agent}"


def read_settings(path: Path) -> dict[str, Any]:
    """The settings file as a JSON object ({} when it does not exist); HookError when it is not
    valid JSON, naming the line, so that it is never overwritten."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise HookError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data.strip():
        return {}
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise HookError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
            "fix it first, opensession does not overwrite it"
        ) from None
    if not isinstance(value, dict):
        raise HookError(f"{path}: expected a JSON object at the top")
    return value


def enable_change(agent: str, path: Path | None = None) -> HookChange:
    """Adding the stream-push hook to each of ``CLAUDE_HOOK_EVENTS`` (entries already there are
    left as they are, so enabling twice changes nothing)."""
    path = path or claude_settings_path()
    before = read_settings(path)
    after = deepcopy(before)
    hooks = after.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise HookError(f"{path}: 'hooks' must be a JSON object")
    command = hook_command(agent)
    for event in CLAUDE_HOOK_EVENTS:
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise HookError(f"{path}: hooks.{event} must be a list")
        if any(_ours(entry, agent) for group in groups for entry in _entries(group)):
            continue
        groups.append(
            {"hooks": [{"type": "command", "command": command, "timeout": HOOK_TIMEOUT_SECONDS}]}
        )
    return HookChange(path, before, after)


def disable_change(agent: str, path: Path | None = None) -> HookChange:
    """Removing every stream-push hook of ``agent`` (and the groups and events it leaves empty);
    the user's other hooks stay."""
    path = path or claude_settings_path()
    before = read_settings(path)
    after = deepcopy(before)
    hooks = after.get("hooks")
    if not isinstance(hooks, dict):
        return HookChange(path, before, after)
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            entries = _entries(group)
            kept = [entry for entry in entries if not _ours(entry, agent)]
            if len(kept) == len(entries):
                kept_groups.append(group)
            elif kept:
                kept_groups.append({**group, "hooks": kept})
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not hooks:
        del after["hooks"]
    return HookChange(path, before, after)


def apply_change(change: HookChange) -> Path | None:
    """Write the new settings (atomically), after copying the old file to
    ``settings.json.opensession-backup-<UTC time>``; returns the backup (None when there was
    no file or nothing changed)."""
    if not change.changed:
        return None
    backup = None
    if change.path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = change.path.with_name(f"{change.path.name}.opensession-backup-{stamp}")
        shutil.copy2(change.path, backup)
    change.path.parent.mkdir(parents=True, exist_ok=True)
    temporary = change.path.with_name(f".{change.path.name}.opensession-{os.getpid()}")
    temporary.write_bytes(_dumps(change.after) + b"\n")
    if change.path.exists():
        shutil.copymode(change.path, temporary)
    temporary.replace(change.path)
    return backup


def _entries(group: Any) -> list[Any]:
    entries = group.get("hooks") if isinstance(group, dict) else None
    return entries if isinstance(entries, list) else []


def _ours(entry: Any, agent: str) -> bool:
    command = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(command, str) and command.endswith(f"{_MARKER} {agent}")


def _dumps(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)
