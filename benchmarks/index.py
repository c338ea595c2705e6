"""Benchmark: building the local index from many Claude Code and Codex logs, and re-scanning it.

A tmp home is filled with ``--count`` session files copied from the corpus's Claude Code and
Codex logs, each with a fresh session id, laid out where the tools keep them. Then:

- parse-only: every file parsed (``parse_path``), nothing stored: the rate indexing is held to;
- cold index: ``index_sources`` into a new database (stat, parse, store, full-text);
- warm re-scan: ``index_sources`` again with nothing changed (stats only);
- the ``opensession index`` command end to end on the warm index, and ``--help`` start-up;
- a newest-first listing of 50 and a full-text search on the index, in process and as the
  ``opensession log`` / ``opensession search`` commands (wall time, start-up included).

    python benchmarks/index.py                 # 1,000 files
    python benchmarks/index.py --count 10000   # the issue's size
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from opensession.localdb.indexer import index_sources
from opensession.localdb.store import LocalIndex
from opensession.parsers.discovery import default_locations, discover
from opensession.parsers.registry import parse_path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def _templates() -> list[tuple[str, Path, str]]:
    """(tool, file, session id) of every top-level Claude Code and Codex log of the corpus."""
    found = []
    for tool, folder in (("claude-code", "claude-code"), ("codex", "codex")):
        for path in sorted((CORPUS / folder).rglob("*.jsonl")):
            if "subagents" in path.parts:
                continue
            found.append((tool, path, parse_path(path, tool).session.session_id))
    return found


def generate(home: Path, count: int) -> int:
    """``count`` session files under ``home`` with fresh ids; returns their total bytes."""
    templates = _templates()
    total = 0
    for number in range(count):
        tool, template, old_id = templates[number % len(templates)]
        new_id = str(uuid.uuid4())
        data = template.read_bytes().replace(old_id.encode(), new_id.encode())
        if tool == "claude-code":
            target = home / ".claude/projects" / f"-work-project-{number % 20}" / f"{new_id}.jsonl"
        else:
            day = home / ".codex/sessions/2026/02" / f"{number % 28 + 1:02d}"
            target = day / f"rollout-2026-02-23T12-00-00-{new_id}.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        total += len(data)
    return total


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def cli_seconds(home: Path, *args: str) -> float:
    env = dict(os.environ, HOME=str(home), OPENSESSION_HOME=str(home / ".opensession"))
    for variable in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env.pop(variable, None)
    executable = Path(sys.executable).with_name("opensession")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([str(executable), *args], env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=1000, help="session files to generate")
    count = options.parse_args().count

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        size = generate(home, count)
        megabytes = size / 1e6
        locations = default_locations("linux", {}, home)
        discovery_time, found = timed(lambda: discover(locations=locations))
        sources = found.sources
        print(f"corpus: {len(sources)} files, {megabytes:.0f} MB; discovery {discovery_time:.2f}s")

        def parse_all() -> int:
            return sum(len(parse_path(s.path, s.tool).sessions) for s in sources)

        parse_time, sessions = timed(parse_all)
        print(
            f"parse-only:   {parse_time:6.2f}s  {sessions / parse_time:7.0f} sessions/s  "
            f"{megabytes / parse_time:6.1f} MB/s  ({sessions} sessions)"
        )
        database = home / ".opensession" / "data" / "local.db"
        with LocalIndex.open(database) as index:
            cold_time, report = timed(lambda: index_sources(index, sources))
            print(
                f"cold index:   {cold_time:6.2f}s  {sessions / cold_time:7.0f} sessions/s  "
                f"{megabytes / cold_time:6.1f} MB/s  ({report.summary()}); "
                f"{parse_time / cold_time:.0%} of the parse-only rate"
            )
            warm_time, report = timed(lambda: index_sources(index, sources))
            print(f"warm re-scan: {warm_time * 1000:6.0f} ms ({report.summary()})")
            list_time, _ = timed(lambda: index.list_sessions(limit=50))
            search_time, hits = timed(lambda: index.search("README.md", limit=50))
            print(
                f"list 50: {list_time * 1000:.1f} ms; search: {search_time * 1000:.1f} ms "
                f"({len(hits)} hits); {index.count_sessions()} sessions indexed, database "
                f"{database.stat().st_size / 1e6:.0f} MB"
            )
        print(
            f"`opensession index` warm, end to end: {cli_seconds(home, 'index') * 1000:.0f} ms; "
            f"`opensession --help`: {cli_seconds(home, '--help') * 1000:.0f} ms; "
            f"`opensession log -n 50`: {cli_seconds(home, 'log', '-n', '50') * 1000:.0f} ms; "
            f"`opensession search README.md`: "
            f"{cli_seconds(home, 'search', 'README.md') * 1000:.0f} ms (best of 3, wall)"
        )


if __name__ == "__main__":
    main()
