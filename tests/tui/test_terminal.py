"""End to end in a real terminal: ``opensession`` in a tmux pane of 80x24, over a home where
real Claude Code and Codex sessions of the shared corpus lie where those tools keep them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.localdb.conftest import CODEX_DAY, SPOTTER_PROJECT, copy_tree

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

CLAUDE_TITLES = (
    "Implement spotter-gqc",
    "Work on bead spotter-4te",
    "mix phx.server doesnt seem",
    "start phoenix in background",
)
CODEX_TITLES = ("[REDACTED_MESSAGE len=516", "[REDACTED_MESSAGE len=64 ")


class Pane:
    """A detached tmux session of its own server (``-L``), running one command."""

    def __init__(self, socket: str) -> None:
        self.tmux = ["tmux", "-L", socket]

    def start(self, command: list[str], *, cwd: Path, width: int = 80, height: int = 24) -> None:
        size = ["-x", str(width), "-y", str(height)]
        subprocess.run([*self.tmux, "new-session", "-d", *size, *command], cwd=cwd, check=True)

    def text(self) -> str:
        """What the pane shows now."""
        shown = subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True)
        return shown.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-l", text], check=True)

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 30) -> str:
        """The pane's text once ``condition`` holds for it (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.text()
            if condition(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"the pane never showed what was expected:\n{shown}")
            time.sleep(0.05)

    def start_opensession(self, home: Path, data: Path, *arguments: str, cwd: Path) -> None:
        """Run this venv's ``opensession`` with ``home`` as the user's home (every tool's
        folders under it) and ``data`` as its own, nothing of the real user's reachable."""
        environment = {
            "HOME": str(home),
            "OPENSESSION_HOME": str(data),
            "CLAUDE_CONFIG_DIR": str(home / ".claude"),
            "CODEX_HOME": str(home / ".codex"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "TERM": "xterm-256color",
        }
        executable = Path(sys.executable).with_name("opensession")
        variables = [f"{name}={value}" for name, value in environment.items()]
        self.start(["env", *variables, str(executable), *arguments], cwd=cwd)

    def alive(self) -> bool:
        return subprocess.run([*self.tmux, "has-session"], capture_output=True).returncode == 0

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    opened = Pane(f"opensession-test-{os.getpid()}-{tmp_path.name}")
    yield opened
    opened.kill()


def test_opensession_lists_the_corpus_sessions_searches_and_opens_one(
    corpus: Path, tmp_path: Path, pane: Pane
) -> None:
    home = tmp_path / "home"
    copy_tree(corpus / "claude-code/spotter", home / SPOTTER_PROJECT)
    copy_tree(corpus / "codex/localpush", home / CODEX_DAY)
    pane.start_opensession(home, tmp_path / "ops", cwd=home)

    # The index is empty: the titles come from the refresh from disk at start-up.
    shown = pane.wait_for(lambda text: all(title in text for title in CLAUDE_TITLES))
    pane.wait_for(lambda text: all(title in text for title in CODEX_TITLES))
    assert "1 Sessions" in shown.splitlines()[0]

    pane.keys("/")
    pane.wait_for(lambda text: "search titles, repos" in text)
    pane.type("phoenix")
    shown = pane.wait_for(lambda text: "search: phoenix" in text)
    assert "start phoenix in background" in shown
    assert "Implement spotter-gqc" not in shown

    pane.keys("Escape")
    pane.wait_for(lambda text: "Implement spotter-gqc" in text)
    pane.keys("/")
    pane.wait_for(lambda text: "search titles, repos" in text)
    pane.type("spotter-gqc")
    pane.wait_for(lambda text: "search: spotter-gqc" in text)
    pane.keys("Enter")
    pane.wait_for(lambda text: "text: spotter-gqc" in text)
    pane.keys("Enter")
    # The session's detail: its title, and no longer the list's tabs.
    pane.wait_for(lambda text: "Implement spotter-gqc" in text and "1 Sessions" not in text)

    pane.keys("q")
    pane.wait_for(lambda text: "text: spotter-gqc" in text)
    pane.keys("q")
    deadline = time.monotonic() + 10
    while pane.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pane.alive()


def test_opensession_dot_shows_the_current_repository_s_sessions_only(
    corpus: Path, tmp_path: Path, pane: Pane
) -> None:
    home = tmp_path / "home"
    copy_tree(corpus / "claude-code/spotter", home / SPOTTER_PROJECT)
    repo = home / "work" / "app"
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    log = home / ".claude/projects/-work-app/app-1.jsonl"
    log.parent.mkdir(parents=True)
    record = (
        '{"type":"user","uuid":"u1","sessionId":"app-1","timestamp":"2026-03-01T10:00:00Z",'
        f'"cwd":"{repo / "src"}","message":{{"role":"user","content":"Refactor the app loader"}}}}'
    )
    log.write_text(record + "\n")
    pane.start_opensession(home, tmp_path / "ops", ".", cwd=repo / "src")

    # Once the refresh from disk is over, the repository's one session and nothing else.
    shown = pane.wait_for(lambda text: "refreshed:" in text)
    assert "Refactor the app loader" in shown and "1 session" in shown
    assert not any(title in shown for title in CLAUDE_TITLES)
    pane.keys("Tab")  # every session on the machine
    pane.wait_for(lambda text: all(title in text for title in CLAUDE_TITLES))
    pane.keys("q")
