from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opensession.client import ClientError, ServerClient
from opensession.hail import dumps_session
from tests.hail.factories import event, session
from tests.server.conftest import LiveServer, free_port


def test_health_capabilities_and_me(live: LiveServer) -> None:
    with ServerClient(live.url + "/", live.api_key()) as client:
        assert client.health()["status"] == "ok"
        assert client.capabilities()["auth_enabled"] is True
        assert client.me()["nickname"] == "ada"


def test_upload_is_idempotent(live: LiveServer) -> None:
    body = dumps_session(session([event(0, text="hello")]))
    with ServerClient(live.url, live.api_key()) as client:
        first = client.upload_session(body, visibility="private")
        again = client.upload_session(body, visibility="private")
    assert first["id"] == again["id"]
    assert first["url"].endswith(f"/session/{first['id']}")


def test_bad_key_is_unauthorized_and_not_retried(live: LiveServer) -> None:
    with ServerClient(live.url, "osk_wrong", backoff=5) as client:
        started = time.monotonic()
        with pytest.raises(ClientError) as caught:
            client.me()
    assert time.monotonic() - started < 2
    assert caught.value.kind == "unauthorized" and caught.value.status == 401
    assert "server.api_key" in caught.value.message and "\n" not in caught.value.message


def test_server_without_auth(start_server: Callable[..., LiveServer]) -> None:
    live = start_server(jwt_secret=None)
    with ServerClient(live.url, "osk_any") as client:
        assert client.capabilities()["auth_enabled"] is False
        with pytest.raises(ClientError) as caught:
            client.me()
    assert caught.value.kind == "auth_disabled"
    assert "JWT_SECRET" in caught.value.message


def test_bad_upload_is_rejected_with_the_server_code(live: LiveServer) -> None:
    with ServerClient(live.url, live.api_key()) as client, pytest.raises(ClientError) as caught:
        client.upload_session(b"not hail\n")
    assert caught.value.kind == "rejected" and caught.value.status == 400
    assert caught.value.code and caught.value.code in caught.value.message


def test_closed_port_is_unreachable_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with ServerClient(url, retries=2, backoff=0.05) as client:
        started = time.monotonic()
        with pytest.raises(ClientError) as caught:
            client.health()
    assert time.monotonic() - started >= 0.15  # waited 0.05 then 0.1
    assert caught.value.kind == "unreachable"
    assert url in caught.value.message and "server.url" in caught.value.message


def test_a_non_http_url_is_refused() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        ServerClient("localhost:3000")


class Flaky:
    """A tiny HTTP server answering ``statuses`` in turn, then 201 with a JSON body."""

    def __init__(self, statuses: list[int], headers: dict[str, str] | None = None) -> None:
        self.statuses = statuses
        self.headers = headers or {}
        self.requests: list[tuple[str, str, bytes, float]] = []
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                flaky.requests.append(
                    (self.path, self.headers["Content-Type"], body, time.monotonic())
                )
                status = flaky.statuses.pop(0) if flaky.statuses else 201
                answer = {"id": "s-1"} if status < 400 else {"code": "x", "message": "boom"}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in flaky.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def flaky() -> Iterator[Callable[..., Flaky]]:
    servers: list[Flaky] = []

    def make(statuses: list[int], headers: dict[str, str] | None = None) -> Flaky:
        servers.append(Flaky(statuses, headers))
        return servers[-1]

    yield make
    for server in servers:
        server.server.shutdown()
        server.server.server_close()


def test_5xx_is_retried_with_backoff_until_it_succeeds(flaky: Callable[..., Flaky]) -> None:
    server = flaky([503, 500])
    with ServerClient(server.url, "osk_k", backoff=0.1) as client:
        assert client.upload_session(b'{"x":1}\n', visibility="private") == {
            "id": "s-1",
            "created": True,
        }
    assert len(server.requests) == 3
    path, content_type, body, _ = server.requests[0]
    assert path == "/api/sessions?visibility=private"
    assert content_type == "application/jsonl" and body == b'{"x":1}\n'
    times = [request[3] for request in server.requests]
    assert times[1] - times[0] >= 0.1 and times[2] - times[1] >= 0.2


def test_5xx_gives_up_after_the_retries(flaky: Callable[..., Flaky]) -> None:
    server = flaky([502, 502, 502])
    client = ServerClient(server.url, retries=2, backoff=0.01)
    with client, pytest.raises(ClientError) as caught:
        client.upload_session(b"{}\n")
    assert len(server.requests) == 3
    assert caught.value.kind == "server_error" and caught.value.status == 502
    assert "HTTP 502: boom" in caught.value.message


def test_4xx_is_never_retried(flaky: Callable[..., Flaky]) -> None:
    server = flaky([409])
    with ServerClient(server.url, backoff=0.01) as client, pytest.raises(ClientError) as caught:
        client.upload_session(b"{}\n")
    assert len(server.requests) == 1
    assert caught.value.kind == "rejected" and "x: boom" in caught.value.message


def test_429_waits_as_long_as_retry_after_asks(flaky: Callable[..., Flaky]) -> None:
    server = flaky([429], headers={"Retry-After": "0.3"})
    with ServerClient(server.url, backoff=0.01) as client:
        assert client.upload_session(b"{}\n")["id"] == "s-1"
    times = [request[3] for request in server.requests]
    assert len(times) == 2 and times[1] - times[0] >= 0.3


def test_429_understands_retry_after_as_an_http_date(flaky: Callable[..., Flaky]) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    server = flaky([429], headers={"Retry-After": later})
    with ServerClient(server.url, backoff=0.01) as client:
        assert client.upload_session(b"{}\n")["id"] == "s-1"
    times = [request[3] for request in server.requests]
    assert len(times) == 2 and times[1] - times[0] >= 0.9
