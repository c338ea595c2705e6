"""The server's settings, read once from the environment (the seed's variable names)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Profile = Literal["server", "worker"]

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_INGEST_MAX_BYTES = 10 * 1024 * 1024
_FALSE = {"0", "false", "off", "no"}
_TRUE = {"1", "true", "on", "yes"}


class SettingsError(ValueError):
    """An environment variable with a value the server cannot use: names it and what it takes."""


@dataclass(frozen=True)
class ServerSettings:
    port: int = 3000
    host: str = "127.0.0.1"
    data_dir: Path = Path("data")
    web_dir: Path | None = None
    public_feed_enabled: bool = True
    score_plugin: str = "heuristic_v1"
    jwt_secret: str | None = None
    database_url: str | None = None
    profile: Profile = "server"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    ingest_max_bytes: int = DEFAULT_INGEST_MAX_BYTES
    ingest_timeout_seconds: float = 10.0
    github_raw_base: str = "https://raw.githubusercontent.com"
    """Where ingest preview fetches GitHub files from; tests point it at a local server."""
    ingest_allow_private_hosts: bool = False
    """Let ingest preview fetch from loopback and private addresses: only for tests, whose
    ``github_raw_base`` is a local server. Off, a host resolving to one is refused (SSRF)."""
    public_url: str | None = None
    """The address users reach the server at, for the ``url`` of uploaded sessions."""

    @property
    def auth_enabled(self) -> bool:
        """Auth routes (and so uploads) exist only when ``JWT_SECRET`` is set."""
        return bool(self.jwt_secret)

    @property
    def upload_enabled(self) -> bool:
        return self.profile == "server" and self.auth_enabled

    @property
    def ingest_preview_enabled(self) -> bool:
        return self.profile == "server"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL: ``OPENSESSION_DATABASE_URL``, else the SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opensession.db').absolute()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        """Settings from ``env`` (the process environment by default); SettingsError names a
        variable whose value is unusable."""
        env = os.environ if env is None else env
        profile = env.get("OPENSESSION_PROFILE", "server").strip().lower() or "server"
        if profile not in ("server", "worker"):
            raise SettingsError(f"OPENSESSION_PROFILE must be server or worker, not {profile!r}")
        web_dir = env.get("OPENSESSION_WEB_DIR")
        return cls(
            port=_integer(env, "PORT", 3000),
            host=env.get("OPENSESSION_HOST", "127.0.0.1"),
            data_dir=Path(env.get("OPENSESSION_DATA_DIR") or "data"),
            web_dir=Path(web_dir) if web_dir else None,
            public_feed_enabled=_boolean(env, "OPENSESSION_PUBLIC_FEED_ENABLED", True),
            score_plugin=env.get("OPENSESSION_SESSION_SCORE_PLUGIN") or "heuristic_v1",
            jwt_secret=env.get("JWT_SECRET") or None,
            database_url=env.get("OPENSESSION_DATABASE_URL") or None,
            profile=profile,  # type: ignore[arg-type]
            max_upload_bytes=_integer(
                env, "OPENSESSION_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES
            ),
            ingest_max_bytes=_integer(
                env, "OPENSESSION_INGEST_MAX_BYTES", DEFAULT_INGEST_MAX_BYTES
            ),
            public_url=(env.get("OPENSESSION_PUBLIC_URL") or "").rstrip("/") or None,
        )


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or int(text) <= 0:
        raise SettingsError(f"{name} must be a positive whole number, not {text!r}")
    return int(text)


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {text!r}")
