"""Open-loop load on the comment form against the server `make run` starts (`flask
supervise`: gunicorn + a scoring worker process), on a fresh SQLite instance.

The generator runs in its own process and sends each post at its scheduled time whether or not
earlier ones were answered (open loop: a slow server cannot slow the readers down, so queueing
shows in the latencies). Latency is measured from the scheduled send time. Per offered rate:
p50/p90/p99, answers that were not 303, posts acknowledged versus rows stored (must be equal),
CPU seconds per post summed over every server process, and how fast the worker drained.

python -m bench.load [--rates 50,100,200,400] [--seconds 10]"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree_cpu_seconds(root_pid: int) -> float:
    """utime + stime of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry.name), int(fields[1])
        children.setdefault(parent, []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


async def _post(port: int, path: str, body: bytes, cookie: str) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # the rest, until the server closes
        return int(status_line.split()[1])
    finally:
        writer.close()


async def _open_loop(port, path, token, cookie, rate, seconds, tag):
    latencies, statuses = [], []
    start = time.perf_counter() + 0.2
    tasks = []

    async def one(n):
        scheduled = start + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        body = urllib.parse.urlencode({
            "author_name": f"Reader {n % 97}", "csrf_token": token,
            "body": f"Load comment {tag}-{n}: the council should publish the flood report."
        }).encode()
        try:
            status = await _post(port, path, body, cookie)
        except OSError:
            status = 0
        latencies.append(time.perf_counter() - scheduled)
        statuses.append(status)

    for n in range(int(rate * seconds)):
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return latencies, statuses


def _generate(port, path, token, cookie, rate, seconds, tag, queue):
    latencies, statuses = asyncio.run(_open_loop(port, path, token, cookie, rate, seconds, tag))
    queue.put((latencies, statuses))


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else None


def _session(port: int, slug: str) -> tuple[str, str]:
    response = urllib.request.urlopen(f"http://127.0.0.1:{port}/articles/{slug}", timeout=30)
    page = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    return token, cookie


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            return json.load(answer)
    except OSError:
        return None


def run(workdir: Path, rates=(50, 100, 200, 400), seconds: float = 10.0) -> dict:
    from moderation.services.demo import ARTICLES

    folder = workdir / "load-instance"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.py").write_text("SECRET_KEY = 'bench-load'\n")
    env = dict(os.environ, MODERATION_INSTANCE_PATH=str(folder), MODERATION_SCORER="embedded",
               MODERATION_ADMIN_PASSWORD="bench admin password 1",
               MODERATION_MODERATOR_PASSWORD="bench moderator password 1",
               MODERATION_POST_LIMIT="1000000 per minute")
    env.pop("DATABASE_URL", None)
    for step in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(FLASK + step, cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(FLASK + ["supervise", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    database = folder / "moderation.sqlite3"
    results = {"server": "make run (flask supervise: gunicorn + 1 worker process), SQLite",
               "seconds_per_rate": seconds, "rates": []}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (_health(port) or {}).get("workers"):
            time.sleep(0.5)
        slug = ARTICLES[0]["slug"]
        token, cookie = _session(port, slug)
        path = f"/articles/{slug}/comments"
        for rate in rates:
            before_rows = _rows(database)
            cpu_before = _tree_cpu_seconds(server.pid)
            queue = multiprocessing.Queue()
            generator = multiprocessing.Process(
                target=_generate, args=(port, path, token, cookie, rate, seconds, rate, queue))
            generator.start()
            latencies, statuses = queue.get()
            generator.join()
            cpu = _tree_cpu_seconds(server.pid) - cpu_before
            acknowledged = statuses.count(303)
            stored = _rows(database) - before_rows
            drained_at = time.monotonic()
            while (h := _health(port)) and h["comments"]["awaiting_score"] > 0:
                time.sleep(0.2)
            drain_wait = time.monotonic() - drained_at
            results["rates"].append({
                "offered_per_s": rate, "sent": len(statuses), "acknowledged": acknowledged,
                "rows_stored": stored, "non_2xx_3xx": sum(1 for s in statuses if not
                                                          200 <= s < 400),
                "p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
                "p90_ms": round(_percentile(latencies, 0.9) * 1000, 1),
                "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
                "achieved_per_s": round(acknowledged / max(max(latencies), seconds), 1),
                "cpu_ms_per_post_all_processes": round(cpu * 1000 / max(1, acknowledged), 1),
                "worker_backlog_cleared_s_after_load": round(drain_wait, 1),
            })
            print(f"  {rate}/s: p50 {results['rates'][-1]['p50_ms']} ms, "
                  f"p99 {results['rates'][-1]['p99_ms']} ms, {acknowledged}/{len(statuses)} "
                  f"acknowledged, {stored} stored", flush=True)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
    return results


def _rows(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute("SELECT count(*) FROM comments").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="50,100,200,400")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    rates = tuple(int(rate) for rate in args.rates.split(","))
    with tempfile.TemporaryDirectory() as workdir:
        print(json.dumps(run(Path(workdir), rates, args.seconds), indent=2))


if __name__ == "__main__":
    main()
