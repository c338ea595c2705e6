"""Benchmark: start-up of the terminal UI to its first painted list, on 10,000 cached sessions.

A tmp home gets ``--count`` Claude Code and Codex logs (``index.py``'s generator: the corpus's
logs with fresh ids, where the tools keep them), indexed into its ``OPENSESSION_HOME``. Then:

- in process: ``OpenSessionApp.run_test`` at 80x24, from entering it to the first frame with
  the sessions listed (Python and Textual already imported: the app's own start-up);
- end to end: the ``opensession`` command in a detached tmux pane of 80x24, from launching it
  to the list's status line (``N sessions``) on the pane (``capture-pane`` polled every 5 ms):
  what the user waits for, interpreter start and imports included; with the refresh from disk
  at start-up off, then on (the cached list is painted before the refresh ends either way).

    python benchmarks/tui.py                # 10,000 sessions
    python benchmarks/tui.py --count 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from index import environment, generate
from opensession.localdb.indexer import index_sources
from opensession.localdb.store import LocalIndex
from opensession.parsers.discovery import default_locations, discover

TARGET_MS = 500


def seed(home: Path, count: int) -> int:
    """``count`` logs under ``home``, indexed; returns the sessions indexed."""
    generate(home, count)
    sources = discover(locations=default_locations("linux", {}, home)).sources
    with LocalIndex.open(home / ".opensession" / "data" / "local.db") as index:
        index_sources(index, sources)
        return index.count_sessions(include_auxiliary=False)


def in_process_ms(home: Path) -> float:
    """Milliseconds from starting the app to its first frame with the list painted."""
    os.environ.update(environment(home))
    from opensession.tui.app import OpenSessionApp

    async def run() -> float:
        app = OpenSessionApp(environ={"OPS_TUI_REFRESH_DISCOVERY_ON_START": "0"})
        start = time.perf_counter()
        async with app.run_test(size=(80, 24)) as pilot:
            while not app.sessions.table.entries:
                await asyncio.sleep(0.001)
            await pilot.pause()  # the frame with the rows
            elapsed = time.perf_counter() - start
            await pilot.press("q")
        return elapsed * 1000

    return asyncio.run(run())


def terminal_ms(home: Path, count: int, *, refresh: bool) -> float:
    """Milliseconds from launching ``opensession`` in tmux (80x24) to the list on the pane."""
    executable = Path(sys.executable).with_name("opensession")
    env = environment(home)
    env["OPS_TUI_REFRESH_DISCOVERY_ON_START"] = "1" if refresh else "0"
    variables = [f"{name}={env[name]}" for name in ("HOME", "OPENSESSION_HOME")]
    variables.append(
        f"OPS_TUI_REFRESH_DISCOVERY_ON_START={env['OPS_TUI_REFRESH_DISCOVERY_ON_START']}"
    )
    # A tmux server of its own per run: no race with a server still exiting, no other panes.
    tmux = ["tmux", "-L", f"ops-bench-{os.getpid()}-{time.monotonic_ns()}"]
    expected = f"{count:,} sessions"
    start = time.perf_counter()
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "80", "-y", "24",
         "env", *variables, "TERM=xterm-256color", str(executable)],
        check=True, cwd=home,
    )  # fmt: skip
    try:
        while True:
            pane = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            if expected in pane:
                return (time.perf_counter() - start) * 1000
            if time.perf_counter() - start > 30:
                raise RuntimeError(f"the list did not appear within 30 s:\n{pane}")
            time.sleep(0.005)
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="session files to index")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each measure")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        started = time.perf_counter()
        sessions = seed(home, arguments.count)
        print(f"seeded: {sessions:,} sessions indexed in {time.perf_counter() - started:.1f}s")
        runs = [in_process_ms(home) for _ in range(arguments.rounds)]
        print(
            f"in process (run_test 80x24) to the first painted list: first {runs[0]:.0f} ms, "
            f"median {statistics.median(runs):.0f} ms, best {min(runs):.0f} ms "
            f"(target < {TARGET_MS} ms)"
        )
        if shutil.which("tmux") is None:
            print("tmux is not installed: the end-to-end measure is skipped")
            return
        for refresh in (False, True):
            runs = [terminal_ms(home, sessions, refresh=refresh) for _ in range(arguments.rounds)]
            print(
                f"`opensession` in tmux 80x24, refresh at start {'on ' if refresh else 'off'}, "
                f"launch to the list on screen: median {statistics.median(runs):.0f} ms, "
                f"best {min(runs):.0f} ms, worst {max(runs):.0f} ms"
            )


if __name__ == "__main__":
    main()
