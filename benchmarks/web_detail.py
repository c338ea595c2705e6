"""Benchmark: the session detail page ``/session/{id}`` on a generated session of many events.

A session of ``--events`` events (5,000 by default) is generated with a realistic mix and sizes:
user and agent messages in Markdown (some with code fences), thinking, shell commands with
outputs (some failing), file reads with file contents, edits with diffs, file writes, searches,
web fetches, generic tool calls, and sub-agent tasks; every tool result names its call. It is
uploaded to ``uvicorn opensession.server.app:create_app --factory`` serving on loopback from a
process of its own (SQLite in a temporary data dir), and then:

- each page of the timeline is fetched ``--rounds`` times: p50, p90 and the slowest, with the
  page's HTML size and number of entries;
- page 1 with a search over the whole session (``?q=``);
- in process, what a request spends where: reading the body, the plan of the whole session,
  rendering the page's entries.

    python benchmarks/web_detail.py                 # 5,000 events
    python benchmarks/web_detail.py --events 20000 --rounds 10
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from opensession.hail import Session, dumps_session
from opensession.hail import model as m
from opensession.hail.stats import compute_stats
from opensession.server.web.timeline import page_items, plan_timeline, read_body

JWT_SECRET = "benchmark-secret-" + "x" * 32
START = datetime(2026, 2, 11, 20, 36, 45, tzinfo=UTC)
CWD = "/home/dev/projects/shop"
_WORDS = [
    "the", "a", "parser", "session", "event", "test", "server", "page", "timeline", "cache",
    "index", "query", "user", "token", "result", "config", "handler", "module", "function",
    "value", "error", "file", "line", "diff", "build", "check", "update", "fix", "add",
    "remove", "rename", "return", "import", "class", "method", "field", "list", "map",
    "render", "load", "save",
]  # fmt: skip
_CODE = [
    "def {w}_{v}(self, {v}: str) -> None:",
    "    return self.{w}.get({v}, None)",
    "    if not {v}:",
    '        raise ValueError(f"no {w}: {{{v}}}")',
    "class {W}{V}:",
    "    {v} = [{w} for {w} in {v}s if {w}]",
    "import {w}",
    "from {w} import {v}",
    "    # {w} the {v} before the {w}",
    "    {v}.{w}({v}, timeout=30)",
    "",
]
_COMMANDS = [
    "pytest -q tests/{w}", "ruff check src", "git status", "git diff --stat", "ls -la src/{w}",
    "python -m {w} --help", "grep -rn {v} src", "make build", "npm test -- {w}", "git log -5",
]  # fmt: skip
_TOOLS = [("TodoWrite", "todos"), ("Skill", "skill"), ("mcp__docs__lookup", "topic")]


class Generator:
    """A session's events, one realistic step after another."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.events: list[m.Event] = []
        self.time = START
        self.calls = 0

    def words(self, low: int, high: int) -> str:
        return " ".join(self.random.choice(_WORDS) for _ in range(self.random.randint(low, high)))

    def code(self, lines: int) -> str:
        out = []
        for _ in range(lines):
            w, v = self.random.choice(_WORDS), self.random.choice(_WORDS)
            line = self.random.choice(_CODE).format(w=w, v=v, W=w.title(), V=v.title())
            out.append(line)
        return "\n".join(out)

    def path(self) -> str:
        return f"{CWD}/src/{self.random.choice(_WORDS)}/{self.random.choice(_WORDS)}.py"

    def add(
        self,
        kind: Any,
        blocks: list[Any] | None = None,
        *,
        call: str | None = None,
        task: str | None = None,
        **attributes: Any,
    ) -> None:
        self.time += timedelta(seconds=self.random.uniform(0.2, 12))
        if call:
            attributes["semantic.call_id"] = call
        self.events.append(
            m.Event(
                event_id=f"ev-{len(self.events)}",
                timestamp=self.time,
                event_type=kind,
                task_id=task,
                content=m.Content(blocks=blocks or []),
                attributes=attributes,
            )
        )

    def result(self, name: str, call: str, text: str, *, error: bool = False) -> None:
        kind = m.ToolResult(data=m.ToolResultData(name=name, is_error=error, call_id=call))
        self.add(kind, [m.TextBlock(text=text)], call=call)

    def new_call(self) -> str:
        self.calls += 1
        return f"toolu_{self.calls:08d}"

    def message(self, user: bool) -> None:
        paragraphs = [self.words(8, 40) for _ in range(self.random.randint(1, 3))]
        if not user and self.random.random() < 0.3:
            paragraphs.append("```python\n" + self.code(self.random.randint(4, 18)) + "\n```")
        if not user and self.random.random() < 0.3:
            paragraphs.append(
                "\n".join(f"- `{self.words(1, 1)}` {self.words(3, 9)}" for _ in range(4))
            )
        text = "\n\n".join(paragraphs)
        kind = m.UserMessage() if user else m.AgentMessage()
        self.add(kind, [m.TextBlock(text=text)], input_tokens=4000, output_tokens=120)

    def step(self, task: str | None = None) -> None:
        """A thought, a message and a few tool uses."""
        pick = self.random.random
        if pick() < 0.5:
            self.add(
                m.Thinking(), [m.TextBlock(text=f"**{self.words(2, 4)}**\n\n{self.words(10, 60)}")]
            )
        self.message(user=False)
        for _ in range(self.random.randint(1, 4)):
            call = self.new_call()
            roll = pick()
            if roll < 0.35:
                command = self.random.choice(_COMMANDS).format(
                    w=self.words(1, 1), v=self.words(1, 1)
                )
                failed = pick() < 0.1
                kind = m.ShellCommand(
                    data=m.ShellCommandData(command=command, exit_code=int(failed))
                )
                self.add(kind, [m.CodeBlock(code=command, language="bash")], call=call, task=task)
                lines = [self.words(3, 12) for _ in range(self.random.randint(2, 80))]
                self.result("Bash", call, "\n".join(lines), error=failed)
            elif roll < 0.6:
                path = self.path()
                self.add(
                    m.FileRead(data=m.PathData(path=path)),
                    [m.JsonBlock(data={"file_path": path})],
                    call=call,
                    task=task,
                )
                body = self.code(self.random.randint(20, 220)).splitlines()
                self.result(
                    "Read", call, "\n".join(f"{n:6}→{line}" for n, line in enumerate(body, 1))
                )
            elif roll < 0.8:
                path = self.path()
                diff = self.diff(path)
                kind = m.FileEdit(data=m.FileEditData(path=path, diff=diff))
                self.add(kind, [m.CodeBlock(code=diff, language="diff")], call=call, task=task)
                self.result("Edit", call, f"The file {path} has been updated.")
            elif roll < 0.86:
                path = self.path()
                content = self.code(self.random.randint(20, 120))
                kind = m.FileCreate(data=m.PathData(path=path))
                self.add(
                    kind,
                    [m.JsonBlock(data={"file_path": path, "content": content})],
                    call=call,
                    task=task,
                )
                self.result("Write", call, f"File created successfully at: {path}")
            elif roll < 0.93:
                query = self.words(1, 2)
                self.add(
                    m.CodeSearch(data=m.QueryData(query=query)),
                    [m.JsonBlock(data={"pattern": query})],
                    call=call,
                    task=task,
                )
                self.result(
                    "Grep", call, "\n".join(self.path() for _ in range(self.random.randint(1, 30)))
                )
            elif roll < 0.96:
                url = f"https://docs.example.com/{self.words(1, 1)}"
                self.add(
                    m.WebFetch(data=m.UrlData(url=url)),
                    [m.JsonBlock(data={"url": url})],
                    call=call,
                    task=task,
                )
                self.result("WebFetch", call, self.words(40, 200))
            else:
                name, key = self.random.choice(_TOOLS)
                self.add(
                    m.ToolCall(data=m.NameData(name=name)),
                    [m.JsonBlock(data={key: self.words(2, 8)})],
                    call=call,
                    task=task,
                )
                self.result(name, call, self.words(5, 30))

    def diff(self, path: str) -> str:
        lines = [f"--- a{path}", f"+++ b{path}"]
        at = self.random.randint(1, 300)
        for _ in range(self.random.randint(1, 3)):
            context = self.code(3).splitlines()
            removed = self.code(self.random.randint(0, 6)).splitlines()
            added = self.code(self.random.randint(1, 12)).splitlines()
            lines.append(f"@@ -{at},{3 + len(removed)} +{at},{3 + len(added)} @@")
            lines += [" " + line for line in context]
            lines += ["-" + line for line in removed] + ["+" + line for line in added]
            at += self.random.randint(20, 80)
        return "\n".join(lines)

    def sub_agent(self, number: int) -> None:
        task = f"task-{number}"
        title = f"Research {self.words(2, 4)}"
        self.add(
            m.TaskStart(data=m.TaskStartData(title=title)),
            [m.TextBlock(text=self.words(20, 60))],
            task=task,
            subagent_session_id=f"agent-{number}",
        )
        for _ in range(self.random.randint(3, 8)):
            self.step(task)
        summary = (
            f"## Findings\n\n{self.words(30, 90)}\n\n- {self.words(4, 9)}\n- {self.words(4, 9)}"
        )
        self.add(
            m.TaskEnd(data=m.TaskEndData(summary=summary)),
            task=task,
            subagent_session_id=f"agent-{number}",
        )


