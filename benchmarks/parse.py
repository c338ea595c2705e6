"""Benchmark: parsing speed per tool, incremental re-parse, and a peer.

- Claude Code and Codex: a large log is built by repeating the corpus's records with fresh ids
  and later timestamps; parsing it is timed next to plain ``orjson.loads`` of its lines (the
  limit of a parse that decodes every line), and next to the parse with every line decoded
  (the builders read some lines from their bytes alone: Claude Code's progress records,
  Codex's repeated turn contexts).
- Every tool: each corpus session parsed repeatedly, reported as sessions/s and MB/s.
- Incremental: a 100 MB Claude Code log parsed once, then 1 MB appended and re-parsed.
- Peer: ``claude-code-log`` (PyPI) converting the same Claude Code log to JSON, when installed
  (``--peer PATH`` to its executable).

    python benchmarks/parse.py                        # 50 MB logs, 100 MB incremental
    python benchmarks/parse.py --size-mb 10 --incremental-mb 20   # quick
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from opensession.parsers.append_only import AppendOnlyParser, IncrementalParse
from opensession.parsers.common import collector_paused, read_json_lines
from opensession.parsers.discovery import sources_in
from opensession.parsers.registry import TOOLS, get_parser

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
# The Codex corpus had its free text replaced by "[REDACTED_<KIND> len=<N> sha=…]": expanded back
# to N characters, the log regains its real size distribution.
_PLACEHOLDER = re.compile(r"\[REDACTED_([A-Z_]+) len=(\d+) sha=[0-9a-f]+\]")
_VOCABULARY = (
    "the function returns None when config path is missing so we check os.environ first "
    "def class import self return await raise except pytest -q tests/ FAILED assert 42 == 41 "
    "Traceback File src/app.py line 12 README.md Cargo.toml npm run build café 日本語"
)
_WORDS = _VOCABULARY.split()
_ID_KEYS = frozenset(
    {"uuid", "parentUuid", "leafUuid", "id", "tool_use_id", "call_id", "sessionId", "turn_id"}
)


def _shift_time(value: str, offset: timedelta) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return (moment + offset).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _prose(size: int, seed: int) -> str:
    rng = random.Random(seed)
    text = "\n".join(" ".join(rng.choices(_WORDS, k=12)) for _ in range(size // 60 + 1))
    return text[:size]


def _expanded(text: str) -> str:
    found = _PLACEHOLDER.fullmatch(text)
    if found is None:
        return text
    kind, size = found.group(1), int(found.group(2))
    if kind == "ARGUMENTS":
        return orjson.dumps({"cmd": _prose(max(size - 12, 1), size)}).decode()
    return _prose(size, size)


def _renamed(value: Any, copy: int, offset: timedelta) -> Any:
    """A record with every id made unique to ``copy`` and its timestamps moved by ``offset``."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _ID_KEYS and isinstance(item, str) and key != "sessionId":
                out[key] = f"{item}-{copy}"
            elif key == "timestamp" and isinstance(item, str):
                out[key] = _shift_time(item, offset)
            elif isinstance(item, str):
                out[key] = _expanded(item)
            else:
                out[key] = _renamed(item, copy, offset)
        return out
    if isinstance(value, list):
        return [_renamed(item, copy, offset) for item in value]
    return _expanded(value) if isinstance(value, str) else value


def _records(paths: list[Path]) -> list[dict[str, Any]]:
    records = []
    for path in paths:
        for raw in path.read_bytes().splitlines():
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def _largest(folder: Path, pattern: str) -> Path:
    return max(folder.glob(pattern), key=lambda path: path.stat().st_size)


