"""Benchmark: the session list and uploads of a live server on a database of many sessions.

``--count`` sessions (100,000 by default) are inserted straight into a fresh database in bulk,
with realistic values: a few hundred uploaders, tools and models in realistic shares, creation
times over a year, most sessions clean and public, titles, tags, repositories and first
messages drawn from a vocabulary. Then ``uvicorn opensession.server.app:create_app --factory
--workers 2`` serves it on loopback from its own processes, and ``--clients`` concurrent
keep-alive connections measure, each case a bounded number of requests after a warm-up:

- ``GET /api/sessions``, the first page of the anonymous feed: p50 and p99 latency, requests/s;
- the other sorts, a tool filter, a time range, a deep page, a signed-in page (public plus the
  caller's private sessions) and a search;
- the same (search aside) at a fixed ``--rate`` (500 requests/s by default): the latency at
  that load rather than at the most the server can answer, counted from when each request was
  due, so that time waiting for a free connection counts too;
- uploads of the corpus's real sessions (each with a fresh id), as JSON and as HAIL JSONL:
  sessions/s and MB/s of request bodies.

The client speaks HTTP/1.1 on raw asyncio streams: on a machine of two cores it shares the CPU
with the server, and a lighter client leaves more of it to what is measured.

    python benchmarks/server.py                    # SQLite in a temporary data dir
    python benchmarks/server.py --database-url postgresql://127.0.0.1:5432/test
    python benchmarks/server.py --count 10000 --requests 1000   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import Engine, create_engine, insert, text

from opensession.hail import Session, dumps_session, read_session
from opensession.parsers.registry import parse_path
from opensession.server.auth.tokens import issue_access_token
from opensession.server.blobs import BlobStore
from opensession.server.db.engine import make_engine
from opensession.server.db.migrate import upgrade
from opensession.server.db.schema import sessions, users

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
JWT_SECRET = "benchmark-secret-" + "x" * 32
TOOLS = (  # tool, share, provider, models
    ("claude-code", 45, "anthropic", ("claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5")),
    ("codex", 25, "openai", ("gpt-5.3-codex", "gpt-5.2", "o4-mini")),
    ("gemini", 8, "google", ("gemini-2.5-pro", "gemini-3-pro")),
    ("cursor", 8, "anthropic", ("claude-sonnet-4-5", "gpt-5.2")),
    ("opencode", 6, "anthropic", ("claude-sonnet-4-5",)),
    ("aider", 4, "openai", ("gpt-4.1", "deepseek-chat")),
    ("amp", 2, "anthropic", ("claude-sonnet-4-5",)),
    ("cline", 2, "anthropic", ("claude-sonnet-4-5",)),
)
VOCABULARY = (
    "fix refactor add remove parser login form cache database migration test flaky ci build "
    "docs readme api endpoint handler auth token session upload list sort search page index "
    "query slow memory leak crash error retry timeout config env deploy docker kubernetes rust "
    "python typescript react component hook state render css layout bug feature cleanup rename "
    "module package dependency upgrade lint format type check benchmark profile optimize"
)
WORDS = VOCABULARY.split()
FOLDERS = ("src", "tests", "docs", "web/src/components", "crates/core/src", "scripts")


def seed(engine: Engine, blobs: BlobStore, count: int, users_count: int = 500) -> list[str]:
    """``count`` sessions of ``users_count`` uploaders inserted in bulk; the uploaders' ids.

    Every row names the body of one real corpus session, so that ``/raw`` works for any row.
    """
    rng = random.Random(20261125)
    body = (CORPUS / "hail" / "opensession__c96e93e8.hail.jsonl").read_bytes()
    body_key = blobs.put(body)
    now = datetime.now(UTC)
    user_ids = [str(uuid.uuid4()) for _ in range(users_count)]
    tools = [tool for tool in TOOLS for _ in range(tool[1])]
    with engine.begin() as db:
        db.execute(
            insert(users),
            [
                {
                    "id": user_id,
                    "email": f"user{number}@example.com",
                    "nickname": f"user{number}",
                    "password_hash": "-",
                    "created_at": now - timedelta(days=400),
                }
                for number, user_id in enumerate(user_ids)
            ],
        )
        batch: list[dict[str, Any]] = []
        for _ in range(count):
            batch.append(_row(rng, rng.choice(user_ids), rng.choice(tools), now, body_key, body))
            if len(batch) == 5000:
                db.execute(insert(sessions), batch)
                batch = []
        if batch:
            db.execute(insert(sessions), batch)
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load; a table that grows by uploads keeps its
        # statistics current. (SQLite plans by the statistics migration 0002 writes.)
        with engine.begin() as db:
            db.execute(text("ANALYZE"))
    return user_ids


def _row(
    rng: random.Random,
    user_id: str,
    tool: tuple[str, int, str, tuple[str, ...]],
    now: datetime,
    body_key: str,
    body: bytes,
) -> dict[str, Any]:
    name, _, provider, models = tool
    messages = max(1, int(rng.lognormvariate(2.5, 1.0)))
    duration = int(rng.lognormvariate(6.8, 1.2))
    created_at = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
    failures = rng.choice((0, 0, 0, 0, 0, 1, 1, 2, 4))
    score = max(0, 100 - (15 + 5 * failures if failures else 0) + rng.choice((0, 0, 5)))
    repository = f"org{rng.randrange(40)}/repo{rng.randrange(300)}" if rng.random() < 0.7 else None
    title = " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize()
    tags = [name, *rng.sample(WORDS, rng.randint(0, 2))]
    first_message = " ".join(rng.choices(WORDS, k=rng.randint(10, 60)))
    branch = rng.choice(("main", "main", f"feature/{rng.choice(WORDS)}")) if repository else None
    text_parts = [title, *tags, provider, rng.choice(models), repository, branch, first_message]
    return {
        "id": str(uuid.uuid4()),
        "session_id": str(uuid.uuid4()),
        "user_id": user_id,
        "is_public": rng.random() < 0.9,
        "tool": name,
        "agent_provider": provider,
        "agent_model": rng.choice(models),
        "title": title,
        "description": None,
        "tags": tags,
        "created_at": created_at,
        "uploaded_at": created_at + timedelta(seconds=duration + rng.randint(5, 3600)),
        "message_count": messages,
        "task_count": rng.choice((0, 0, 1, 1, 2, 3)),
        "event_count": messages * rng.randint(3, 12),
        "duration_seconds": duration,
        "total_input_tokens": messages * rng.randint(2_000, 40_000),
        "total_output_tokens": messages * rng.randint(200, 4_000),
        "git_remote": f"https://github.com/{repository}.git" if repository else None,
        "git_branch": branch,
        "git_commit": hashlib.sha1(rng.randbytes(8)).hexdigest() if repository else None,
        "git_repo_name": repository,
        "pr_number": rng.randint(1, 5000) if repository and rng.random() < 0.1 else None,
        "pr_url": None,
        "working_directory": f"/home/dev/src/{repository or 'scratch'}",
        "files_modified": _paths(rng, rng.choice((0, 1, 2, 3, 5, 8))),
        "files_read": _paths(rng, rng.choice((0, 2, 4, 8, 15))),
        "has_errors": failures > 0,
        "max_active_agents": rng.choice((1, 1, 1, 2, 3)),
        "session_score": score,
        "score_plugin": "heuristic_v1",
        "search_text": " ".join(part for part in text_parts if part).lower(),
        "body_key": body_key,
        "body_size": len(body),
    }


def _paths(rng: random.Random, count: int) -> list[str]:
    names = (f"{rng.choice(WORDS)}_{rng.choice(WORDS)}.py" for _ in range(count))
    return [f"{rng.choice(FOLDERS)}/{name}" for name in names]


@contextmanager
def database(url: str | None, data_dir: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh database: the SQLite file in ``data_dir``, or a new schema
    on the PostgreSQL at ``url`` (dropped afterwards)."""
    if url is None:
        yield f"sqlite:///{data_dir / 'opensession.db'}"
        return
    url = "postgresql+psycopg://" + url.split("://", 1)[1]
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as db:
        db.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as db:
            db.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def serve(data_dir: Path, database_url: str, workers: int) -> Iterator[int]:
    """uvicorn with ``workers`` processes serving the app on a free loopback port, once every
    worker has started: a connection opened earlier would all go to the first one."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    env = dict(
        os.environ,
        OPENSESSION_DATA_DIR=str(data_dir),
        OPENSESSION_DATABASE_URL=database_url,
        JWT_SECRET=JWT_SECRET,
    )
    command = [
        sys.executable, "-m", "uvicorn", "opensession.server.app:create_app", "--factory",
        "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "info", "--no-access-log",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    started = threading.Semaphore(0)
    threading.Thread(target=_relay_log, args=(server, started), daemon=True).start()
    try:
        for _ in range(workers):
            if not started.acquire(timeout=60):
                raise RuntimeError("the server did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _relay_log(server: subprocess.Popen[str], started: threading.Semaphore) -> None:
    """Pass the server's log on but for the start-up chatter, counting workers that started."""
    assert server.stderr is not None
    for line in server.stderr:
        if "Application startup complete" in line:
            started.release()
        elif "INFO:" not in line:
            sys.stderr.write(line)


