from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

from opensession.handoff.populate import PROVIDERS, PopulateError, parse_provider, populate

FAKE_PROVIDER = """#!{python}
import json, os, sys
record = {{"argv": sys.argv[1:], "stdin": sys.stdin.read(), "cwd": os.getcwd()}}
with open(os.environ["FAKE_PROVIDER_LOG"], "w") as log:
    json.dump(record, log)
sys.exit(int(os.environ.get("FAKE_PROVIDER_EXIT", "0")))
"""


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on PATH holding a recording fake of every provider CLI, and nothing else."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for provider in PROVIDERS.values():
        script = folder / provider.command[0]
        script.write_text(FAKE_PROVIDER.format(python=sys.executable))
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setenv("FAKE_PROVIDER_LOG", str(tmp_path / "call.json"))
    return folder


def recorded(fake_bin: Path) -> dict[str, object]:
    return orjson.loads((fake_bin.parent / "call.json").read_bytes())


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("claude", ["-c"]),
        ("codex", ["exec"]),
        ("opencode", ["run"]),
        ("gemini", ["-p"]),
        ("amp", ["-x"]),
    ],
)
def test_each_provider_gets_the_prompt_as_arguments_and_the_json_on_stdin(
    fake_bin: Path, tmp_path: Path, name: str, arguments: list[str]
) -> None:
    payload = b'{"source_session_ids": ["abc"]}'
    populate(name, payload, cwd=tmp_path)
    call = recorded(fake_bin)
    argv = call["argv"]
    assert isinstance(argv, list)
    assert argv[:-1] == arguments
    assert "HANDOFF.md" in argv[-1]
    assert "_undefined_reason" in argv[-1]
    assert call["stdin"] == payload.decode()
    assert call["cwd"] == str(tmp_path)


def test_a_model_preference_is_part_of_the_prompt(fake_bin: Path) -> None:
    populate("claude:opus-4.6", b"{}")
    argv = recorded(fake_bin)["argv"]
    assert isinstance(argv, list)
    assert "opus-4.6" in argv[-1]
    assert parse_provider("claude:opus-4.6")[1] == "opus-4.6"


def test_a_missing_provider_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PopulateError) as error:
        populate("codex", b"{}")
    message = str(error.value)
    assert "codex is not installed" in message
    assert "npm install -g @openai/codex" in message
    assert "\n" not in message


def test_a_failing_provider_is_an_error(fake_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_EXIT", "3")
    with pytest.raises(PopulateError, match="gemini exited with 3"):
        populate("gemini", b"{}")


def test_an_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(PopulateError) as error:
        parse_provider("cursor")
    assert all(name in str(error.value) for name in PROVIDERS)
