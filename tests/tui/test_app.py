"""The app's shell: tabs, help, going back and quitting, themes, and the entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.pilot import Pilot

from opensession.tui.app import OpenSessionApp
from opensession.tui.help import help_sections
from opensession.tui.session_list import SessionTable
from tests.tui.conftest import NO_REFRESH, Seed, drive, screen_text, seed_index, wait_until


@pytest.fixture
def seeded(ops_home: Path) -> Path:
    seed_index(ops_home, [Seed("s-one", "Port the parser"), Seed("s-two", "Tune the index")])
    return ops_home


async def loaded(pilot: Pilot[object]) -> None:
    app = pilot.app
    assert isinstance(app, OpenSessionApp)
    await wait_until(pilot, lambda: "Port the parser" in screen_text(app))


def test_help_lists_every_key_of_every_view(seeded: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        shown = " ".join(screen_text(app).split())
        for title, owners in help_sections():
            assert title in shown
            for owner in owners:
                for binding in Binding.make_bindings(owner.__dict__.get("BINDINGS", [])):
                    if binding.description and not binding.system:
                        assert (binding.tooltip or binding.description) in shown, binding
        for keys in ("j/Down", "k/Up", "Space", "Tab", "/", "?", "Esc", "Enter", "P", "1", "2"):
            assert f" {keys} " in shown
        await pilot.press("escape")
        await pilot.pause()
        assert "Port the parser" in screen_text(app)

    drive(app, scenario, size=(100, 200))


def test_number_keys_switch_tabs_and_q_goes_back_then_quits(seeded: Path) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert "Server URL" in screen_text(app)
        await pilot.press("1")
        await pilot.pause()
        assert "Port the parser" in screen_text(app)
        await pilot.press("2")
        await pilot.pause()
        assert type(app.screen).__name__ == "HandoffScreen"
        await pilot.press("3")
        await pilot.pause()
        assert "Server URL" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert "Port the parser" in screen_text(app)
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert "Port the parser" in screen_text(app)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0

    drive(app, scenario)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_every_line_reads_in_light_and_dark_themes(seeded: Path, theme: str) -> None:
    app = OpenSessionApp(environ=NO_REFRESH)

    async def scenario(pilot: Pilot[object]) -> None:
        await loaded(pilot)
        app.theme = theme
        await pilot.pause()
        assert "Tune the index" in screen_text(app)
        table = app.query_one(SessionTable)
        for line in (0, 1):  # the cursor's line, then an other
            for segment in table.render_line(line):
                if segment.text.strip() and segment.style is not None:
                    assert segment.style.color != segment.style.bgcolor, (theme, segment)

    drive(app, scenario)


def run_opensession(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).with_name("opensession")
    env = dict(os.environ, OPENSESSION_HOME=str(cwd / ".opensession"))
    return subprocess.run(
        [str(executable), *args], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )


def test_without_a_terminal_opensession_prints_its_help(tmp_path: Path) -> None:
    result = run_opensession(cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: opensession")


def test_opensession_dot_needs_a_git_repository_and_a_terminal(tmp_path: Path) -> None:
    outside = run_opensession(".", cwd=tmp_path)
    assert outside.returncode == 1
    assert f"{tmp_path} is not inside a git repository" in outside.stderr
    (tmp_path / ".git").mkdir()
    piped = run_opensession(".", cwd=tmp_path)
    assert piped.returncode == 1
    assert "the terminal UI needs a terminal" in piped.stderr
