"""``ServerClient``: health, capabilities, the caller's account and uploads, over httpx.

Network errors, 5xx and 429 answers are retried with exponential backoff (429 waits as long as
its ``Retry-After`` asks, up to a minute); 4xx answers never are. Every failure ends as one
``ClientError`` whose message is a single line naming the cause and what to do about it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from opensession import __version__

ErrorKind = Literal["unreachable", "unauthorized", "auth_disabled", "rejected", "server_error"]

_MAX_RETRY_AFTER = 60.0


class ClientError(Exception):
    """A request that failed for good: ``kind`` says why, ``message`` is one line for the user.

    ``status`` and ``code`` are the server's HTTP status and error code when it answered."""

    def __init__(
        self, kind: ErrorKind, message: str, *, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.code = code


class ServerClient:
    """A client of the server at ``base_url``, authenticated by ``api_key`` (``osk_…``) if given.

    ``retries`` is how many times a failed attempt is repeated (so ``retries + 1`` attempts at
    most), waiting ``backoff``, then twice that, and so on between them."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"server URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.retries = max(retries, 0)
        self.backoff = backoff
        headers = {"User-Agent": f"opensession/{__version__}"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def health(self) -> dict[str, Any]:
        """``GET /api/health``: ``{"status": "ok", "version": ...}``."""
        return self._request("GET", "/api/health")

    def capabilities(self) -> dict[str, Any]:
        """``GET /api/capabilities``: which features the server offers (``auth_enabled``, …)."""
        return self._request("GET", "/api/capabilities")

    def me(self) -> dict[str, Any]:
        """``GET /api/auth/me``: the profile of the API key's owner (``user_id``, ``nickname``…)."""
        return self._request("GET", "/api/auth/me")

    def upload_session(self, body: bytes, *, visibility: str = "public") -> dict[str, Any]:
        """``POST /api/sessions`` with a HAIL JSONL file: ``{"id", "url", "session_score",
        "score_plugin"}`` and ``created``, false when the server replaced its copy (200, not
        201). Uploading the same session again replaces it, so retrying is safe."""
        response = self._send(
            "POST",
            "/api/sessions",
            content=body,
            params={"visibility": visibility},
            headers={"Content-Type": "application/jsonl"},
        )
        return {**self._json(response), "created": response.status_code == 201}

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._json(self._send(method, path, **kwargs))

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The first answer below 400, repeating network errors, 5xx and 429 up to
        ``retries`` times; ClientError otherwise."""
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise ClientError(
                        "unreachable",
                        f"cannot reach the server at {self.base_url} ({_cause(exc)}): check the "
                        "URL (server.url) and that the server is running",
                    ) from None
            else:
                if response.status_code < 400:
                    return response
                retryable = response.status_code >= 500 or response.status_code == 429
                if not retryable or attempt >= self.retries:
                    raise self._error(response)
                if response.status_code == 429:
                    wait = _retry_after(response)
                    if wait is not None:
                        time.sleep(wait)
                        attempt += 1
                        continue
            time.sleep(self.backoff * 2**attempt)
            attempt += 1

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ClientError(
                "server_error",
                f"{self.base_url}{response.request.url.path} answered with something other than "
                "a JSON object: is server.url the address of an opensession server?",
                status=response.status_code,
            )
        return body

    def _error(self, response: httpx.Response) -> ClientError:
        """The ``ClientError`` for a 4xx/5xx answer, with the server's ``{code, message}``."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        detail = str(body.get("message", "")) if isinstance(body, dict) else ""
        detail = " ".join((detail or response.reason_phrase or f"HTTP {status}").split())
        where = self.base_url
        if status >= 500:
            return ClientError(
                "server_error",
                f"the server at {where} failed (HTTP {status}: {detail}): try again later, or "
                "look at the server's log",
                status=status,
                code=code or None,
            )
        if code == "auth_disabled":
            return ClientError(
                "auth_disabled",
                f"the server at {where} has no accounts (auth is disabled, JWT_SECRET is unset): "
                "API keys cannot work there; use a server with accounts",
                status=status,
                code=code,
            )
        if status == 401:
            return ClientError(
                "unauthorized",
                f"the server at {where} refused the API key ({detail}): check server.api_key, or "
                "issue a new key and run 'opensession account connect'",
                status=status,
                code=code or None,
            )
        label = f"{code}: {detail}" if code else f"HTTP {status}: {detail}"
        return ClientError(
            "rejected",
            f"the server at {where} rejected the request ({label})",
            status=status,
            code=code or None,
        )


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a 429 asks to wait (``Retry-After`` as seconds or as an HTTP date), at most
    a minute."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


def _cause(exc: httpx.TransportError) -> str:
    """A short description of a network error, on one line."""
    text = " ".join(str(exc).split())
    kind = type(exc).__name__
    return f"{kind}: {text}" if text else kind
