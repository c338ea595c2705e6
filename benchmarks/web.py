"""Benchmark: the session list page (``GET /`` and its filters) on a database of many sessions.

The database is seeded as ``benchmarks/server.py`` seeds it (``--count`` sessions, 100,000 by
default, of a few hundred uploaders, with realistic tools, times and scores), and served by
``uvicorn ... --workers N`` from its own processes. Each case is a page of the web UI:

- server time: requests one after another on one keep-alive connection, so that each one's
  latency on loopback is the time the server took for it (p50, p99);
- under load: ``--clients`` concurrent connections, as fast as the server answers (p50, p99,
  requests/s).

The cases: the home feed, each ordering, a tool, a time range, the Agents layout, a deep page,
a signed-in reader (public plus their private sessions, from the ``os_access`` cookie) and a
search; and the JSON API's first page and search, for comparison.

    python benchmarks/web.py                    # SQLite in a temporary data dir
    python benchmarks/web.py --database-url postgresql://127.0.0.1:5432/test
    python benchmarks/web.py --count 10000 --requests 300   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio

from server import load, seeded_server


def cases(token: str) -> list[tuple[str, str, dict[str, str], float]]:
    """(label, path, headers, share of --requests) of each case."""
    signed_in = {"Cookie": f"os_access={token}"}
    return [
        ("GET / (home feed, page 1)", "/", {}, 1),
        ("/sessions?sort=popular", "/sessions?sort=popular", {}, 1),
        ("/sessions?sort=longest", "/sessions?sort=longest", {}, 1),
        ("/sessions?tool=codex", "/sessions?tool=codex", {}, 1),
        ("/sessions?range=7d", "/sessions?range=7d", {}, 1),
        ("/sessions?range=30d&sort=popular", "/sessions?range=30d&sort=popular", {}, 0.5),
        ("/sessions?tab=agents", "/sessions?tab=agents", {}, 1),
        ("/sessions?page=50", "/sessions?page=50", {}, 0.5),
        ("signed in, GET /", "/", signed_in, 1),
        ("signed in, sort=popular", "/sessions?sort=popular", signed_in, 0.5),
        ("/sessions?q=refactor+parser", "/sessions?q=refactor+parser", {}, 0.1),
        ("JSON: GET /api/sessions", "/api/sessions", {}, 1),
        ("JSON: /api/sessions?search=...", "/api/sessions?search=refactor+parser", {}, 0.1),
    ]


def run(port: int, token: str, requests: int, clients: int) -> None:
    print("Server time: one connection, one request after another:")
    for label, path, headers, share in cases(token):
        count = max(20, int(requests * share))
        asyncio.run(load(port, [("GET", path, headers, b"")] * min(count, 50), 1))
        print(asyncio.run(load(port, [("GET", path, headers, b"")] * count, 1)).line(label))
    print(f"Under load: {clients} concurrent connections, as fast as answered:")
    for label, path, headers, share in cases(token):
        count = max(clients * 4, int(requests * share))
        result = asyncio.run(load(port, [("GET", path, headers, b"")] * count, clients))
        print(result.line(label))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--count", type=int, default=100_000, help="sessions to seed")
    options.add_argument("--database-url", help="a PostgreSQL URL (default: SQLite)")
    options.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    options.add_argument("--clients", type=int, default=16, help="concurrent connections")
    options.add_argument("--requests", type=int, default=1000, help="requests per case")
    arguments = options.parse_args()
    with seeded_server(arguments.database_url, arguments.count, arguments.workers) as (port, token):
        run(port, token, arguments.requests, arguments.clients)


if __name__ == "__main__":
    main()
