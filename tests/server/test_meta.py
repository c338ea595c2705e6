from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from opensession import __version__
from tests.server.conftest import LiveServer, free_port


def test_health(live: LiveServer) -> None:
    response = live.client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_capabilities_follow_the_profile_and_settings(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server().client.get("/api/capabilities").json()
    assert server["auth_enabled"] and server["upload_enabled"] and server["ingest_preview_enabled"]
    assert server["profile"] == "server"

    worker = start_server(profile="worker").client.get("/api/capabilities").json()
    assert worker["profile"] == "worker"
    assert not worker["upload_enabled"] and not worker["ingest_preview_enabled"]
    assert not worker["gh_share_enabled"]

    no_auth = start_server(jwt_secret=None).client.get("/api/capabilities").json()
    assert not no_auth["auth_enabled"] and not no_auth["upload_enabled"]


def test_unknown_routes_answer_json_errors(live: LiveServer) -> None:
    response = live.client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_register_then_login(live: LiveServer) -> None:
    registered = live.register("grace")
    assert registered["nickname"] == "grace"
    login = live.client.post(
        "/api/auth/login", json={"email": "grace@example.com", "password": "correct horse"}
    )
    assert login.status_code == 200
    assert login.json()["user_id"] == registered["user_id"]
    wrong = live.client.post(
        "/api/auth/login", json={"email": "grace@example.com", "password": "wrong horse"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"


def test_the_command_starts_with_zero_configuration(tmp_path: Path) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENSESSION_", "JWT_SECRET"))
    }
    env["PORT"] = str(port)
    executable = Path(sys.executable).with_name("opensession-server")
    server = subprocess.Popen(
        [str(executable)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first
        assert str(tmp_path / "data") in server.stdout.readline()
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        assert health.json()["status"] == "ok"
        assert (tmp_path / "data" / "opensession.db").is_file()
    finally:
        server.terminate()
        server.wait(timeout=10)
