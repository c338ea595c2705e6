"""The client is tested against the live server of the server tests."""

from tests.server.conftest import database_url, live, start_server

__all__ = ["database_url", "live", "start_server"]
