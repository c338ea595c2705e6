from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from opensession.config import paths
from opensession.config.settings import (
    ConfigError,
    Settings,
    load_settings,
    save_settings,
    with_value,
)


def test_opensession_home_puts_config_and_data_under_one_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENSESSION_HOME", str(tmp_path))
    assert paths.config_file() == tmp_path / "config/opensession.toml"
    assert paths.data_dir() == tmp_path / "data"


def test_xdg_directories_are_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENSESSION_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert paths.config_file() == tmp_path / "cfg/opensession/opensession.toml"
    assert paths.data_dir() == tmp_path / "share/opensession"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    assert paths.data_dir() == Path.home() / ".local/share/opensession"


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml")
    assert settings.custom_paths == []
    assert settings.server_url == ""


def test_seed_example_is_read_and_paths_expanded(tmp_path: Path) -> None:
    path = tmp_path / "opensession.toml"
    path.write_text(
        '[server]\nurl = "http://localhost:3000"\napi_key = ""\n\n'
        '[identity]\nnickname = "user"\n\n'
        '[watchers]\ncustom_paths = ["~/.claude/projects", "/srv/logs"]\n\n'
        "[future]\nkept = true\n"
    )
    settings = load_settings(path)
    assert settings.server_url == "http://localhost:3000"
    assert settings.nickname == "user"
    assert settings.custom_paths == [Path.home() / ".claude/projects", Path("/srv/logs")]
    assert settings.raw["future"] == {"kept": True}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[server\nurl=1", "not valid TOML"),
        ("[watchers]\ncustom_paths = '~/x'", "watchers.custom_paths must be a list of paths"),
        ("[server]\nurl = 3000", "server.url must be a string"),
        ("server = 1", "[server] must be a table"),
        ("[privacy]\nredact_secrets = 'yes'", "privacy.redact_secrets must be true or false"),
        ("[privacy]\nexclude_projects = [1]", "privacy.exclude_projects must be a list of strings"),
    ],
)
def test_bad_config_is_a_one_line_error_naming_file_and_key(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "opensession.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_privacy_defaults_redact_secrets_only(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml")
    assert settings.redact_secrets is True
    assert settings.mask_home_paths is False
    assert settings.exclude_projects == []
    path = tmp_path / "opensession.toml"
    path.write_text(
        "[privacy]\nredact_secrets = false\nmask_home_paths = true\n"
        'exclude_projects = ["~/secret-*"]\n'
    )
    settings = load_settings(path)
    assert (settings.redact_secrets, settings.mask_home_paths) == (False, True)
    assert settings.exclude_projects == ["~/secret-*"]


def test_save_keeps_unknown_keys_and_home_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "opensession.toml"
    path.write_text(
        '[server]\nurl = "http://old"\nextra = 1\n\n'
        '[watchers]\ncustom_paths = ["~/.claude/projects"]\n\n'
        "[future]\nkept = true\n"
    )
    settings = with_value(load_settings(path), "server.url", "https://new.example")
    save_settings(settings, path)
    text = path.read_text()
    assert '"~/.claude/projects"' in text
    again = load_settings(path)
    assert again.server_url == "https://new.example"
    assert again.raw["server"]["extra"] == 1
    assert again.raw["future"] == {"kept": True}
    assert again.raw["privacy"] == {
        "redact_secrets": True,
        "mask_home_paths": False,
        "exclude_projects": [],
    }


def test_save_writes_mode_600_atomically_in_a_new_directory(tmp_path: Path) -> None:
    path = tmp_path / "new/dir/opensession.toml"
    save_settings(Settings(api_key="osk_secret"), path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_settings(path).api_key == "osk_secret"
    assert [item.name for item in path.parent.iterdir()] == ["opensession.toml"]


def test_a_corrupt_config_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "opensession.toml"
    corrupt = '[server]\nurl = "http://x"\napi_key = \n'
    path.write_text(corrupt)
    with pytest.raises(ConfigError) as caught:
        save_settings(Settings(server_url="http://y"), path)
    assert "not valid TOML at line 3" in str(caught.value)
    assert path.read_text() == corrupt


@pytest.mark.parametrize(
    ("key", "text", "field", "value"),
    [
        ("privacy.redact_secrets", "off", "redact_secrets", False),
        ("privacy.mask_home_paths", "TRUE", "mask_home_paths", True),
        ("privacy.exclude_projects", "a, b*", "exclude_projects", ["a", "b*"]),
        ("privacy.exclude_projects", '["x,y"]', "exclude_projects", ["x,y"]),
        ("watchers.custom_paths", "/srv/logs", "custom_paths", [Path("/srv/logs")]),
        ("identity.nickname", "ada", "nickname", "ada"),
        ("server.url", "http://127.0.0.1:3000", "server_url", "http://127.0.0.1:3000"),
    ],
)
def test_with_value_converts_to_the_key_type(
    key: str, text: str, field: str, value: object
) -> None:
    assert getattr(with_value(Settings(), key, text), field) == value


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("server.port", "1", "unknown key 'server.port'"),
        ("privacy.redact_secrets", "maybe", "must be true or false"),
        ("server.url", "localhost:3000", "must start with http:// or https://"),
        ("privacy.exclude_projects", "[1, 2]", "must be a list of strings"),
    ],
)
def test_with_value_refuses_bad_keys_and_values(key: str, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        with_value(Settings(), key, text)


def test_paths_set_from_the_command_line_are_saved_as_typed(tmp_path: Path) -> None:
    path = tmp_path / "opensession.toml"
    settings = with_value(load_settings(path), "watchers.custom_paths", "~/exported, /srv/logs")
    assert settings.custom_paths == [Path.home() / "exported", Path("/srv/logs")]
    save_settings(settings, path)
    written = tomllib.loads(path.read_text())
    assert written["watchers"]["custom_paths"] == ["~/exported", "/srv/logs"]
    assert load_settings(path).custom_paths == settings.custom_paths
