from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from opensession.parsers.discovery import (
    SessionSource,
    default_locations,
    discover,
    scope_to_repo,
    sources_in,
)


def roots(platform: str, env: dict[str, str], home: Path) -> dict[str, set[Path]]:
    found: dict[str, set[Path]] = {}
    for location in default_locations(platform, env, home):
        found.setdefault(location.tool, set()).add(location.root)
    return found


def test_linux_defaults_honour_each_tools_environment_variables(tmp_path: Path) -> None:
    home = Path("/home/ada")
    env = {
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "CODEX_HOME": str(tmp_path / "codex"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    found = roots("linux", env, home)
    assert found["claude-code"] == {tmp_path / "claude/projects"}
    assert found["codex"] == {tmp_path / "codex/sessions"}
    assert found["opencode"] == {tmp_path / "data/opencode"}
    assert found["amp"] == {tmp_path / "data/amp/threads"}
    assert tmp_path / "config/Cursor/User/globalStorage" in found["cursor"]
    assert (
        tmp_path / "config/Code/User/globalStorage/saoudrizwan.claude-dev/tasks" in found["cline"]
    )
    assert found["gemini"] == {home / ".gemini/tmp"}


def test_macos_and_windows_put_editor_data_in_their_own_folders() -> None:
    mac = roots("darwin", {}, Path("/Users/ada"))
    support = Path("/Users/ada/Library/Application Support")
    assert support / "Cursor/User/globalStorage" in mac["cursor"]
    assert mac["claude-code"] == {Path("/Users/ada/.claude/projects")}
    windows = roots("win32", {"APPDATA": "C:/Users/ada/AppData/Roaming"}, Path("C:/Users/ada"))
    roaming = Path("C:/Users/ada/AppData/Roaming")
    assert windows["cursor"] == {roaming / "Cursor/User/globalStorage"}
    assert roaming / "Code/User/globalStorage/rooveterinaryinc.roo-cline/tasks" in windows["cline"]
    assert roaming / "Block/goose/data/sessions" in windows["goose"]


def seed_home(corpus: Path, home: Path) -> None:
    """Real corpus sessions placed where their tools write them."""
    project = home / ".claude/projects/-home-marco-projects-spotter"
    shutil.copytree(corpus / "claude-code/spotter", project)
    day = home / ".codex/sessions/2026/02/23"
    day.mkdir(parents=True)
    for rollout in (corpus / "codex/localpush").glob("rollout-*.jsonl"):
        shutil.copy(rollout, day / rollout.name)
    chats = home / ".gemini/tmp/0a1b2c/chats"
    chats.mkdir(parents=True)
    shutil.copy(corpus / "gemini/agentsview__tool_calls.json", chats / "session-2026-01-01.json")


def test_discovers_sessions_in_their_default_locations(corpus: Path, tmp_path: Path) -> None:
    seed_home(corpus, tmp_path)
    found = discover(locations=default_locations("linux", {}, tmp_path)).by_tool()
    claude_files = sorted(p.name for p in (corpus / "claude-code/spotter").glob("*.jsonl"))
    assert sorted(s.path.name for s in found["claude-code"]) == claude_files
    assert len(found["codex"]) == 3
    assert [s.path.name for s in found["gemini"]] == ["session-2026-01-01.json"]
    assert "cursor" not in found


def test_custom_paths_are_recognised_by_content_and_counted_once(
    corpus: Path, tmp_path: Path
) -> None:
    seed_home(corpus, tmp_path)
    mixed = tmp_path / "exports"
    mixed.mkdir()
    shutil.copy(corpus / "codex/opensession__rollout-desktop.jsonl", mixed / "a.jsonl")
    shutil.copy(corpus / "aider/automataii__.aider.chat.history.md", mixed / "notes.md")
    (mixed / "readme.txt").write_text("not a session")
    locations = default_locations("linux", {}, tmp_path)
    found = discover([mixed, tmp_path / ".codex/sessions"], locations=locations)
    tools = {(s.tool, s.path.name) for s in found.sources if s.path.parent == mixed}
    assert tools == {("codex", "a.jsonl"), ("aider", "notes.md")}
    assert len(found.by_tool()["codex"]) == 4


def test_subagent_files_are_left_to_their_parent_session(corpus: Path, tmp_path: Path) -> None:
    shutil.copytree(corpus / "claude-code/spotter", tmp_path / "spotter")
    names = {source.path.name for source in sources_in(tmp_path / "spotter")}
    assert not any(name.startswith("agent-") for name in names)


def test_repo_scope_keeps_sessions_whose_cwd_is_inside_the_repo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / ".aider.chat.history.md").write_text("# aider chat started at 2026-01-01 10:00:00\n")
    cwd = {
        tmp_path / "in.jsonl": str(repo / "sub"),
        tmp_path / "out.jsonl": str(tmp_path / "elsewhere"),
    }
    for path in cwd:
        path.write_text("{}\n")

    class Fixed:
        tool = "codex"

        def __init__(self, path: Path) -> None:
            self.root = path.parent
            self.pattern = path.name

        def sources(self) -> list[SessionSource]:
            return [SessionSource("codex", self.root / self.pattern)]

    everything = discover(locations=[Fixed(path) for path in cwd])  # type: ignore[list-item]
    found = scope_to_repo(everything, repo, lambda source: cwd.get(source.path))
    assert sorted((s.tool, s.path.name) for s in found.sources) == [
        ("aider", ".aider.chat.history.md"),
        ("codex", "in.jsonl"),
    ]


@pytest.mark.parametrize("name", ["missing", "file.txt"])
def test_nothing_found_in_paths_without_sessions(tmp_path: Path, name: str) -> None:
    if name == "file.txt":
        (tmp_path / name).write_text("hello")
    assert list(sources_in(tmp_path / name)) == []
