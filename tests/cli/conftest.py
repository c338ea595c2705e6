"""Running the installed ``opensession`` command as a user would, in a home of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(
    home: Path,
    *args: str,
    cwd: Path | None = None,
    color: bool = False,
    path: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``opensession ARGS`` with ``home`` as its home (and ``path`` as PATH when given)."""
    env = dict(os.environ, HOME=str(home), OPENSESSION_HOME=str(home / ".opensession"))
    env["COLUMNS"] = "200"
    for variable in (
        "CLAUDE_CONFIG_DIR",
        "CODEX_HOME",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "NO_COLOR",
        "FORCE_COLOR",
    ):
        env.pop(variable, None)
    if path is not None:
        env["PATH"] = path
    if color:
        env["FORCE_COLOR"] = "1"
    executable = Path(sys.executable).with_name("opensession")
    return subprocess.run(
        [str(executable), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or home,
        check=False,
    )
