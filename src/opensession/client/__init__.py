"""The HTTP client for an opensession server's API, with retries and errors that say what to do."""

from opensession.client.api import ClientError, ErrorKind, ServerClient

__all__ = ["ClientError", "ErrorKind", "ServerClient"]
