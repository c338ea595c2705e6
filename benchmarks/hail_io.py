"""Benchmark: write and read back a large HAIL JSONL file.

Builds a file of realistic events (messages, thinking, tool calls, large tool outputs, diffs, one
very large tool output), then reports, each in a fresh process so peak memory is its own:

- write: HailWriter serialising Event objects to disk;
- read: HailReader streaming and validating every event (the product's path);
- orjson: plain ``orjson.loads`` of the same lines, the physical limit for us.

Peak RSS is reported as growth over the process's RSS just before reading, next to the largest
single event (on disk, and decoded as Python strings), since a streaming reader should need
about one event's worth of memory.

    python benchmarks/hail_io.py                 # 200 MB, as in the issue
    python benchmarks/hail_io.py --size-mb 20    # a quick run
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from opensession.hail import model as m
from opensession.hail.jsonl import HailWriter, open_hail

VOCABULARY = (
    "the function returns None when config path is missing so we check os.environ first "
    "def class import from self return await async yield raise except try finally with "
    "pytest -q tests/ FAILED assert 42 == 41 Traceback (most recent call last): File "
    '"src/app.py", line 12, in <module> {"key": "value", "n": 3} café naïve 日本語 ✓ '
    "src/opensession/hail/model.py README.md Cargo.toml npm run build -- --watch"
)
WORDS = VOCABULARY.split()


def _text(rng: random.Random, pool: list[str], size: int) -> str:
    chunk = pool[rng.randrange(len(pool))]
    repeats = size // len(chunk) + 1
    return (chunk * repeats)[:size]


def _pool(rng: random.Random) -> list[str]:
    pool = []
    for _ in range(64):
        lines = []
        for _ in range(rng.randint(5, 40)):
            lines.append(" ".join(rng.choices(WORDS, k=rng.randint(3, 16))))
        pool.append("\n".join(lines) + "\n")
    return pool


def _events(rng: random.Random, target_bytes: int, big_event_bytes: int) -> list[m.Event]:
    pool = _pool(rng)
    start = datetime(2026, 2, 21, tzinfo=UTC)
    events: list[m.Event] = []
    produced = 0
    index = 0

    def add(kind: object, blocks: list[object], **extra: object) -> None:
        nonlocal produced, index
        index += 1
        event = m.Event(
            event_id=f"e{index}",
            timestamp=start + timedelta(milliseconds=index * 750),
            event_type=kind,
            content=m.Content(blocks=blocks),
            **extra,
        )
        events.append(event)
        produced += len(event.model_dump_json())

    while produced < target_bytes:
        roll = rng.random()
        if roll < 0.05:
            add(m.UserMessage(), [m.TextBlock(text=_text(rng, pool, rng.randint(50, 800)))])
        elif roll < 0.20:
            tokens = {"input_tokens": rng.randint(100, 9000), "output_tokens": rng.randint(10, 900)}
            text = _text(rng, pool, rng.randint(200, 3000))
            add(m.AgentMessage(), [m.TextBlock(text=text)], attributes=tokens)
        elif roll < 0.30:
            add(m.Thinking(), [m.TextBlock(text=_text(rng, pool, rng.randint(100, 2000)))])
        elif roll < 0.60:
            command = _text(rng, pool, rng.randint(10, 200))
            kind = m.ShellCommand(data=m.ShellCommandData(command=command, exit_code=0))
            add(kind, [m.CodeBlock(code=command, language="bash")])
        elif roll < 0.90:
            size = min(int(rng.lognormvariate(7.5, 1.2)), 60_000)
            result = m.ToolResult(data=m.ToolResultData(name="Bash", call_id=f"e{index}"))
            add(result, [m.TextBlock(text=_text(rng, pool, size))])
        else:
            diff = "".join(f"{rng.choice('+- ')}{line}\n" for line in rng.choices(WORDS, k=60))
            edit = m.FileEdit(data=m.FileEditData(path="src/app.py", diff=diff))
            add(edit, [m.CodeBlock(code=diff, language="diff")])
        if len(events) == 1000:
            big = m.ToolResult(data=m.ToolResultData(name="Read"))
            add(big, [m.TextBlock(text=_text(rng, pool, big_event_bytes))])
    return events


def _write(path: Path, size_mb: int, big_mb: int) -> tuple[float, int]:
    rng = random.Random(20261125)
    events = _events(rng, size_mb * 1024 * 1024, big_mb * 1024 * 1024)
    header = m.Header(
        session_id="bench",
        agent=m.Agent(provider="anthropic", model="claude-opus-4", tool="claude-code"),
        context=m.Context(created_at=events[0].timestamp, updated_at=events[-1].timestamp),
    )
    began = time.perf_counter()
    with path.open("wb") as stream:
        writer = HailWriter(stream, header)
        for event in events:
            writer.write(event)
        writer.close()
    return time.perf_counter() - began, len(events)


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc (VmHWM is the peak, reset by exec, unlike
    getrusage's maxrss, which a child inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _child(mode: str, path: Path) -> None:
    """Runs in a fresh process: one pass over the file, prints seconds and RSS growth."""
    before = _status_kib("VmRSS")
    began = time.perf_counter()
    count = 0
    if mode == "read":
        with open_hail(path, strict=True) as reader:
            for _ in reader:
                count += 1
    else:
        with path.open("rb", buffering=1024 * 1024) as stream:  # as open_hail reads
            for line in stream:
                orjson.loads(line)
                count += 1
    seconds = time.perf_counter() - began
    peak = _status_kib("VmHWM")
    print(orjson.dumps({"seconds": seconds, "growth_kib": peak - before, "lines": count}).decode())


def _decoded_size(line: bytes) -> int:
    """Bytes the event's strings take as Python objects (non-ASCII text widens them)."""

    def size(value: object) -> int:
        if isinstance(value, dict):
            return sum(size(k) + size(v) for k, v in value.items())
        if isinstance(value, list):
            return sum(size(v) for v in value)
        return sys.getsizeof(value)

    return size(orjson.loads(line))


def _measure(mode: str, path: Path) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return orjson.loads(completed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200, help="file size to build (MB)")
    parser.add_argument("--big-event-mb", type=int, default=16, help="size of the largest event")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.hail.jsonl"
        write_seconds, count = _write(path, args.size_mb, args.big_event_mb)
        size = path.stat().st_size
        mb = size / 1e6
        with path.open("rb") as stream:
            largest_line = max(stream, key=len)
        largest = len(largest_line)
        decoded = _decoded_size(largest_line)
        read = _measure("read", path)
        plain = _measure("orjson", path)

    print(
        f"file: {mb:.1f} MB, {count} events; largest event {largest / 1e6:.1f} MB on disk,"
        f" {decoded / 1e6:.1f} MB decoded in memory"
    )
    print(f"write   {mb / write_seconds:8.1f} MB/s  ({write_seconds:.2f} s)")
    for label, result in (("read", read), ("orjson", plain)):
        growth_mb = result["growth_kib"] * 1024 / 1e6
        print(
            f"{label:<7} {mb / result['seconds']:8.1f} MB/s  ({result['seconds']:.2f} s)"
            f"  peak RSS growth {growth_mb:6.1f} MB"
            f" = {growth_mb * 1e6 / largest:.2f}x the largest event on disk,"
            f" {growth_mb * 1e6 / decoded:.2f}x decoded"
        )
    print(f"read rate / orjson rate: {plain['seconds'] / read['seconds']:.0%} (target >= 40%)")


if __name__ == "__main__":
    main()
