"""The config file, ``opensession.toml``: read with defaults, unknown keys kept, written back
atomically with mode 600.

```toml
[server]
url = "http://localhost:3000"
api_key = ""

[identity]
nickname = "user"

[watchers]
custom_paths = ["~/.claude/projects", "~/.codex/sessions"]

[privacy]
redact_secrets = true        # redact env-style secrets before anything leaves the machine
mask_home_paths = false      # replace the home directory in paths with ~
exclude_projects = []        # projects (paths or glob patterns) never published

[daemon]
repos = []                   # repositories whose sessions the daemon uploads
all_repos = false            # upload every session, whatever its repository
private = false              # upload them as private (only you see them) instead of public
```

Comments in the file are not kept when it is written.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opensession.config.paths import config_file


class ConfigError(ValueError):
    """The config file cannot be used: names the file, the key and what was expected."""


@dataclass
class Settings:
    server_url: str = ""
    api_key: str = ""
    nickname: str = ""
    custom_paths: list[Path] = field(default_factory=list)
    redact_secrets: bool = True
    mask_home_paths: bool = False
    exclude_projects: list[str] = field(default_factory=list)
    daemon_repos: list[Path] = field(default_factory=list)
    daemon_all_repos: bool = False
    daemon_private: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    """The whole file as read, so keys this version does not know are kept when saving."""


KEYS: dict[str, tuple[str, type]] = {
    "server.url": ("server_url", str),
    "server.api_key": ("api_key", str),
    "identity.nickname": ("nickname", str),
    "watchers.custom_paths": ("custom_paths", list),
    "privacy.redact_secrets": ("redact_secrets", bool),
    "privacy.mask_home_paths": ("mask_home_paths", bool),
    "privacy.exclude_projects": ("exclude_projects", list),
    "daemon.repos": ("daemon_repos", list),
    "daemon.all_repos": ("daemon_all_repos", bool),
    "daemon.private": ("daemon_private", bool),
}
"""Every key of the file this version knows: ``section.key`` → (``Settings`` field, type)."""

_PATH_LISTS = frozenset({"custom_paths", "daemon_repos"})

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def normalize_server_url(url: str) -> str:
    """``url`` as saved: surrounding blanks and trailing slashes removed."""
    return url.strip().rstrip("/")


def mask_api_key(key: str) -> str:
    """``osk_…`` with all but its first and last four characters hidden; empty stays empty."""
    if not key:
        return ""
    if len(key) <= 12:
        return "****"
    return f"{key[:4]}****{key[-4:]}"


def load_settings(path: Path | None = None) -> Settings:
    """The settings in ``path`` (the default config file), or defaults when it does not exist."""
    path = path or config_file()
    try:
        raw = _parse(path.read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    server = _table(raw, "server", path)
    identity = _table(raw, "identity", path)
    watchers = _table(raw, "watchers", path)
    privacy = _table(raw, "privacy", path)
    daemon = _table(raw, "daemon", path)
    return Settings(
        server_url=_string(server, "server", "url", path),
        api_key=_string(server, "server", "api_key", path),
        nickname=_string(identity, "identity", "nickname", path),
        custom_paths=[
            Path(item).expanduser()
            for item in _strings(watchers, "watchers", "custom_paths", path, "paths (strings)")
        ],
        redact_secrets=_bool(privacy, "privacy", "redact_secrets", True, path),
        mask_home_paths=_bool(privacy, "privacy", "mask_home_paths", False, path),
        exclude_projects=_strings(privacy, "privacy", "exclude_projects", path, "strings"),
        daemon_repos=[
            Path(item).expanduser()
            for item in _strings(daemon, "daemon", "repos", path, "paths (strings)")
        ],
        daemon_all_repos=_bool(daemon, "daemon", "all_repos", False, path),
        daemon_private=_bool(daemon, "daemon", "private", False, path),
        raw=raw,
    )


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` to ``path`` (the default config file) with mode 600, atomically, keeping
    the keys of ``settings.raw`` this version does not know. A file already there that is not
    valid TOML is never overwritten: that raises ``ConfigError`` naming its line."""
    path = path or config_file()
    import tomli_w

    try:
        _parse(path.read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    text = tomli_w.dumps(settings_document(settings))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".opensession-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).chmod(0o600)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def settings_document(settings: Settings) -> dict[str, Any]:
    """The file's content for ``settings``: ``raw`` with every known key set from the fields."""
    document = copy.deepcopy(settings.raw)
    for key, (name, _kind) in KEYS.items():
        section, option = key.split(".")
        value = getattr(settings, name)
        table = document.get(section)
        if name in _PATH_LISTS:
            value = _written_paths(value, table.get(option) if isinstance(table, dict) else None)
        if not isinstance(table, dict):
            table = document[section] = {}
        table[option] = value
    return document


def _written_paths(paths: list[Path], written: Any) -> list[str]:
    """``paths`` as the file had them (``~/…`` kept) when they are the ones it had."""
    if (
        isinstance(written, list)
        and all(isinstance(item, str) for item in written)
        and [Path(item).expanduser() for item in written] == paths
    ):
        return written
    return [str(item) for item in paths]


def with_value(settings: Settings, key: str, text: str) -> Settings:
    """``settings`` with ``key`` (dotted, like ``server.url``) set from the command-line ``text``:
    booleans are true/false (yes/no, on/off, 1/0), lists are comma-separated or a TOML array."""
    if key not in KEYS:
        raise ConfigError(f"unknown key {key!r}: the keys are {', '.join(KEYS)}")
    name, kind = KEYS[key]
    value: Any
    if kind is bool:
        word = text.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ConfigError(f"{key} must be true or false, not {text!r}")
        value = word in _TRUE
    elif kind is list:
        value = _list(key, text)
        if name in _PATH_LISTS:
            # Written back as typed (``~/logs`` stays so), used expanded.
            section, option = key.split(".")
            raw = copy.deepcopy(settings.raw)
            table = raw.get(section)
            raw[section] = {**(table if isinstance(table, dict) else {}), option: list(value)}
            settings = replace(settings, raw=raw)
            value = [Path(item).expanduser() for item in value]
    else:
        value = text.strip()
        if key == "server.url" and value and not value.startswith(("http://", "https://")):
            raise ConfigError(f"server.url must start with http:// or https://, not {text!r}")
    return replace(settings, **{name: value})


def _list(key: str, text: str) -> list[str]:
    if text.strip().startswith("["):
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{key}: not a TOML array ({exc})") from None
        if not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{key} must be a list of strings")
        return list(value)
    return [item.strip() for item in text.split(",") if item.strip()]


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"at line (\d+)", str(exc))
        line = f" at line {where.group(1)}" if where else ""
        raise ConfigError(
            f"{path}: not valid TOML{line} ({exc}): fix that line or move the file away"
        ) from None


def _table(raw: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


def _string(table: dict[str, Any], section: str, key: str, path: Path) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {section}.{key} must be a string")
    return value


def _strings(table: dict[str, Any], section: str, key: str, path: Path, what: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: {section}.{key} must be a list of {what}")
    return value


def _bool(table: dict[str, Any], section: str, key: str, default: bool, path: Path) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {section}.{key} must be true or false")
    return value
