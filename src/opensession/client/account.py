"""Checking an API key against a server, for the commands and views where a person connects.

``opensession account connect`` and the TUI's settings view both verify a server URL and API
key with ``verify_api_key`` before saving them, so they agree on what a working connection is.
"""

from __future__ import annotations

from typing import Any

from opensession.client.api import ServerClient
from opensession.config.settings import normalize_server_url

ACCOUNT_RETRIES = 1
ACCOUNT_BACKOFF = 0.5
"""Few retries, little waiting: these requests answer a person waiting at a terminal."""


def account_client(url: str, api_key: str) -> ServerClient:
    """A client of the server at ``url`` with ``api_key`` (none when empty), retrying little.

    Raises ValueError when ``url`` is not an http(s) address."""
    return ServerClient(url, api_key or None, retries=ACCOUNT_RETRIES, backoff=ACCOUNT_BACKOFF)


def verify_api_key(url: str, api_key: str) -> dict[str, Any]:
    """The profile (``user_id``, ``nickname``…) of ``api_key``'s owner on the server at ``url``.

    Raises ValueError for a URL that is not http(s), ``ClientError`` (one line saying why and
    what to do) when the server cannot be reached, refuses the key or has no accounts."""
    with account_client(normalize_server_url(url), api_key.strip()) as client:
        return client.me()