def generate_session(events: int, seed: int = 7) -> Session:
    """A session of about ``events`` events (a few more: its last step is finished)."""
    generator = Generator(seed)
    tasks = 0
    while len(generator.events) < events:
        if not generator.events or generator.random.random() < 0.04:
            generator.message(user=True)
        if generator.random.random() < 0.01:
            tasks += 1
            generator.sub_agent(tasks)
        generator.step()
    found = generator.events
    return Session(
        session_id="bench-5000-events",
        agent=m.Agent(provider="anthropic", model="claude-opus-4-6", tool="claude-code"),
        context=m.Context(
            title=f"A long session of {len(found):,} events",
            created_at=found[0].timestamp,
            updated_at=found[-1].timestamp,
            attributes={"cwd": CWD},
        ),
        events=found,
        stats=compute_stats(found),
    )


@contextmanager
def serve(data_dir: Path) -> Iterator[tuple[int, int]]:
    """The app in a uvicorn process of its own on a free loopback port: (port, process id)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    env = dict(os.environ, OPENSESSION_DATA_DIR=str(data_dir), JWT_SECRET=JWT_SECRET)
    command = [
        sys.executable, "-m", "uvicorn", "opensession.server.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user + system), from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timing:
    wall: list[float]
    """Milliseconds of each call."""
    cpu: float
    """Mean milliseconds of CPU per call: the server's when a process id was given, else this
    process's. Unlike wall time, it does not grow when other programs share the CPU."""

    def __str__(self) -> str:
        ordered = sorted(self.wall)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        return (
            f"p50 {statistics.median(ordered):6.1f} ms  p90 {p90:6.1f} ms  "
            f"max {ordered[-1]:6.1f} ms  cpu {self.cpu:6.1f} ms"
        )


