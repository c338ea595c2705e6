"""``/login``, ``/register``, ``/logout``, ``/settings`` and the HTML error pages, over HTTP.

Each test drives a live server with an httpx client that keeps cookies as a browser does; the
forms are posted as a browser posts them, the CSRF token read from the ``os_csrf`` cookie.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from opensession.server.app import create_app
from opensession.server.auth.tokens import issue_access_token
from opensession.server.db.engine import make_engine
from opensession.server.db.schema import refresh_tokens
from opensession.server.settings import ServerSettings
from tests.server.conftest import JWT_SECRET, LiveServer

PASSWORD = "correct horse"


@pytest.fixture
def visitor(live: LiveServer) -> Iterator[httpx.Client]:
    """A client of ``live`` with a cookie jar, holding a CSRF cookie from a first page."""
    with httpx.Client(base_url=live.url, timeout=10) as client:
        assert client.get("/login").status_code == 200
        yield client


def csrf(client: httpx.Client) -> str:
    return client.cookies["os_csrf"]


def register(client: httpx.Client, nickname: str = "ada", **fields: str) -> httpx.Response:
    form = {"email": f"{nickname}@example.com", "nickname": nickname, "password": PASSWORD}
    return client.post("/register", data={"csrf": csrf(client), **form, **fields})


def cookies_set(response: httpx.Response) -> dict[str, str]:
    """The ``Set-Cookie`` headers of ``response`` by cookie name (the whole header)."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        found[header.split("=", 1)[0]] = header
    return found


def cookie_value(header: str) -> str:
    parsed: SimpleCookie = SimpleCookie()
    parsed.load(header)
    [morsel] = parsed.values()
    return morsel.value


def test_registering_signs_the_browser_in_with_http_only_cookies(visitor: httpx.Client) -> None:
    page = visitor.get("/register")
    assert page.status_code == 200
    assert 'name="csrf"' in page.text and 'autocomplete="new-password"' in page.text
    response = register(visitor)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookies = cookies_set(response)
    for name, lifetime in (("os_access", 15 * 60), ("os_refresh", 30 * 24 * 3600)):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
        assert f"max-age={lifetime}" in attributes
        assert "secure" not in attributes  # plain http here
    settings = visitor.get("/settings")
    assert settings.status_code == 200
    assert "[@ada]" in settings.text
    assert 'action="/logout"' in settings.text
    assert f'name="csrf" value="{csrf(visitor)}"' in settings.text


def test_cookies_are_secure_over_https(live: LiveServer) -> None:
    # uvicorn trusts X-Forwarded-Proto from loopback, as from a TLS-terminating proxy.
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-Proto": "https"}) as client:
        client.get("/login")
        token = next(cookie.value for cookie in client.cookies.jar if cookie.name == "os_csrf")
        form = {"csrf": token, "email": "ada@example.com", "nickname": "ada"}
        response = client.post(
            "/register",
            data={**form, "password": PASSWORD},
            headers={"Cookie": f"os_csrf={token}"},
        )
    assert response.status_code == 303
    for name in ("os_access", "os_refresh"):
        assert "secure" in cookies_set(response)[name].lower().split("; ")


def test_register_errors_are_shown_beside_the_field_they_name(visitor: httpx.Client) -> None:
    bad_email = register(visitor, email="not-an-address")
    assert bad_email.status_code == 400
    assert "Email: not an email address" in bad_email.text
    assert re.search(r'id="field-email"[^>]*aria-invalid="true"', bad_email.text)
    assert 'value="not-an-address"' in bad_email.text

    short = register(visitor, password="short")
    assert short.status_code == 400
    assert "Password: password must be at least 8 characters" in short.text
    assert "short" not in re.findall(r'name="password"[^>]*value="([^"]*)"', short.text)

    odd = register(visitor, nickname="-dash")
    assert odd.status_code == 400
    assert "Nickname: 2 to 39 letters" in odd.text

    too_long = register(visitor, email="a" * 400 + "@example.com")
    assert too_long.status_code == 400
    assert "Email: string should have at most 320 characters" in too_long.text

    assert register(visitor).status_code == 303
    visitor.cookies.delete("os_access")
    visitor.cookies.delete("os_refresh")
    taken = register(visitor, email="other@example.com")
    assert taken.status_code == 409
    assert 'role="alert"' in taken.text
    assert "That email or nickname is already taken" in taken.text


