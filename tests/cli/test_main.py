from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from opensession import __version__
from opensession.cli.main import cli
from opensession.hail.jsonl import dumps_session
from tests.hail.factories import event, session


def run(*args: str) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).with_name("opensession")
    return subprocess.run([str(executable), *args], capture_output=True, text=True, check=False)


def test_installed_command_prints_version_and_help() -> None:
    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"opensession, version {__version__}"
    help_text = run("--help").stdout
    assert "validate" in help_text
    assert "docs" in help_text


@pytest.mark.parametrize("command", [["validate"], ["docs"], ["docs", "completion"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_script_completes_commands() -> None:
    script = run("docs", "completion", "bash").stdout
    probe = (
        f"{script}\n"
        "COMP_WORDS=(opensession va); COMP_CWORD=1\n"
        "_opensession_completion opensession; echo ${COMPREPLY[@]}"
    )
    bin_dir = str(Path(sys.executable).parent)
    completed = subprocess.run(
        ["bash", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
    )
    assert completed.stdout.split() == ["validate"]


@pytest.mark.parametrize(
    ("shell", "marker"), [("zsh", "#compdef opensession"), ("fish", "complete")]
)
def test_zsh_and_fish_completion_scripts(shell: str, marker: str) -> None:
    result = CliRunner().invoke(cli, ["docs", "completion", shell])
    assert result.exit_code == 0
    assert marker in result.output
    assert "_OPENSESSION_COMPLETE" in result.output


def test_completion_rejects_an_unknown_shell() -> None:
    result = CliRunner().invoke(cli, ["docs", "completion", "powershell"])
    assert result.exit_code == 2
    assert "'powershell' is not one of 'bash', 'zsh', 'fish'" in result.output


def test_validate_passes_the_reference_file(corpus: Path) -> None:
    result = run("validate", str(corpus / "hail/opensession__c96e93e8.hail.jsonl"))
    assert result.returncode == 0
    assert result.stdout.strip().endswith(": valid")


def test_validate_fails_on_errors_and_reports_json(tmp_path: Path) -> None:
    good = tmp_path / "good.hail.jsonl"
    good.write_bytes(dumps_session(session([event(1), event(2)])))
    bad = tmp_path / "bad.hail.jsonl"
    bad.write_bytes(b"\x00\xff binary garbage")
    result = run("validate", "--json", str(good), str(bad))
    assert result.returncode == 1
    reports = orjson.loads(result.stdout)
    assert [(r["file"], r["valid"]) for r in reports] == [(str(good), True), (str(bad), False)]
    assert reports[1]["findings"][0]["code"] == "unreadable_file"


@pytest.mark.slow
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x01\xfe\xff" * 1000,
        b'{"type":"event","event_id":"e1"}\n',
        b'{"type":"header","version":"hail-1.0.0","session_id":"s","agent":{"provider":"p","model":"m","tool":"t"},"context":{"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}}\n{"type":"event","event_id":"e1","time',
        b"x" * (50 * 1024 * 1024),
    ],
    ids=["empty", "binary", "headerless", "truncated", "50mb-line"],
)
def test_bad_input_never_gives_a_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "input.hail.jsonl"
    path.write_bytes(content)
    result = run("validate", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    verdict, *findings = result.stdout.splitlines()
    assert verdict == f"{path}: invalid"
    assert findings[0].split()[:2] == [
        "error",
        "unreadable_line:" if b"header" in content[:20] else "unreadable_file:",
    ]
    assert str(path) in findings[0]
