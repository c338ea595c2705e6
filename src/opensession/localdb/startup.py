"""Start-up switches of the programs that read the local index (the TUI)."""

from __future__ import annotations

from collections.abc import Mapping

REFRESH_DISCOVERY_ON_START = "OPS_TUI_REFRESH_DISCOVERY_ON_START"
_OFF = frozenset({"0", "false", "off", "no"})


def refresh_discovery_on_start(env: Mapping[str, str]) -> bool:
    """Whether to re-discover sessions from disk after showing the cached ones: yes unless
    ``OPS_TUI_REFRESH_DISCOVERY_ON_START`` is ``0``, ``false``, ``off`` or ``no`` (any case)."""
    return env.get(REFRESH_DISCOVERY_ON_START, "").strip().lower() not in _OFF