def _span(records: list[dict[str, Any]]) -> timedelta:
    """How long the records last, from their first to their last timestamp."""
    moments = []
    for record in records:
        value = record.get("timestamp")
        if isinstance(value, str):
            try:
                moments.append(datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                continue
    return max(moments) - min(moments) if moments else timedelta(0)


def build_log(
    records: list[dict[str, Any]], target: Path, size_mb: float, *, head: int = 0
) -> None:
    """A log of about ``size_mb``: the first ``head`` records once (session metadata), then
    every record repeated with fresh ids, each copy starting after the previous one ends."""
    step = _span(records[head:]) + timedelta(minutes=1)
    with target.open("wb") as stream:
        for record in records[:head]:
            stream.write(orjson.dumps(record) + b"\n")
        copy = 0
        while stream.tell() < size_mb * 1e6:
            offset = step * copy
            for record in records[head:]:
                stream.write(orjson.dumps(_renamed(record, copy, offset)) + b"\n")
                if stream.tell() >= size_mb * 1e6:
                    return
            copy += 1


def _best_of(runs: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - began)
    return best


def _orjson_lines(path: Path) -> None:
    with path.open("rb", buffering=1024 * 1024) as stream:
        for line in stream:
            orjson.loads(line)


def _decoding_every_line(parser: AppendOnlyParser, path: Path) -> None:
    """The parse without the builder's quick reader: every line decoded."""
    builder = parser.new_builder(path)
    with collector_paused():
        read_json_lines(path, builder.warnings, builder.add)
        builder.build(final=True)


def _log_rates(tool: str, path: Path) -> None:
    parser = get_parser(tool)
    assert isinstance(parser, AppendOnlyParser)
    mb = path.stat().st_size / 1e6
    plain = _best_of(2, lambda: _orjson_lines(path))
    ours = _best_of(2, lambda: parser.parse(path))
    decoding = _best_of(2, lambda: _decoding_every_line(parser, path))
    events = len(parser.parse(path).session.events)
    print(
        f"{tool:<12} {mb:6.1f} MB log, {events} events: parse {mb / ours:7.1f} MB/s"
        f" | orjson lines {mb / plain:7.1f} MB/s | ratio {plain / ours:.0%} (target >= 35%)"
        f" | every line decoded {mb / decoding:7.1f} MB/s, ratio {plain / decoding:.0%}"
    )


def _corpus_sources(corpus: Path) -> Iterator[tuple[str, Path]]:
    for tool in TOOLS:
        folder = corpus / tool
        if folder.is_dir():
            for source in sources_in(folder):
                yield source.tool, source.path


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _corpus_rates(corpus: Path) -> None:
    by_tool: dict[str, list[Path]] = {}
    for tool, path in _corpus_sources(corpus):
        by_tool.setdefault(tool, []).append(path)
    for tool, paths in by_tool.items():
        parser = get_parser(tool)
        total_bytes = sum(_size(path) for path in paths)
        rounds = max(1, int(2e6 // max(total_bytes, 1)))
        began = time.perf_counter()
        for _ in range(rounds):
            for path in paths:
                parser.parse(path)
        seconds = time.perf_counter() - began
        count = rounds * len(paths)
        print(
            f"{tool:<12} corpus: {len(paths):3d} source(s), {count / seconds:8.0f} sessions/s,"
            f" {total_bytes * rounds / seconds / 1e6:6.1f} MB/s"
        )


def _incremental(records: list[dict[str, Any]], folder: Path, size_mb: float) -> None:
    path = folder / "incremental.jsonl"
    build_log(records, path, size_mb)
    extra = folder / "extra.jsonl"
    build_log(records, extra, 1.0)
    appended = extra.read_bytes()
    parse = IncrementalParse(get_parser("claude-code"), path)  # type: ignore[arg-type]
    began = time.perf_counter()
    parse.update()
    initial = time.perf_counter() - began
    with path.open("ab") as stream:
        stream.write(appended)
    began = time.perf_counter()
    result = parse.update()
    again = time.perf_counter() - began
    print(
        f"incremental  {size_mb:.0f} MB log parsed in {initial:.2f} s; {len(appended) / 1e6:.1f} MB"
        f" appended, re-parsed in {again * 1000:.0f} ms (target < 50 ms);"
        f" {len(result.session.events)} events"
    )


def _peer(executable: str | None, log: Path, folder: Path) -> None:
    if executable is None:
        print("peer         claude-code-log not installed (pip install claude-code-log)")
        return
    target = folder / "peer.json"
    began = time.perf_counter()
    completed = subprocess.run(
        [executable, str(log), "-o", str(target)], capture_output=True, check=False
    )
    seconds = time.perf_counter() - began
    status = "ok" if completed.returncode == 0 else f"exit {completed.returncode}"
    mb = log.stat().st_size / 1e6
    print(
        f"peer         claude-code-log to JSON: {mb / seconds:7.1f} MB/s"
        f" ({seconds:.2f} s, {status})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--size-mb", type=float, default=50)
    parser.add_argument("--incremental-mb", type=float, default=100)
    parser.add_argument("--peer", default=shutil.which("claude-code-log"))
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"no corpus at {args.corpus}: pass --corpus")

    # One real session each, the largest, repeated: sessions concatenated would interleave
    # their timestamps, which no real log does.
    claude = _records([_largest(args.corpus / "claude-code/spotter", "*.jsonl")])
    codex_files = [_largest(args.corpus / "codex/localpush", "rollout-*.jsonl")]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        claude_log = folder / "claude.jsonl"
        build_log(claude, claude_log, args.size_mb)
        _log_rates("claude-code", claude_log)
        codex_log = folder / "rollout-2026-02-23T12-40-23-bench.jsonl"
        build_log(_records(codex_files), codex_log, args.size_mb, head=1)
        _log_rates("codex", codex_log)
        _corpus_rates(args.corpus)
        _incremental(claude, folder, args.incremental_mb)
        _peer(args.peer, claude_log, folder)


if __name__ == "__main__":
    main()
