"""Sessions leaving the machine: sanitized by the privacy settings, then uploaded to the server
or stored on the repository's sessions branch. The CLI, the daemon and the TUI share it."""

from opensession.publishing.destinations import (
    record_sync,
    share_url,
    store_in_git,
    upload_to_server,
)
from opensession.publishing.prepare import ExcludedProjectError, PreparedSession, prepare_session

__all__ = [
    "ExcludedProjectError",
    "PreparedSession",
    "prepare_session",
    "record_sync",
    "share_url",
    "store_in_git",
    "upload_to_server",
]