@dataclass
class Connection:
    """One keep-alive HTTP/1.1 connection: a request written, its response read back."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True)
class Result:
    latencies: list[float]
    seconds: float
    sent_bytes: int

    def line(self, label: str) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"  {label:34} p50 {statistics.median(ordered) * 1000:6.1f} ms  "
            f"p99 {p99 * 1000:6.1f} ms  {len(ordered) / self.seconds:7.0f} requests/s"
        )


async def load(
    port: int,
    requests: list[tuple[str, str, dict[str, str], bytes]],
    clients: int,
    expect: tuple[int, ...] = (200,),
    rate: float | None = None,
) -> Result:
    """Send ``requests`` over ``clients`` connections, each taking the next one when its last
    answer arrives (as fast as the server answers), or at ``rate`` requests/s, each sent when
    it is due and a connection is free, its latency counted from when it was due; the latency
    of each and the wall time of all."""
    connections = [await Connection.open(port) for _ in range(clients)]
    queue = enumerate(requests)
    latencies: list[float] = []

    async def client(connection: Connection) -> None:
        for number, (method, path, headers, body) in queue:
            due = time.perf_counter() if rate is None else start + number / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status, answer = await connection.request(method, path, headers, body)
            latencies.append(time.perf_counter() - due)
            if status not in expect:
                raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")

    start = time.perf_counter()
    await asyncio.gather(*(client(connection) for connection in connections))
    seconds = time.perf_counter() - start
    for connection in connections:
        connection.close()
    return Result(latencies, seconds, sum(len(request[3]) for request in requests))


def list_cases(user_token: str) -> list[tuple[str, dict[str, Any], dict[str, str], float]]:
    """(label, query, headers, share of --requests) of each listing case."""
    signed_in = {"Authorization": f"Bearer {user_token}"}
    return [
        ("feed, page 1 (recent)", {}, {}, 1),
        ("sort=popular", {"sort": "popular"}, {}, 1),
        ("sort=longest", {"sort": "longest"}, {}, 1),
        ("tool=codex", {"tool": "codex"}, {}, 1),
        ("time_range=7d", {"time_range": "7d"}, {}, 1),
        ("time_range=30d, sort=popular", {"time_range": "30d", "sort": "popular"}, {}, 0.5),
        ("page 50, per_page 50", {"page": 50, "per_page": 50}, {}, 0.5),
        ("signed in, page 1", {}, signed_in, 1),
        ("signed in, sort=popular", {"sort": "popular"}, signed_in, 0.5),
        ("search=refactor parser", {"search": "refactor parser"}, {}, 0.05),
    ]


def run_lists(port: int, user_token: str, requests: int, clients: int, rate: float) -> None:
    print(f"GET /api/sessions, {clients} concurrent clients, as fast as answered:")
    for label, query, headers, share in list_cases(user_token):
        path = "/api/sessions" + (f"?{urlencode(query)}" if query else "")
        count = max(clients * 4, int(requests * share))
        asyncio.run(load(port, [("GET", path, headers, b"")] * min(count, 200), clients))
        result = asyncio.run(load(port, [("GET", path, headers, b"")] * count, clients))
        print(result.line(label))
    print(f"GET /api/sessions at {rate:.0f} requests/s over {clients} connections:")
    for label, query, headers, _ in list_cases(user_token)[:-1]:
        path = "/api/sessions" + (f"?{urlencode(query)}" if query else "")
        count = int(rate * requests / 1000)
        result = asyncio.run(load(port, [("GET", path, headers, b"")] * count, clients, rate=rate))
        print(result.line(label))


def corpus_sessions() -> list[Session]:
    """Every session of the corpus's tool logs and HAIL files (main and sub-agent sessions)."""
    found = [read_session(path) for path in sorted((CORPUS / "hail").glob("*.hail.jsonl"))]
    for folder in ("claude-code", "codex", "gemini"):
        for path in sorted((CORPUS / folder).rglob("*.json*")):
            if "subagents" not in path.parts:
                found += parse_path(path).sessions
    return found


