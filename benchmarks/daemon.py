"""Benchmark: the daemon's cost at rest and how fast a change reaches the server.

A tmp home gets ``--count`` Claude Code and Codex logs (as ``benchmarks/index.py`` makes
them), a real ``opensession-server`` on loopback, an account connected to it and a selected git
repository. Then, with ``opensession daemon start`` (detached, a process of its own):

- start-up: time until the daemon holds its pid lock, and until its first index pass is done
  (the cold index of every log: the daemon is started on a home never indexed);
- memory: the daemon's resident set (VmRSS) when idle after that pass, and its peak (VmHWM);
- idle CPU: CPU seconds the daemon used over ``--idle`` seconds of nothing happening;
- watcher latency: a line appended to a log of the selected repository → the server has it
  (includes the settle time, ``SETTLE_SECONDS``, that waits for the agent to pause);
- hook latency: ``opensession daemon stream-push`` run as Claude Code's hook runs it → the
  server has the new events (no settle: the hook says the turn is done), and the wall time of
  the stream-push process itself.

    python benchmarks/daemon.py                # 10,000 sessions, 30 s idle
    python benchmarks/daemon.py --count 1000 --idle 10
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from index import environment, generate

JWT_SECRET = "benchmark-" + "x" * 32
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _cli(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [_bin("opensession"), *args], env=environment(home), input=stdin, capture_output=True
    )


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _wait(condition: Callable[[], object], seconds: float, what: str) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > seconds:
            raise SystemExit(f"gave up waiting {seconds} s for {what}")
        time.sleep(0.005)
    return time.perf_counter() - start


def _events(url: str, session_id: str) -> int | None:
    listed = httpx.get(f"{url}/api/sessions", params={"per_page": 50}).json()["sessions"]
    return next((s["event_count"] for s in listed if s["session_id"] == session_id), None)


def _append(log: Path, session_id: str, number: int, cwd: Path) -> None:
    record = {
        "type": "user",
        "uuid": f"{session_id}-{number}",
        "sessionId": session_id,
        "timestamp": f"2026-03-01T10:00:{number:02d}Z",
        "cwd": str(cwd),
        "message": {"role": "user", "content": f"question {number}"},
    }
    with log.open("ab") as handle:
        handle.write(orjson.dumps(record) + b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="session files [10000]")
    parser.add_argument("--idle", type=float, default=30.0, help="idle seconds measured [30]")
    parser.add_argument("--port", type=int, default=38_991)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        generate(home, options.count)
        repo = home / "work"
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        url = f"http://127.0.0.1:{options.port}"
        server_env = dict(
            os.environ,
            PORT=str(options.port),
            JWT_SECRET=JWT_SECRET,
            OPENSESSION_DATA_DIR=str(Path(folder) / "server"),
        )
        server = subprocess.Popen(
            [_bin("opensession-server")],
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(lambda: _healthy(url), 20, "the server")
            token = httpx.post(
                f"{url}/api/auth/register",
                json={"email": "b@example.com", "password": "correct horse", "nickname": "bench"},
            ).json()["access_token"]
            key = httpx.post(
                f"{url}/api/auth/api-keys/issue", headers={"Authorization": f"Bearer {token}"}
            ).json()["api_key"]
            _cli(home, "account", "connect", "--server", url, "--api-key", key).check_returncode()
            _cli(home, "daemon", "select", "--repo", str(repo)).check_returncode()
            _measure(home, repo, url, options.count, options.idle)
        finally:
            _cli(home, "daemon", "stop")
            server.terminate()
            server.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _health(home: Path) -> dict:
    return orjson.loads(_cli(home, "daemon", "health").stdout)


def _measure(home: Path, repo: Path, url: str, count: int, idle: float) -> None:
    start = time.perf_counter()
    _cli(home, "daemon", "start").check_returncode()
    started = time.perf_counter() - start
    indexed = started + _wait(lambda: _health(home).get("last_index"), 600, "the first pass")
    pid = _health(home)["pid"]
    print(f"daemon with {count:,} sessions (pid {pid})")
    print(f"  start (pid lock held)      {started * 1000:8.0f} ms")
    print(f"  first index pass done      {indexed:8.1f} s")
    time.sleep(2)
    cpu_before = _cpu_seconds(pid)
    time.sleep(idle)
    cpu = _cpu_seconds(pid) - cpu_before
    print(f"  idle CPU over {idle:.0f} s        {cpu:8.3f} s ({cpu / idle * 100:.2f}%)")
    print(f"  RSS idle                   {_status_kb(pid, 'VmRSS') / 1024:8.1f} MB")
    print(f"  RSS peak                   {_status_kb(pid, 'VmHWM') / 1024:8.1f} MB")

    log = home / ".claude/projects/-work" / "bench-live.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _append(log, "bench-live", 0, repo)
    seconds = _wait(lambda: _events(url, "bench-live") == 1, 30, "the appended session")
    print(f"  watcher: append → server   {seconds * 1000:8.0f} ms (settle included)")

    samples = []
    for number in range(1, 6):
        _append(log, "bench-live", number, repo)
        payload = orjson.dumps({"session_id": "bench-live", "transcript_path": str(log)})
        start = time.perf_counter()
        _cli(home, "daemon", "stream-push", "--agent", "claude-code", stdin=payload)
        hook = time.perf_counter() - start
        total = hook + _wait(lambda n=number: _events(url, "bench-live") == n + 1, 30, "push")
        samples.append((hook, total))
    hooks = sorted(hook for hook, _total in samples)
    totals = sorted(total for _hook, total in samples)
    print(f"  stream-push process        {hooks[len(hooks) // 2] * 1000:8.0f} ms (median of 5)")
    print(f"  hook → server              {totals[len(totals) // 2] * 1000:8.0f} ms (median of 5)")
    print(f"  load average               {os.getloadavg()[0]:8.2f}")


if __name__ == "__main__":
    main()
