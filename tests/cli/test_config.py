from __future__ import annotations

import json
import tomllib
from pathlib import Path

from tests.cli.conftest import run


def config_file(home: Path) -> Path:
    return home / ".opensession/config/opensession.toml"


def test_path_names_the_config_file(tmp_path: Path) -> None:
    result = run(tmp_path, "config", "path")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(config_file(tmp_path))


def test_set_then_show_masks_the_api_key(tmp_path: Path) -> None:
    key = "osk_abcdefghijklmnopqrstuvwxyz"
    for name, value in [
        ("server.url", "http://127.0.0.1:3000"),
        ("server.api_key", key),
        ("privacy.mask_home_paths", "yes"),
        ("privacy.exclude_projects", "~/secret, client-*"),
    ]:
        result = run(tmp_path, "config", "set", name, value)
        assert result.returncode == 0, result.stderr
        assert f"set {name} in {config_file(tmp_path)}" in result.stdout
    assert config_file(tmp_path).stat().st_mode & 0o777 == 0o600
    shown = run(tmp_path, "config", "show")
    assert shown.returncode == 0, shown.stderr
    assert key not in shown.stdout and 'api_key = "osk_****wxyz"' in shown.stdout
    assert shown.stdout.startswith(f"# {config_file(tmp_path)}\n")
    data = json.loads(run(tmp_path, "config", "show", "--json").stdout)
    assert data["path"] == str(config_file(tmp_path))
    assert data["server"] == {"url": "http://127.0.0.1:3000", "api_key": "osk_****wxyz"}
    assert data["privacy"] == {
        "redact_secrets": True,
        "mask_home_paths": True,
        "exclude_projects": ["~/secret", "client-*"],
    }
    assert tomllib.loads(config_file(tmp_path).read_text())["server"]["api_key"] == key


def test_show_without_a_file_gives_the_defaults(tmp_path: Path) -> None:
    data = json.loads(run(tmp_path, "config", "show", "--json").stdout)
    assert data["server"] == {"url": "", "api_key": ""}
    assert data["privacy"]["redact_secrets"] is True
    assert not config_file(tmp_path).exists()


def test_set_keeps_unknown_keys(tmp_path: Path) -> None:
    config_file(tmp_path).parent.mkdir(parents=True)
    config_file(tmp_path).write_text('[future]\nkept = "yes"\n')
    assert run(tmp_path, "config", "set", "identity.nickname", "ada").returncode == 0
    written = tomllib.loads(config_file(tmp_path).read_text())
    assert written["future"] == {"kept": "yes"} and written["identity"] == {"nickname": "ada"}


def test_set_refuses_bad_keys_and_values(tmp_path: Path) -> None:
    unknown = run(tmp_path, "config", "set", "server.port", "3000")
    assert unknown.returncode == 1
    assert "unknown key 'server.port'" in unknown.stderr and "server.url" in unknown.stderr
    wrong = run(tmp_path, "config", "set", "privacy.redact_secrets", "maybe")
    assert wrong.returncode == 1 and "must be true or false" in wrong.stderr
    assert not config_file(tmp_path).exists()


def test_a_corrupt_config_is_named_and_left_alone(tmp_path: Path) -> None:
    corrupt = '[server]\nurl = "http://x"\napi_key = \n'
    config_file(tmp_path).parent.mkdir(parents=True)
    config_file(tmp_path).write_text(corrupt)
    for args in (("set", "server.url", "http://y"), ("show",)):
        result = run(tmp_path, "config", *args)
        assert result.returncode == 1
        assert f"{config_file(tmp_path)}: not valid TOML at line 3" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert config_file(tmp_path).read_text() == corrupt
