"""Benchmark: building the local index from many Claude Code and Codex logs, and re-scanning it.

A tmp home is filled with ``--count`` session files copied from the corpus's Claude Code and
Codex logs, each with a fresh session id, laid out where the tools keep them. Then:

- parse-only: every file parsed (``parse_path``), nothing stored: the rate indexing is held to;
- cold index: ``index_sources`` into a new database (stat, parse, store, full-text);
- warm re-scan: ``index_sources`` again with nothing changed (stats only);
- the ``opensession index`` command end to end on the warm index, and ``--help`` start-up;
- a newest-first listing of 50 and a full-text search on the index, in process and as the
  ``opensession log`` / ``opensession search`` commands (wall time, start-up included).

With ``--resume``: one large Claude Code log (the corpus's largest, repeated with fresh ids) is
indexed, grows by ``--append-mb``, and is indexed again, each ``opensession index`` a new
process: the time of its parse part and its wall time end to end, resumed from the parse the
first run saved, parsed from scratch (and saved), and parsed from scratch keeping no parse (as
before parses were kept).

    python benchmarks/index.py                 # 1,000 files
    python benchmarks/index.py --count 10000   # the issue's size
    python benchmarks/index.py --resume        # 1 MB appended to a 100 MB Claude Code log
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson

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


def environment(home: Path) -> dict[str, str]:
    env = dict(os.environ, HOME=str(home), OPENSESSION_HOME=str(home / ".opensession"))
    for variable in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env.pop(variable, None)
    return env


def cli_seconds(home: Path, *args: str) -> float:
    executable = Path(sys.executable).with_name("opensession")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [str(executable), *args], env=environment(home), check=True, capture_output=True
        )
        best = min(best, time.perf_counter() - start)
    return best


def index_many(count: int) -> None:
    """The benchmark of many files (see the module docstring)."""
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


_IDS = re.compile(
    rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:msg|toolu)_[0-9A-Za-z]+"
)


def large_claude_log(megabytes: float) -> tuple[str, bytes]:
    """(session id, content) of a Claude Code log of about ``megabytes`` MB: the corpus's largest
    repeated, each copy with its own record, message and tool call ids (one session going on)."""
    logs = [
        path for path in (CORPUS / "claude-code").rglob("*.jsonl") if "subagents" not in path.parts
    ]
    template = max(logs, key=lambda path: path.stat().st_size)
    session_id = parse_path(template, "claude-code").session.session_id.encode()
    data = template.read_bytes()
    copies = [
        _renumbered(data, session_id, number)
        for number in range(int(megabytes * 1e6 / len(data)) + 1)
    ]
    content = b"".join(copies)
    return session_id.decode(), content[: content.rindex(b"\n", 0, int(megabytes * 1e6)) + 1]


def _renumbered(data: bytes, session_id: bytes, number: int) -> bytes:
    """``data`` with every id but the session's ending in ``number`` (4 hex digits)."""
    tag = f"{number:04x}".encode()
    return _IDS.sub(lambda found: found[0] if found[0] == session_id else found[0][:-4] + tag, data)


_TIMED_INDEX = """
import sys, time
from pathlib import Path
import orjson
from opensession.localdb import indexer
from opensession.parsers.append_only import IncrementalParse
seconds = {"parse": 0.0, "load": 0.0, "save": 0.0}
def timed(name, function):
    def measured(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] += time.perf_counter() - start
    return measured
if len(sys.argv) > 2:
    indexer.RESUME_MIN_BYTES = int(sys.argv[2])
indexer._parse = timed("parse", indexer._parse)
IncrementalParse.resume = classmethod(timed("load", IncrementalParse.resume.__func__))
IncrementalParse.save = timed("save", IncrementalParse.save)
from opensession.cli.main import cli
cli(["index"], standalone_mode=False)
Path(sys.argv[1]).write_bytes(orjson.dumps(seconds))
"""
"""``opensession index`` whose parse part, loading and saving of parses are timed: the seconds
are written as JSON to the file named first; a second argument sets ``RESUME_MIN_BYTES``."""


def resume_benchmark(log_megabytes: float, append_megabytes: float) -> None:
    """Index a large log, append to it, then time the next ``opensession index``: each run a
    new process on a copy of the data folder as the first run left it, best of 3."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        home = work / "home"
        data_dir = home / ".opensession" / "data"
        session_id, data = large_claude_log(log_megabytes)
        cut = data.rindex(b"\n", 0, len(data) - int(append_megabytes * 1e6)) + 1
        log = home / ".claude/projects/-work-large" / f"{session_id}.jsonl"
        log.parent.mkdir(parents=True)
        # A parse is kept only for a log seen growing: index it, grow it by a line, index again.
        grown = data.rindex(b"\n", 0, cut - 1) + 1
        log.write_bytes(data[:grown])
        timings = work / "timings.json"
        index = [sys.executable, "-c", _TIMED_INDEX, str(timings)]

        def index_once() -> float:
            wall, _ = timed(
                lambda: subprocess.run(
                    index, env=environment(home), check=True, stdout=subprocess.DEVNULL
                )
            )
            return wall

        first = index_once()
        with log.open("ab") as stream:
            stream.write(data[grown:cut])
        second = index_once()
        parts = orjson.loads(timings.read_bytes())
        [state] = (data_dir / "parse-state").iterdir()
        print(
            f"log: {cut / 1e6:.0f} MB; first `opensession index`: {first:.2f}s end to end (no "
            f"parse kept); after a line was appended: {second:.2f}s, parse "
            f"{parts['parse'] - parts['save']:.2f}s, saving the parse {parts['save']:.2f}s "
            f"({state.stat().st_size / 1e6:.0f} MB)"
        )
        with log.open("ab") as stream:
            stream.write(data[cut:])
        snapshot = work / "snapshot"
        shutil.copytree(data_dir, snapshot)

        def run(command: list[str], *, saved: bool) -> tuple[float, dict[str, float]]:
            """Wall seconds and timed parts of ``command``, run on the data folder as the first
            run left it."""
            shutil.rmtree(data_dir)
            shutil.copytree(snapshot, data_dir)
            if not saved:
                shutil.rmtree(data_dir / "parse-state")
            wall, _ = timed(
                lambda: subprocess.run(
                    command, env=environment(home), check=True, stdout=subprocess.DEVNULL
                )
            )
            return wall, orjson.loads(timings.read_bytes())

        print(f"then {(len(data) - cut) / 1e6:.1f} MB appended and indexed again (best of 3):")
        for label, saved, command in (
            ("resumed", True, index),
            ("from scratch", False, index),
            ("none kept", False, [*index, str(sys.maxsize)]),
        ):
            trials = [run(command, saved=saved) for _ in range(3)]
            wall = min(seconds for seconds, _ in trials)
            best = min((parts for _, parts in trials), key=lambda parts: parts["parse"])
            print(
                f"  {label:12}  parse part {best['parse'] * 1000:5.0f} ms (loading the saved "
                f"parse {best['load'] * 1000:4.0f} ms, saving it {best['save'] * 1000:4.0f} ms); "
                f"`opensession index` end to end {wall * 1000:5.0f} ms"
            )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=1000, help="session files to generate")
    options.add_argument(
        "--resume", action="store_true", help="time re-indexing a large log that grew instead"
    )
    options.add_argument("--log-mb", type=float, default=100, help="--resume: log size")
    options.add_argument("--append-mb", type=float, default=1, help="--resume: bytes appended")
    arguments = options.parse_args()
    if arguments.resume:
        resume_benchmark(arguments.log_mb, arguments.append_mb)
    else:
        index_many(arguments.count)


if __name__ == "__main__":
    main()
