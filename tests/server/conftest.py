"""A live ``opensession-server`` on loopback for each test: uvicorn in a thread, a real SQLite
file in a temp data dir, and, when ``OPENSESSION_TEST_POSTGRES_URL`` is set, the same tests
against the real PostgreSQL (each test in a schema of its own, dropped afterwards)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text

from opensession.server.app import create_app
from opensession.server.settings import ServerSettings

POSTGRES_URL = os.environ.get("OPENSESSION_TEST_POSTGRES_URL")
JWT_SECRET = "test-secret-" + "x" * 32


@dataclass
class LiveServer:
    url: str
    settings: ServerSettings
    client: httpx.Client

    def register(self, nickname: str = "ada", password: str = "correct horse") -> dict[str, Any]:
        """A new account's token response."""
        response = self.client.post(
            "/api/auth/register",
            json={"email": f"{nickname}@example.com", "password": password, "nickname": nickname},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def api_key(self, nickname: str = "ada") -> str:
        """A new account's API key (``osk_…``)."""
        token = self.register(nickname)["access_token"]
        response = self.client.post(
            "/api/auth/api-keys/issue", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        key: str = response.json()["api_key"]
        return key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None (the SQLite file in the data dir), or a fresh schema on the test PostgreSQL."""
    if request.param == "sqlite":
        yield None
        return
    if not POSTGRES_URL:
        pytest.skip("OPENSESSION_TEST_POSTGRES_URL is unset: no PostgreSQL to test against")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_psycopg(POSTGRES_URL))
    with admin.begin() as db:
        db.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{_psycopg(POSTGRES_URL)}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as db:
        db.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _psycopg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture
def start_server(tmp_path: Path, database_url: str | None) -> Iterator[Callable[..., LiveServer]]:
    """Starts a live server whose settings differ from the defaults by the keywords given."""
    started: list[tuple[uvicorn.Server, threading.Thread, httpx.Client]] = []

    def start(**overrides: Any) -> LiveServer:
        settings = replace(
            ServerSettings(
                data_dir=tmp_path / f"data{len(started)}",
                jwt_secret=JWT_SECRET,
                database_url=database_url,
                port=free_port(),
            ),
            **overrides,
        )
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        url = f"http://127.0.0.1:{settings.port}"
        client = httpx.Client(base_url=url, timeout=10)
        started.append((server, thread, client))
        return LiveServer(url, settings, client)

    yield start
    for server, thread, client in started:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live(start_server: Callable[..., LiveServer]) -> LiveServer:
    """A server with the default settings and auth on."""
    return start_server()
