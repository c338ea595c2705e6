"""``/api/auth/*`` as a client sees it: tokens, rotation, API keys, limits, refusals."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete, select, update

from opensession.server.auth.tokens import issue_access_token
from opensession.server.db.engine import make_engine
from opensession.server.db.schema import api_keys, login_attempts, metadata, refresh_tokens, users
from tests.server.conftest import JWT_SECRET, LiveServer

PASSWORD = "correct horse"


@pytest.fixture
def db(live: LiveServer) -> Iterator[Engine]:
    """The live server's database, to look at what it stores or to age a row."""
    engine = make_engine(live.settings.sqlalchemy_url)
    yield engine
    engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(live: LiveServer, nickname: str, password: str = PASSWORD) -> httpx.Response:
    return live.client.post(
        "/api/auth/login", json={"email": f"{nickname}@example.com", "password": password}
    )


def refresh(live: LiveServer, token: str) -> httpx.Response:
    return live.client.post("/api/auth/refresh", json={"refresh_token": token})


def me(live: LiveServer, token: str) -> httpx.Response:
    return live.client.get("/api/auth/me", headers=bearer(token))


def issue_key(live: LiveServer, token: str) -> httpx.Response:
    return live.client.post("/api/auth/api-keys/issue", headers=bearer(token))


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message"]


