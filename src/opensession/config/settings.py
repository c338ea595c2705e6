"""The config file, ``opensession.toml``: read with defaults, unknown keys kept.

```toml
[server]
url = "http://localhost:3000"
api_key = ""

[identity]
nickname = "user"

[watchers]
custom_paths = ["~/.claude/projects", "~/.codex/sessions"]
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
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
    raw: dict[str, Any] = field(default_factory=dict)
    """The whole file as read, so keys this version does not know are kept when saving."""


def load_settings(path: Path | None = None) -> Settings:
    """The settings in ``path`` (the default config file), or defaults when it does not exist."""
    path = path or config_file()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    server = _table(raw, "server", path)
    identity = _table(raw, "identity", path)
    watchers = _table(raw, "watchers", path)
    custom = watchers.get("custom_paths", [])
    if not isinstance(custom, list) or not all(isinstance(item, str) for item in custom):
        raise ConfigError(f"{path}: watchers.custom_paths must be a list of paths (strings)")
    return Settings(
        server_url=_string(server, "server", "url", path),
        api_key=_string(server, "server", "api_key", path),
        nickname=_string(identity, "identity", "nickname", path),
        custom_paths=[Path(item).expanduser() for item in custom],
        raw=raw,
    )


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