def test_login_with_a_wrong_password_then_past_the_rate_limit(
    live: LiveServer, visitor: httpx.Client
) -> None:
    live.register("ada", PASSWORD)
    form = {"csrf": csrf(visitor), "email": "ada@example.com"}
    for _ in range(5):
        wrong = visitor.post("/login", data={**form, "password": "wrong password"})
        assert wrong.status_code == 401
        assert "Wrong email or password" in wrong.text
        assert 'value="ada@example.com"' in wrong.text
        assert "os_access" not in cookies_set(wrong)
    limited = visitor.post("/login", data={**form, "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 800
    assert re.search(
        r"Too many failed sign-ins for this account; try again in \d+ seconds "
        r"\(about 15 minutes\)\.",
        limited.text,
    )


def test_login_goes_on_to_next_but_never_to_another_site(
    live: LiveServer, visitor: httpx.Client
) -> None:
    live.register("ada", PASSWORD)
    signed_out = visitor.get("/settings")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login?next=/settings"
    page = visitor.get("/login", params={"next": "/settings"})
    assert 'name="next" value="/settings"' in page.text
    form = {"csrf": csrf(visitor), "email": "ADA@example.com ", "password": PASSWORD}
    response = visitor.post("/login", data={**form, "next": "/settings"})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings"
    assert visitor.get("/settings").status_code == 200
    # Signed in already: the form is skipped.
    assert visitor.get("/login", params={"next": "/docs"}).headers["location"] == "/docs"
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        visitor.cookies.delete("os_access")
        visitor.cookies.delete("os_refresh")
        away = visitor.post("/login", data={**form, "next": target})
        assert away.headers["location"] == "/"


def test_forms_without_the_csrf_token_are_refused(visitor: httpx.Client) -> None:
    assert register(visitor).status_code == 303
    for path in ("/logout", "/settings/api-key", "/login", "/register"):
        missing = visitor.post(path, data={})
        assert missing.status_code == 403, path
        assert missing.headers["content-type"].startswith("text/html")
        assert "The form expired or came from another site" in missing.text
        wrong = visitor.post(path, data={"csrf": "not-the-token"})
        assert wrong.status_code == 403, path
        non_ascii = visitor.post(path, data={"csrf": "jeton-é"})
        assert non_ascii.status_code == 403, path
    # Without the cookie (a cross-site post sends none) even the right value is refused.
    token = csrf(visitor)
    with httpx.Client(base_url=str(visitor.base_url)) as stranger:
        assert stranger.post("/logout", data={"csrf": token}).status_code == 403
    assert "[@ada]" in visitor.get("/settings").text  # still signed in


def test_settings_issue_an_api_key_shown_once(live: LiveServer, visitor: httpx.Client) -> None:
    register(visitor)
    settings = visitor.get("/settings")
    assert "ada@example.com" in settings.text
    assert "You have no API key yet" in settings.text
    assert "Linked sign-in providers" in settings.text and "None" in settings.text
    issued = visitor.post("/settings/api-key", data={"csrf": csrf(visitor)})
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    key = re.search(r'id="api-key"[^>]*>(osk_[0-9a-f]{32})<', issued.text)
    assert key, issued.text
    api_key = key.group(1)
    assert f"opensession account connect --server {live.url} --api-key {api_key}" in issued.text
    verified = live.client.post("/api/auth/verify", headers={"Authorization": f"Bearer {api_key}"})
    assert verified.status_code == 200
    assert verified.json()["nickname"] == "ada"
    later = visitor.get("/settings").text
    assert api_key not in later
    assert api_key[:12] + "…" in later
    assert "active" in later
    again = visitor.post("/settings/api-key", data={"csrf": csrf(visitor)})
    assert re.search(r"osk_[0-9a-f]{32}", again.text).group(0) != api_key  # type: ignore[union-attr]
    assert "replaced; works until" in visitor.get("/settings").text


def test_an_api_key_in_the_cookie_cannot_issue_keys(live: LiveServer) -> None:
    tokens = live.register("ada", PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    api_key = live.client.post("/api/auth/api-keys/issue", headers=headers).json()["api_key"]
    with httpx.Client(base_url=live.url) as client:
        client.get("/login")
        client.cookies.set("os_access", api_key, domain="127.0.0.1")
        assert "[@ada]" in client.get("/settings").text
        refused = client.post("/settings/api-key", data={"csrf": client.cookies["os_csrf"]})
    assert refused.status_code == 403
    assert "needs a sign-in, not an API key" in refused.text


def test_an_expired_access_cookie_is_renewed_with_the_refresh_cookie(
    live: LiveServer, visitor: httpx.Client
) -> None:
    response = register(visitor)
    refresh = cookie_value(cookies_set(response)["os_refresh"])
    user_id = live.client.post(
        "/api/auth/verify", headers={"Authorization": f"Bearer {visitor.cookies['os_access']}"}
    ).json()["user_id"]
    expired = issue_access_token(JWT_SECRET, user_id, datetime.now(UTC) - timedelta(hours=1))

    visitor.cookies.set("os_access", expired, domain="127.0.0.1")
    # A page's own part (an image, a fetch) does not renew: it would race the page itself.
    part = visitor.get("/settings", headers={"Sec-Fetch-Mode": "no-cors"})
    assert part.status_code == 303
    assert "os_access" not in cookies_set(part)

    page = visitor.get("/settings", headers={"Sec-Fetch-Mode": "navigate"})
    assert page.status_code == 200
    assert "[@ada]" in page.text
    assert page.headers["cache-control"] == "no-store"
    renewed = cookies_set(page)
    assert cookie_value(renewed["os_access"]) != expired
    assert cookie_value(renewed["os_refresh"]) != refresh
    assert "httponly" in renewed["os_refresh"].lower()
    # The browser now holds the new tokens, so the next page needs no renewal.
    assert visitor.get("/settings").headers.get_list("set-cookie") == []
    # The old refresh token was rotated: presenting it again counts as reuse.
    reused = live.client.post("/api/auth/refresh", json={"refresh_token": refresh})
    assert reused.status_code == 401


def test_a_dead_refresh_cookie_signs_the_browser_out(visitor: httpx.Client) -> None:
    register(visitor)
    visitor.cookies.delete("os_access")
    visitor.cookies.set("os_refresh", "not-a-token", domain="127.0.0.1")
    page = visitor.get("/settings")
    assert page.status_code == 303
    cleared = cookies_set(page)
    assert "max-age=0" in cleared["os_access"].lower()
    assert "max-age=0" in cleared["os_refresh"].lower()


def test_logout_revokes_the_refresh_token_and_clears_the_cookies(
    live: LiveServer, visitor: httpx.Client
) -> None:
    refresh = cookie_value(cookies_set(register(visitor))["os_refresh"])
    response = visitor.post("/logout", data={"csrf": csrf(visitor)})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cleared = cookies_set(response)
    assert 'os_access=""' in cleared["os_access"] and "max-age=0" in cleared["os_access"].lower()
    assert 'os_refresh=""' in cleared["os_refresh"]
    assert "os_access" not in visitor.cookies
    gone = live.client.post("/api/auth/refresh", json={"refresh_token": refresh})
    assert gone.status_code == 401
    assert gone.json()["code"] == "invalid_refresh_token"
    assert visitor.get("/settings").status_code == 303


def test_logout_after_the_access_token_expired_revokes_the_renewed_token(
    live: LiveServer, visitor: httpx.Client
) -> None:
    register(visitor)
    visitor.cookies.delete("os_access")
    response = visitor.post("/logout", data={"csrf": csrf(visitor)})
    assert response.status_code == 303
    # The middleware renewed the tokens for this request, and the logout revoked the new one;
    # the response clears the cookies rather than setting the renewed ones.
    cleared = cookies_set(response)
    assert 'os_refresh=""' in cleared["os_refresh"]
    engine = make_engine(live.settings.sqlalchemy_url)
    with engine.connect() as db:
        live_tokens = db.execute(
            select(func.count())
            .select_from(refresh_tokens)
            .where(refresh_tokens.c.revoked_at.is_(None))
        ).scalar()
    engine.dispose()
    assert live_tokens == 0


def test_account_pages_are_404_pages_without_accounts(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(jwt_secret=None)
    for path in ("/login", "/register", "/settings"):
        response = server.client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "this server has no accounts" in response.text.lower()
    assert server.client.post("/logout").status_code == 404
    docs = server.client.get("/docs").text
    assert 'href="/login"' not in docs and 'href="/register"' not in docs


def test_pages_answer_errors_as_html_and_the_api_as_json(live: LiveServer) -> None:
    page = live.client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "There is no page at /no/such/page." in page.text
    assert '<header class="site-header">' in page.text
    api = live.client.get("/api/no/such/route")
    assert api.status_code == 404
    assert api.json() == {"code": "not_found", "message": "Not Found"}
    method = live.client.put("/docs")
    assert method.status_code == 405
    assert method.headers["content-type"].startswith("text/html")
    assert "Method Not Allowed" in method.text


def test_the_header_offers_sign_in_or_the_account_menu(visitor: httpx.Client) -> None:
    signed_out = visitor.get("/docs").text
    assert 'href="/login"' in signed_out and 'href="/register"' in signed_out
    assert "data-account-menu" not in signed_out
    register(visitor)
    signed_in = visitor.get("/docs").text
    menu = signed_in[signed_in.index("data-account-menu") : signed_in.index("</details>")]
    assert "[@ada]" in menu and "ada@example.com" in menu
    assert "linked providers: none" in menu
    for link in ('href="/settings"', 'href="/upload"', 'href="/docs"', 'action="/logout"'):
        assert link in menu
    assert 'href="/login"' not in signed_in


def test_a_crash_is_a_500_page_for_pages_and_json_for_the_api(tmp_path: Path) -> None:
    app = create_app(ServerSettings(data_dir=tmp_path, jwt_secret=JWT_SECRET))

    def crash() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", crash)
    app.add_api_route("/api/boom", crash)

    async def fetch(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    page = asyncio.run(fetch("/boom"))
    api = asyncio.run(fetch("/api/boom"))
    assert page.status_code == 500
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Internal Server Error" in page.text
    assert "The server failed to answer this request" in page.text
    assert "boom" not in page.text
    assert api.status_code == 500
    assert api.json()["code"] == "internal_error"