def test_refresh_gives_new_tokens_and_the_old_refresh_token_stops_working(
    live: LiveServer,
) -> None:
    registered = live.register()
    refreshed = refresh(live, registered["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    assert set(tokens) == {"access_token", "refresh_token", "expires_in", "user_id", "nickname"}
    assert tokens["user_id"] == registered["user_id"]
    assert tokens["nickname"] == "ada"
    assert tokens["expires_in"] == 900
    assert tokens["refresh_token"] != registered["refresh_token"]
    assert me(live, tokens["access_token"]).json()["user_id"] == registered["user_id"]

    assert_error(refresh(live, registered["refresh_token"]), 401, "refresh_token_reused")


def test_a_reused_refresh_token_ends_every_session_of_the_account(live: LiveServer) -> None:
    first = live.register()["refresh_token"]
    other_device = login(live, "ada").json()["refresh_token"]
    rotated = refresh(live, first).json()["refresh_token"]

    assert_error(refresh(live, first), 401, "refresh_token_reused")
    assert_error(refresh(live, rotated), 401, "invalid_refresh_token")
    assert_error(refresh(live, other_device), 401, "invalid_refresh_token")

    # Signing in again works, and a device still holding an ended token does not end it.
    again = login(live, "ada").json()["refresh_token"]
    assert_error(refresh(live, other_device), 401, "invalid_refresh_token")
    assert refresh(live, again).status_code == 200


def test_expired_and_unknown_refresh_tokens_are_refused(live: LiveServer, db: Engine) -> None:
    registered = live.register()
    with db.begin() as connection:
        connection.execute(
            update(refresh_tokens).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_error(refresh(live, registered["refresh_token"]), 401, "refresh_token_expired")
    assert_error(refresh(live, "not-a-token"), 401, "invalid_refresh_token")
    assert_error(refresh(live, registered["access_token"]), 401, "invalid_refresh_token")
    assert_error(live.client.post("/api/auth/refresh", json={}), 400, "invalid_request")


def test_logout_ends_only_a_refresh_token_of_the_caller(live: LiveServer) -> None:
    ada = live.register("ada")
    grace = live.register("grace")

    others = live.client.post(
        "/api/auth/logout",
        json={"refresh_token": grace["refresh_token"]},
        headers=bearer(ada["access_token"]),
    )
    assert others.status_code == 200
    assert others.json() == {"ok": True}
    grace_refreshed = refresh(live, grace["refresh_token"])
    assert grace_refreshed.status_code == 200

    own = live.client.post(
        "/api/auth/logout",
        json={"refresh_token": ada["refresh_token"]},
        headers=bearer(ada["access_token"]),
    )
    assert own.json() == {"ok": True}
    assert_error(refresh(live, ada["refresh_token"]), 401, "invalid_refresh_token")

    anonymous = live.client.post(
        "/api/auth/logout", json={"refresh_token": grace_refreshed.json()["refresh_token"]}
    )
    assert_error(anonymous, 401, "unauthorized")
    assert refresh(live, grace_refreshed.json()["refresh_token"]).status_code == 200


def test_verify_names_the_owner_of_the_token(live: LiveServer) -> None:
    registered = live.register()
    verified = live.client.post("/api/auth/verify", headers=bearer(registered["access_token"]))
    assert verified.status_code == 200
    assert verified.json() == {"user_id": registered["user_id"], "nickname": "ada"}
    assert_error(live.client.post("/api/auth/verify"), 401, "unauthorized")


def test_me_shows_the_profile_and_never_a_credential(live: LiveServer) -> None:
    registered = live.register()
    key = issue_key(live, registered["access_token"]).json()["api_key"]
    for token in (registered["access_token"], key):
        response = me(live, token)
        assert response.status_code == 200
        profile = response.json()
        assert set(profile) == {
            "user_id",
            "nickname",
            "created_at",
            "email",
            "avatar_url",
            "oauth_providers",
        }
        assert profile["user_id"] == registered["user_id"]
        assert profile["nickname"] == "ada"
        assert profile["email"] == "ada@example.com"
        assert profile["avatar_url"] is None
        assert profile["oauth_providers"] == []
        created = datetime.fromisoformat(profile["created_at"])
        assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
        for secret in (key, key[:12], registered["refresh_token"], PASSWORD):
            assert secret not in response.text


def test_changing_the_password_ends_every_session(live: LiveServer) -> None:
    registered = live.register()
    access = registered["access_token"]

    def change(current: str, new: str, token: str = access) -> httpx.Response:
        return live.client.put(
            "/api/auth/password",
            json={"current_password": current, "new_password": new},
            headers=bearer(token),
        )

    assert_error(change("wrong horse", "battery staple"), 403, "wrong_password")
    assert_error(change(PASSWORD, "short"), 400, "weak_password")
    key = issue_key(live, access).json()["api_key"]
    assert_error(change(PASSWORD, "battery staple", token=key), 403, "forbidden")

    changed = change(PASSWORD, "battery staple")
    assert changed.status_code == 200
    assert changed.json() == {"ok": True}
    assert_error(refresh(live, registered["refresh_token"]), 401, "invalid_refresh_token")
    assert_error(login(live, "ada"), 401, "invalid_credentials")
    assert login(live, "ada", "battery staple").status_code == 200


def test_wrong_current_passwords_count_as_failed_sign_ins(live: LiveServer) -> None:
    access = live.register()["access_token"]
    attempt = {"current_password": "wrong horse", "new_password": "battery staple"}
    for _ in range(5):
        response = live.client.put("/api/auth/password", json=attempt, headers=bearer(access))
        assert_error(response, 403, "wrong_password")
    limited = live.client.put("/api/auth/password", json=attempt, headers=bearer(access))
    assert_error(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0
    assert_error(login(live, "ada"), 429, "too_many_requests")


def test_an_api_key_is_shown_once_and_works_as_a_bearer_token(live: LiveServer, db: Engine) -> None:
    registered = live.register()
    issued = issue_key(live, registered["access_token"])
    assert issued.status_code == 200
    assert set(issued.json()) == {"api_key"}
    key = issued.json()["api_key"]
    assert re.fullmatch(r"osk_[0-9a-f]{32}", key)

    assert me(live, key).json()["user_id"] == registered["user_id"]
    verified = live.client.post("/api/auth/verify", headers=bearer(key))
    assert verified.json()["user_id"] == registered["user_id"]
    assert_error(issue_key(live, key), 403, "forbidden")

    with db.connect() as connection:
        row = connection.execute(select(api_keys)).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.display_prefix == key[:12]
    assert row.expires_at is None


def test_the_database_holds_no_plaintext_secret(live: LiveServer, db: Engine) -> None:
    registered = live.register()
    refreshed = refresh(live, registered["refresh_token"]).json()
    key = issue_key(live, refreshed["access_token"]).json()["api_key"]
    secrets = [registered["refresh_token"], refreshed["refresh_token"], key, PASSWORD]
    with db.connect() as connection:
        stored = [
            str(value)
            for table in metadata.sorted_tables
            for row in connection.execute(select(table))
            for value in row
        ]
    assert hashlib.sha256(key.encode()).hexdigest() in stored
    assert not [value for value in stored for secret in secrets if secret in value]


def test_secrets_never_reach_the_log(live: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    # At INFO the database engine logs every statement with its parameters.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    registered = live.register()
    refreshed = refresh(live, registered["refresh_token"]).json()
    key = issue_key(live, refreshed["access_token"]).json()["api_key"]
    assert me(live, key).status_code == 200
    server_records = [
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    ]
    assert any("refresh_tokens" in message for message in server_records)
    secrets = [registered["refresh_token"], refreshed["refresh_token"], key, PASSWORD]
    assert not [m for m in server_records for secret in secrets if secret in m]


def test_a_replaced_api_key_works_until_its_grace_period_ends(live: LiveServer, db: Engine) -> None:
    access = live.register()["access_token"]
    first = issue_key(live, access).json()["api_key"]
    second = issue_key(live, access).json()["api_key"]
    assert second != first
    assert me(live, first).status_code == 200
    assert me(live, second).status_code == 200

    def expiry(key: str) -> datetime | None:
        with db.connect() as connection:
            value: datetime | None = connection.execute(
                select(api_keys.c.expires_at).where(
                    api_keys.c.key_hash == hashlib.sha256(key.encode()).hexdigest()
                )
            ).scalar_one()
        return value

    first_end = expiry(first)
    assert first_end is not None
    assert abs(first_end - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=5)
    assert expiry(second) is None

    with db.begin() as connection:
        connection.execute(
            update(api_keys)
            .where(api_keys.c.key_hash == hashlib.sha256(first.encode()).hexdigest())
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_error(me(live, first), 401, "unauthorized")
    assert me(live, second).status_code == 200

    # A third key starts the second's grace period and leaves the first's end as it was.
    issue_key(live, access)
    assert expiry(second) is not None
    assert_error(me(live, first), 401, "unauthorized")


def test_bad_credentials_get_401(live: LiveServer, db: Engine) -> None:
    registered = live.register()
    user_id = registered["user_id"]
    past = datetime.now(UTC) - timedelta(hours=1)
    refused = {
        "garbage": bearer("not.a.jwt"),
        "wrong secret": bearer(issue_access_token("another-secret-" + "y" * 32, user_id)),
        "expired": bearer(issue_access_token(JWT_SECRET, user_id, now=past)),
        "refresh token": bearer(registered["refresh_token"]),
        "unknown API key": bearer("osk_" + "0" * 32),
        "other scheme": {"Authorization": f"Basic {registered['access_token']}"},
        "no token": {"Authorization": "Bearer"},
    }
    for name, headers in refused.items():
        response = live.client.get("/api/auth/me", headers=headers)
        assert response.status_code == 401, name
        assert response.json()["code"] == "unauthorized", name
        assert response.headers["WWW-Authenticate"] == "Bearer", name

    key = issue_key(live, registered["access_token"]).json()["api_key"]
    with db.begin() as connection:
        connection.execute(delete(users).where(users.c.id == user_id))
    assert_error(me(live, registered["access_token"]), 401, "unauthorized")
    assert_error(me(live, key), 401, "unauthorized")
    assert_error(refresh(live, registered["refresh_token"]), 401, "invalid_refresh_token")


def test_failed_logins_are_limited_per_account(live: LiveServer, db: Engine) -> None:
    live.register("ada")
    live.register("grace")
    for _ in range(5):
        assert_error(login(live, "ada", "wrong horse"), 401, "invalid_credentials")

    limited = login(live, "ada")
    assert_error(limited, 429, "too_many_requests")
    retry_after = int(limited.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    assert limited.json()["retry_after"] == retry_after
    assert login(live, "grace").status_code == 200

    # Once the window is over, signing in works again and clears the count.
    with db.begin() as connection:
        connection.execute(
            update(login_attempts).values(window_start=datetime.now(UTC) - timedelta(minutes=16))
        )
    assert login(live, "ada").status_code == 200
    with db.connect() as connection:
        keys = connection.execute(select(login_attempts.c.key)).scalars().all()
    assert "account:ada@example.com" not in keys


def test_a_successful_login_clears_the_account_count(live: LiveServer) -> None:
    live.register("ada")
    for _ in range(4):
        assert_error(login(live, "ada", "wrong horse"), 401, "invalid_credentials")
    assert login(live, "ada").status_code == 200
    for _ in range(4):
        assert_error(login(live, "ada", "wrong horse"), 401, "invalid_credentials")
    assert login(live, "ada").status_code == 200


def test_failed_logins_are_limited_per_address(live: LiveServer) -> None:
    live.register("ada")
    for number in range(20):
        response = login(live, f"nobody{number}", "wrong horse")
        assert_error(response, 401, "invalid_credentials")
    limited = login(live, "ada")
    assert_error(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0

    # The test client is a trusted proxy to uvicorn, so this is another address.
    elsewhere = live.client.post(
        "/api/auth/login",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert elsewhere.status_code == 200


def test_registering_is_limited_per_address(live: LiveServer) -> None:
    for number in range(10):
        live.register(f"user{number}")
    limited = live.client.post(
        "/api/auth/register",
        json={"email": "late@example.com", "password": PASSWORD, "nickname": "late"},
    )
    assert_error(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0


def test_a_malformed_email_is_refused_before_any_lookup(live: LiveServer) -> None:
    response = live.client.post(
        "/api/auth/login", json={"email": "ada\x00@example.com", "password": PASSWORD}
    )
    assert_error(response, 400, "invalid_email")


def test_providers_are_none_without_oauth(live: LiveServer) -> None:
    response = live.client.get("/api/auth/providers")
    assert response.status_code == 200
    assert response.json() == {"providers": []}


AUTH_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    (
        "POST",
        "/api/auth/register",
        {"email": "a@example.com", "password": PASSWORD, "nickname": "a"},
    ),
    ("POST", "/api/auth/login", {"email": "a@example.com", "password": PASSWORD}),
    ("POST", "/api/auth/refresh", {"refresh_token": "x"}),
    ("POST", "/api/auth/logout", {"refresh_token": "x"}),
    ("POST", "/api/auth/verify", None),
    ("GET", "/api/auth/me", None),
    ("PUT", "/api/auth/password", {"current_password": "x", "new_password": "y"}),
    ("POST", "/api/auth/api-keys/issue", None),
    ("GET", "/api/auth/providers", None),
]


def test_every_auth_route_is_absent_without_a_jwt_secret(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(jwt_secret=None)
    for method, path, body in AUTH_ROUTES:
        response = server.client.request(method, path, json=body, headers=bearer("osk_" + "0" * 32))
        assert_error(response, 404, "auth_disabled")
