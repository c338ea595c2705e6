from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

from tests.cli.conftest import run
from tests.server.conftest import LiveServer, database_url, free_port, live, start_server

__all__ = ["database_url", "live", "start_server"]


def saved(home: Path) -> dict[str, object]:
    text = (home / ".opensession/config/opensession.toml").read_text()
    server: dict[str, object] = tomllib.loads(text)["server"]
    return server


def test_connect_status_verify(tmp_path: Path, live: LiveServer) -> None:
    key = live.api_key()
    connected = run(tmp_path, "account", "connect", "--server", live.url + "/", "--api-key", key)
    assert connected.returncode == 0, connected.stderr
    assert f"connected to {live.url} as ada" in connected.stdout
    assert saved(tmp_path) == {"url": live.url, "api_key": key}

    status = run(tmp_path, "account", "status")
    assert status.returncode == 0, status.stderr
    assert f"server:       {live.url}" in status.stdout
    assert "user:         ada (ada@example.com" in status.stdout
    assert "upload_enabled" in status.stdout and key not in status.stdout

    report = json.loads(run(tmp_path, "account", "status", "--json").stdout)
    assert report["connected"] is True and report["error"] is None
    assert report["user"]["nickname"] == "ada"
    assert report["capabilities"]["auth_enabled"] is True
    assert report["api_key"].startswith("osk_") and report["api_key"] != key

    verified = run(tmp_path, "account", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "ok: the API key works" in verified.stdout


def test_connect_with_a_bad_key_saves_nothing(tmp_path: Path, live: LiveServer) -> None:
    result = run(tmp_path, "account", "connect", "--server", live.url, "--api-key", "osk_bad")
    assert result.returncode == 1
    assert "refused the API key" in result.stderr
    assert not (tmp_path / ".opensession/config/opensession.toml").exists()


def test_connect_to_a_server_without_auth(
    tmp_path: Path, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(jwt_secret=None)
    result = run(tmp_path, "account", "connect", "--server", server.url, "--api-key", "osk_x")
    assert result.returncode == 1
    assert "has no accounts (auth is disabled" in result.stderr


def test_connect_to_nothing_is_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run(tmp_path, "account", "connect", "--server", url, "--api-key", "osk_x")
    assert result.returncode == 1
    assert f"cannot reach the server at {url}" in result.stderr
    bad = run(tmp_path, "account", "connect", "--server", "example.com", "--api-key", "osk_x")
    assert bad.returncode == 1 and "must start with http:// or https://" in bad.stderr


def test_not_connected(tmp_path: Path) -> None:
    status = run(tmp_path, "account", "status")
    assert status.returncode == 0 and "not connected" in status.stdout
    assert json.loads(run(tmp_path, "account", "status", "--json").stdout) == {
        "connected": False,
        "server": None,
    }
    verified = run(tmp_path, "account", "verify")
    assert verified.returncode == 1 and "account connect" in verified.stderr


def test_verify_and_status_fail_once_the_key_stops_working(
    tmp_path: Path, live: LiveServer
) -> None:
    assert run(tmp_path, "config", "set", "server.url", live.url).returncode == 0
    assert run(tmp_path, "config", "set", "server.api_key", "osk_revoked").returncode == 0
    verified = run(tmp_path, "account", "verify")
    assert verified.returncode == 1 and "refused the API key" in verified.stderr
    status = run(tmp_path, "account", "status", "--json")
    assert status.returncode == 1
    report = json.loads(status.stdout)
    assert report["connected"] is False and "refused the API key" in report["error"]
    assert report["capabilities"]["auth_enabled"] is True
