"""``daemon select|show|status|health`` without a running daemon."""

from __future__ import annotations

import orjson

from tests.daemon.conftest import DaemonHome


def test_select_saves_the_repository_of_a_path_inside_it(daemon_home: DaemonHome) -> None:
    inside = daemon_home.repo / "src" / "pkg"
    inside.mkdir(parents=True)
    result = daemon_home.opensession("daemon", "select", "--repo", str(inside))
    assert result.returncode == 0, result.stderr
    assert "uploading nothing: no server connected" in result.stdout
    shown = orjson.loads(daemon_home.opensession("daemon", "show", "--json").stdout)
    assert shown["repos"] == [str(daemon_home.repo.resolve())]
    assert shown["all_repos"] is False
    claude = {"path": str(daemon_home.root / ".claude" / "projects"), "exists": False}
    assert claude in shown["watch"]
    config = daemon_home.root / ".opensession" / "config" / "opensession.toml"
    assert config.stat().st_mode & 0o777 == 0o600


def test_select_needs_exactly_one_choice(daemon_home: DaemonHome) -> None:
    result = daemon_home.opensession("daemon", "select")
    assert result.returncode == 2
    assert "give --repo PATH (one or more), --all or --none" in result.stderr
    both = daemon_home.opensession("daemon", "select", "--all", "--none")
    assert both.returncode == 2


def test_show_lists_folders_not_there_yet(daemon_home: DaemonHome) -> None:
    result = daemon_home.opensession("daemon", "show")
    assert result.returncode == 0
    assert f"  {daemon_home.root / '.claude' / 'projects'}  (not there yet)" in result.stdout


def test_status_and_health_say_not_running_with_exit_1(daemon_home: DaemonHome) -> None:
    status = daemon_home.opensession("daemon", "status")
    assert status.returncode == 1
    assert status.stdout.startswith("not running")
    health = daemon_home.opensession("daemon", "health")
    assert health.returncode == 1
    assert orjson.loads(health.stdout) == {"running": False, "pid": None, "queue_depth": 0}
    stop = daemon_home.opensession("daemon", "stop")
    assert (stop.returncode, stop.stdout.strip()) == (0, "the daemon is not running")


def test_every_daemon_command_has_help(daemon_home: DaemonHome) -> None:
    for command in (
        "start",
        "stop",
        "status",
        "health",
        "select",
        "show",
        "enable-hook",
        "disable-hook",
        "stream-push",
    ):
        result = daemon_home.opensession("daemon", command, "--help")
        assert result.returncode == 0
        assert "Usage: opensession daemon" in result.stdout
    hooks = " ".join(daemon_home.opensession("daemon", "enable-hook", "--help").stdout.split())
    assert "Only claude-code has hooks that name the session log" in hooks
