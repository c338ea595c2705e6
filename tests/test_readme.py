"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(python3 -m venv .+?)\n```", (ROOT / "README.md").read_text())


def test_ci_runs_exactly_the_readme_test_command() -> None:
    run_command, test_command = readme_commands()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci/run").read_text().splitlines()
    assert "opensession" in run_command
