"""``daemon enable-hook`` / ``disable-hook`` on Claude Code's real settings file."""

from __future__ import annotations

from pathlib import Path

import orjson

from opensession.daemon.hooks import CLAUDE_HOOK_EVENTS
from tests.daemon.conftest import DaemonHome

ENABLE = ("daemon", "enable-hook", "--agent", "claude-code")
DISABLE = ("daemon", "disable-hook", "--agent", "claude-code")


def _settings(home: DaemonHome) -> Path:
    return home.root / ".claude" / "settings.json"


def _commands(settings: dict, event: str) -> list[str]:
    return [entry["command"] for group in settings["hooks"][event] for entry in group["hooks"]]


def test_enable_adds_one_stream_push_hook_per_event_keeping_a_backup(
    daemon_home: DaemonHome,
) -> None:
    path = _settings(daemon_home)
    path.parent.mkdir(parents=True)
    mine = {"type": "command", "command": "notify-send done"}
    path.write_bytes(orjson.dumps({"model": "opus", "hooks": {"Stop": [{"hooks": [mine]}]}}))
    before = path.read_bytes()

    result = daemon_home.opensession(*ENABLE)
    assert result.returncode == 0, result.stderr
    assert f"hook enabled in {path}" in result.stdout
    settings = orjson.loads(path.read_bytes())
    assert settings["model"] == "opus"
    for event in CLAUDE_HOOK_EVENTS:
        ours = [c for c in _commands(settings, event) if "daemon stream-push" in c]
        assert len(ours) == 1
        assert ours[0].endswith("/opensession daemon stream-push --agent claude-code")
    assert "notify-send done" in _commands(settings, "Stop")
    [backup] = path.parent.glob("settings.json.opensession-backup-*")
    assert backup.read_bytes() == before

    again = daemon_home.opensession(*ENABLE)
    assert again.stdout.strip() == f"already enabled: {path} unchanged"
    assert orjson.loads(path.read_bytes()) == settings
    assert len(list(path.parent.glob("settings.json.opensession-backup-*"))) == 1


def test_dry_run_prints_the_change_and_writes_nothing(daemon_home: DaemonHome) -> None:
    result = daemon_home.opensession(*ENABLE, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert '\n+    "SubagentStop": [\n' in result.stdout
    assert "daemon stream-push --agent claude-code" in result.stdout
    assert "not written" in result.stdout
    assert not _settings(daemon_home).exists()


def test_disable_removes_only_our_hooks(daemon_home: DaemonHome) -> None:
    path = _settings(daemon_home)
    path.parent.mkdir(parents=True)
    mine = {"type": "command", "command": "notify-send done"}
    path.write_bytes(orjson.dumps({"hooks": {"Stop": [{"hooks": [mine]}]}}))
    assert daemon_home.opensession(*ENABLE).returncode == 0

    result = daemon_home.opensession(*DISABLE)
    assert result.returncode == 0, result.stderr
    assert orjson.loads(path.read_bytes()) == {"hooks": {"Stop": [{"hooks": [mine]}]}}
    assert daemon_home.opensession(*DISABLE).stdout.startswith("already disabled")


def test_settings_that_are_not_json_are_named_and_left_alone(daemon_home: DaemonHome) -> None:
    path = _settings(daemon_home)
    path.parent.mkdir(parents=True)
    path.write_text('{\n  "model": "opus",\n  "hooks": {,\n}\n')
    result = daemon_home.opensession(*ENABLE)
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: {path}: not valid JSON at line 3")
    assert path.read_text() == '{\n  "model": "opus",\n  "hooks": {,\n}\n'
    assert not list(path.parent.glob("settings.json.opensession-backup-*"))


def test_daemon_start_installs_no_hook(daemon_home: DaemonHome) -> None:
    assert daemon_home.opensession("daemon", "start").returncode == 0
    assert not _settings(daemon_home).exists()
