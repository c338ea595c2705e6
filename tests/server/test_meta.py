from __future__ import annotations

from collections.abc import Callable

from opensession import __version__
from tests.server.conftest import LiveServer


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
