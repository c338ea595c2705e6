"""Benchmark: the handoff of the last 6 sessions on a 10,000-session index.

A tmp home gets ``--count`` Claude Code and Codex logs (as ``benchmarks/index.py`` makes them)
and is indexed once. Then, wall time with Python start-up, best of 3:

- ``opensession session handoff --last 6 --format json`` (the index brought up to date first,
  then 6 sessions parsed, summarised and merged);
- the same as Markdown with ``--validate``;
- the 6 largest session files named as files (parsing dominates);
- in process: building and merging the 6 summaries from parsed sessions (the handoff's own
  cost, parsing excluded).

    python benchmarks/handoff.py                 # 1,000 files
    python benchmarks/handoff.py --count 10000   # the issue's size
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from index import generate
from opensession.handoff.builder import build_summary
from opensession.handoff.merge import merge_summaries
from opensession.localdb.refs import load_session, resolve_recent
from opensession.localdb.store import LocalIndex


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=1000, help="session files to generate")
    count = options.parse_args().count
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        size = generate(home, count)
        print(f"{count:,} session files, {size / 1e6:,.0f} MB")
        env = dict(os.environ, HOME=str(home), OPENSESSION_HOME=str(home / ".opensession"))
        for variable in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
            env.pop(variable, None)
        executable = Path(sys.executable).with_name("opensession")
        subprocess.run([str(executable), "index"], env=env, check=True, capture_output=True)

        def wall(*args: str) -> float:
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                command = [str(executable), "session", "handoff", *args]
                subprocess.run(command, env=env, cwd=home, check=True, capture_output=True)
                best = min(best, time.perf_counter() - start)
            return best

        json_wall = wall("--last", "6", "--format", "json")
        md_wall = wall("--last", "6", "--validate")
        largest = sorted(home.rglob("*.jsonl"), key=lambda path: path.stat().st_size)[-6:]
        large_wall = wall("--format", "json", *map(str, largest))
        with LocalIndex.open(home / ".opensession" / "data" / "local.db") as index:
            sessions = [load_session(s) for s in resolve_recent(index, 6, cwd=home)]
        start = time.perf_counter()
        merge_summaries(build_summary(session) for session in sessions)
        build = time.perf_counter() - start
        events = sum(len(session.events) for session in sessions)
        print(f"handoff --last 6 --format json   {json_wall * 1000:7.0f} ms wall (target < 1000)")
        print(f"handoff --last 6 --validate (md) {md_wall * 1000:7.0f} ms wall")
        size = sum(path.stat().st_size for path in largest) / 1e6
        print(f"handoff of the 6 largest files   {large_wall * 1000:7.0f} ms wall ({size:.0f} MB)")
        print(f"build + merge, in process        {build * 1000:7.1f} ms for {events:,} events")


if __name__ == "__main__":
    main()