def timed(call: Callable[[], Any], rounds: int, pid: int | None = None) -> Timing:
    """``rounds`` calls after one warm-up."""
    call()
    wall = []
    cpu_before = cpu_seconds(pid) if pid else time.process_time()
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        wall.append((time.perf_counter() - started) * 1000)
    cpu_after = cpu_seconds(pid) if pid else time.process_time()
    return Timing(wall, (cpu_after - cpu_before) * 1000 / rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    session = generate_session(args.events)
    body = dumps_session(session)
    print(f"session: {len(session.events):,} events, {len(body) / 1e6:.1f} MB of HAIL JSONL")

    parsed = read_body(body)
    plan = plan_timeline(parsed)
    print(
        f"timeline: {len(plan.entries):,} entries on {len(plan.pages)} pages, "
        f"{len(plan.groups)} task groups"
    )
    print("in process, the parts of a request:")
    print(f"  read body     {timed(lambda: read_body(body), args.rounds)}")
    print(f"  plan          {timed(lambda: plan_timeline(parsed), args.rounds)}")
    print(f"  page 1 items  {timed(lambda: page_items(parsed, plan, 1), args.rounds)}")

    with tempfile.TemporaryDirectory() as data_dir, serve(Path(data_dir)) as (port, pid):
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        account = {"email": "bench@example.com", "password": "correct horse", "nickname": "bench"}
        token = client.post("/api/auth/register", json=account).json()["access_token"]
        uploaded = client.post(
            "/api/sessions",
            content=body,
            headers={"Authorization": f"Bearer {token}", "content-type": "application/x-ndjson"},
        )
        uploaded.raise_for_status()
        path = f"/session/{uploaded.json()['id']}"
        print(f"GET {path} over loopback, {args.rounds} rounds each (cpu: the server's):")
        every: list[float] = []
        cpu = 0.0
        for number in range(1, len(plan.pages) + 1):
            page = client.get(path, params={"page": number})
            page.raise_for_status()
            entries = len(re.findall(rb'<article class="ev ', page.content))
            timing = timed(
                lambda number=number: client.get(path, params={"page": number}), args.rounds, pid
            )
            every += timing.wall
            cpu += timing.cpu
            size = len(page.content) / 1e6
            print(f"  page {number:2}  {timing}  {size:.2f} MB HTML, {entries} entries")
        print(f"  all pages {Timing(every, cpu / len(plan.pages))}")
        search = timed(lambda: client.get(path, params={"q": "handler config"}), args.rounds, pid)
        print(f"  ?q=handler+config (the whole session searched)  {search}")


if __name__ == "__main__":
    main()
