"""Every directory opensession uses, in one place.

XDG base directories are honoured; ``OPENSESSION_HOME`` puts config, data and state under one
folder (tests use it to stay away from the user's files).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The user's home directory."""
    return Path.home()


def _xdg(variable: str, default: str) -> Path:
    value = os.environ.get(variable, "").strip()
    return Path(value) if value and Path(value).is_absolute() else home() / default


def config_dir() -> Path:
    root = os.environ.get("OPENSESSION_HOME")
    if root:
        return Path(root) / "config"
    return _xdg("XDG_CONFIG_HOME", ".config") / "opensession"


def data_dir() -> Path:
    root = os.environ.get("OPENSESSION_HOME")
    if root:
        return Path(root) / "data"
    return _xdg("XDG_DATA_HOME", ".local/share") / "opensession"


def state_dir() -> Path:
    """Where the daemon keeps its pid, log and health files (``~/.local/state/opensession``)."""
    root = os.environ.get("OPENSESSION_HOME")
    if root:
        return Path(root) / "state"
    return _xdg("XDG_STATE_HOME", ".local/state") / "opensession"


def config_file() -> Path:
    """``~/.config/opensession/opensession.toml``."""
    return config_dir() / "opensession.toml"


def xdg_data_home() -> Path:
    """Where tools following XDG keep their data (``~/.local/share``)."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def xdg_config_home() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config")