def run_uploads(port: int, token: str, uploads: int, clients: int) -> None:
    templates = corpus_sessions()
    megabytes = sum(len(dumps_session(s)) for s in templates) / 1e6
    print(
        f"POST /api/sessions, {len(templates)} corpus sessions ({megabytes:.1f} MB as HAIL JSONL) "
        f"round robin, fresh ids, {clients} concurrent clients:"
    )
    auth = {"Authorization": f"Bearer {token}"}
    for form in ("json", "jsonl"):
        requests = []
        for number in range(uploads):
            session = templates[number % len(templates)]
            fresh = session.model_copy(update={"session_id": str(uuid.uuid4())})
            if form == "json":
                body = orjson.dumps({"session": fresh.model_dump(mode="json")})
                headers = {**auth, "Content-Type": "application/json"}
            else:
                body = dumps_session(fresh)
                headers = {**auth, "Content-Type": "application/x-ndjson"}
            requests.append(("POST", "/api/sessions", headers, body))
        result = asyncio.run(load(port, requests, clients, expect=(201,)))
        print(
            result.line(f"{form}, {uploads} uploads")
            + f"  ({uploads / result.seconds:.1f} sessions/s, "
            f"{result.sent_bytes / 1e6 / result.seconds:.1f} MB/s)"
        )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=100_000, help="sessions to seed")
    options.add_argument("--database-url", help="a PostgreSQL URL (default: SQLite)")
    options.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    options.add_argument("--clients", type=int, default=32, help="concurrent connections")
    options.add_argument("--requests", type=int, default=5000, help="requests per list case")
    options.add_argument(
        "--rate", type=float, default=500, help="requests/s of the fixed-rate list cases"
    )
    options.add_argument("--uploads", type=int, default=300, help="uploads per body form")
    options.add_argument("--upload-clients", type=int, default=4, help="concurrent uploaders")
    arguments = options.parse_args()
    with seeded_server(arguments.database_url, arguments.count, arguments.workers) as (port, token):
        run_lists(port, token, arguments.requests, arguments.clients, arguments.rate)
        run_uploads(port, token, arguments.uploads, arguments.upload_clients)


@contextmanager
def seeded_server(database_url: str | None, count: int, workers: int) -> Iterator[tuple[int, str]]:
    """A live server (``workers`` uvicorn processes) on a fresh database of ``count`` seeded
    sessions: its port, and an access token of the first seeded user."""
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        with database(database_url, data_dir) as url:
            engine = make_engine(url)
            upgrade(engine)
            start = time.perf_counter()
            user_ids = seed(engine, BlobStore(data_dir / "blobs"), count)
            seconds = time.perf_counter() - start
            engine.dispose()
            where = "PostgreSQL" if database_url else "SQLite"
            print(f"{where}: {count} sessions seeded in {seconds:.1f}s")
            token = issue_access_token(JWT_SECRET, user_ids[0])
            with serve(data_dir, url, workers) as port:
                load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
                print(
                    f"uvicorn, {workers} workers, on {os.cpu_count()} CPUs (load average "
                    f"{load}: other work on the machine skews the figures)"
                )
                yield port, token


if __name__ == "__main__":
    main()
