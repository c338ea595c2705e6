from __future__ import annotations

from pathlib import Path

import pytest

from opensession.config import paths
from opensession.config.settings import ConfigError, load_settings


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
