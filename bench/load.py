"""Open-loop load on the comment form against the server `make run` starts (`flask
supervise`: gunicorn + a scoring worker process), on a fresh SQLite instance and on a throwaway
PostgreSQL server (tests/pg.py, with fsync on), the same rates on each.

The generator runs in its own process and sends each post at its scheduled time whether or not
earlier ones were answered (open loop: a slow server cannot slow the readers down, so queueing
shows in the latencies). Latency is measured from the scheduled send time. Per offered rate:
p50/p90/p99, answers that were not 303, posts acknowledged versus rows stored in the database
under test (must be equal), CPU per post over every server process and split into web
(gunicorn), worker and database server (bench/processes.py), and how fast the worker drained.

The server scores with the default offline scorer (the composite), as `make run` does, and each
post is a different real tweet (bench/corpus.py), so the worker's memory of recent texts does
not flatter it. After the rates, a burst: 2,000 posts sent as fast as the generator can, and
the time from the first post to the last comment scored. Then, where wrk is installed
(`apt-get install wrk`), a closed loop: 8 connections posting as fast as they are answered.

python -m bench.load [--database sqlite|postgresql|both] [--rates 50,100,200,400] [--seconds 20]
                     [--scorer composite]"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

from bench.processes import cpu_by_role, difference, processes

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
DATABASES = ("sqlite", "postgresql")
THREADS = 8  # flask supervise's default per web process


class Unavailable(Exception):
    """This database cannot be benched here (no server binaries)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    from bench.corpus import texts

    bodies, _ = texts(int(rate * seconds), seed=zlib.crc32(str(tag).encode()))
    latencies, statuses = [], []
    start = time.perf_counter() + 0.2
    tasks = []

    async def one(n):
        scheduled = start + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        body = urllib.parse.urlencode({
            "author_name": f"Reader {n % 97}", "csrf_token": token,
            "body": f"{bodies[n]} ({tag}-{n})"
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


@contextlib.contextmanager
def _database(kind: str, folder: Path):
    """(DATABASE_URL for the server or None for the instance's SQLite file, the URL we count
    rows through, the database server's pid or None). A PostgreSQL server is stopped by its
    pid when the block ends, however it ends."""
    if kind == "sqlite":
        yield None, f"sqlite:///{folder / 'moderation.sqlite3'}", None, "SQLite"
        return
    from tests.pg import BENCH_SETTINGS, PostgresServer, admin_execute, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise Unavailable("no /usr/lib/postgresql/*/bin/initdb")
    with PostgresServer(bin_dir, BENCH_SETTINGS) as server:
        admin_execute(server, "CREATE DATABASE bench_load")
        url = server.url("bench_load")
        yield url, url, server.pid, f"PostgreSQL {bin_dir.parent.name}"


BURST = 2000


def run(workdir: Path, rates=(50, 100, 200, 400), seconds: float = 20.0,
        databases=DATABASES, scorer: str = "composite") -> dict:
    from moderation.supervisor import default_processes

    results = {"server": f"make run (flask supervise: gunicorn {default_processes()} processes "
                         f"x {THREADS} threads + 1 worker process)",
               "scorer": scorer, "seconds_per_rate": seconds}
    for kind in databases:
        print(f"  {kind}:", flush=True)
        try:
            results[kind] = _run_on(kind, workdir / f"load-{kind}", rates, seconds, scorer)
        except Unavailable as missing:
            results[kind] = f"skipped: {missing}"
    print(table(results), flush=True)
    return results


def _run_on(kind: str, folder: Path, rates, seconds: float, scorer: str) -> dict:
    from sqlalchemy import create_engine, text

    from moderation.services.demo import ARTICLES

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.py").write_text("SECRET_KEY = 'bench-load'\n")
    env = dict(os.environ, MODERATION_INSTANCE_PATH=str(folder), MODERATION_SCORER=scorer,
               MODERATION_ADMIN_PASSWORD="bench admin password 1",
               MODERATION_MODERATOR_PASSWORD="bench moderator password 1",
               MODERATION_POST_LIMIT="1000000 per minute")
    env.pop("DATABASE_URL", None)
    with _database(kind, folder) as (server_url, count_url, database_pid, name):
        if server_url:
            env["DATABASE_URL"] = server_url
        for step in (["db", "upgrade"], ["seed-demo"]):
            subprocess.run(FLASK + step, cwd=ROOT, env=env, check=True, capture_output=True)
        # One connection for counting, open all along: its backend's CPU is not the load's.
        engine = create_engine(count_url)
        counter = engine.connect()

        def stored() -> int:
            count = counter.execute(text("SELECT count(*) FROM comments")).scalar_one()
            counter.rollback()  # no snapshot held open between counts
            return count

        port = _free_port()
        workers = ["--workers", os.environ["BENCH_LOAD_WORKERS"]] \
            if os.environ.get("BENCH_LOAD_WORKERS") else []
        server = subprocess.Popen(FLASK + ["supervise", "--port", str(port), *workers], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            _wait_for_worker(port)
            measured = {"database": name, "rates": [
                _one_rate(port, rate, seconds, stored, server.pid, database_pid, ARTICLES)
                for rate in rates]}
            measured["burst"] = _burst(port, stored, ARTICLES)
            closed = _closed_loop(port, stored, ARTICLES, seconds, folder, server.pid,
                                  database_pid)
            if closed is not None:
                measured["closed_loop"] = closed
            return measured
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
            counter.close()
            engine.dispose()


def _wait_for_drain(port: int, step: float) -> None:
    """Until /healthz says no comment waits for the scorer (or the server stops answering)."""
    while (health := _health(port)) and health["comments"]["awaiting_score"] > 0:
        time.sleep(step)


def _wait_for_worker(port: int) -> None:
    """Until /healthz lists a worker (it reports after loading its model), two minutes at most."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (_health(port) or {}).get("workers"):
        time.sleep(0.5)


def _one_rate(port, rate, seconds, stored, server_pid, database_pid, articles) -> dict:
    slug = articles[0]["slug"]
    token, cookie = _session(port, slug)
    path = f"/articles/{slug}/comments"
    before_rows = stored()
    cpu_before = cpu_by_role(processes(), server_pid, database_pid)
    queue = multiprocessing.Queue()
    generator = multiprocessing.Process(
        target=_generate, args=(port, path, token, cookie, rate, seconds, rate, queue))
    generator.start()
    latencies, statuses = queue.get()
    generator.join()
    acknowledged = statuses.count(303)
    rows = stored() - before_rows
    drained_at = time.monotonic()
    _wait_for_drain(port, 0.2)
    drain_wait = time.monotonic() - drained_at
    # After the drain: a worker that fell behind spends its CPU on these posts afterwards.
    cpu = difference(cpu_by_role(processes(), server_pid, database_pid), cpu_before)

    def per_post(seconds_spent: float) -> float:
        return round(seconds_spent * 1000 / max(1, acknowledged), 2)

    result = {
        "offered_per_s": rate, "sent": len(statuses), "acknowledged": acknowledged,
        "rows_stored": rows, "non_2xx_3xx": sum(1 for s in statuses if not 200 <= s < 400),
        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
        "p90_ms": round(_percentile(latencies, 0.9) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "achieved_per_s": round(acknowledged / max(max(latencies), seconds), 1),
        # All server processes: web + worker + database server + the supervisor itself.
        "cpu_ms_per_post_all_processes": per_post(sum(cpu.values())),
        "cpu_ms_per_post_web": per_post(cpu["web"]),
        "cpu_ms_per_post_worker": per_post(cpu["worker"]),
        "cpu_ms_per_post_database_server": per_post(cpu["database"]),
        "worker_backlog_cleared_s_after_load": round(drain_wait, 1),
    }
    print(f"    {rate}/s: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
          f"{acknowledged}/{len(statuses)} acknowledged, {rows} stored, CPU ms/post: web "
          f"{result['cpu_ms_per_post_web']}, worker {result['cpu_ms_per_post_worker']}, "
          f"database {result['cpu_ms_per_post_database_server']}", flush=True)
    return result


def _burst(port, stored, articles) -> dict:
    """BURST posts offered at 2,000/s (the generator sends as fast as it can): seconds from
    the first post to the last comment scored, and whether every acknowledged post was
    stored."""
    slug = articles[0]["slug"]
    token, cookie = _session(port, slug)
    before_rows = stored()
    queue = multiprocessing.Queue()
    started = time.monotonic()
    generator = multiprocessing.Process(
        target=_generate, args=(port, f"/articles/{slug}/comments", token, cookie, BURST, 1.0,
                                "burst", queue))
    generator.start()
    latencies, statuses = queue.get()
    generator.join()
    sent_by = time.monotonic() - started
    _wait_for_drain(port, 0.1)
    result = {"posts": BURST, "acknowledged": statuses.count(303),
              "rows_stored": stored() - before_rows,
              "all_answered_s": round(sent_by, 1),
              "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
              "last_scored_s_after_first_post": round(time.monotonic() - started, 1)}
    print(f"    burst of {BURST}: answered in {result['all_answered_s']} s, last scored "
          f"{result['last_scored_s_after_first_post']} s after the first post", flush=True)
    return result


CLOSED_CONNECTIONS = 8
_WRK_SCRIPT = """
-- thread:set gives each thread's state a global `id`: a local of that name would hide it,
-- and both threads would send the same posts (replays, answered but not stored again).
local bodies, count, n = {}, 0, 0
function setup(thread) thread:set("id", count); count = count + 1 end
function init(args)
  for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
end
function request()
  n = n + 1
  local body = bodies[((n * 2 + id) % #bodies) + 1]
  return wrk.format("POST", os.getenv("BENCH_PATH"), {
    ["Cookie"] = os.getenv("BENCH_COOKIE"),
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return round(float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 1)


def _closed_loop(port, stored, articles, seconds, folder: Path, server_pid, database_pid):
    """wrk with CLOSED_CONNECTIONS connections posting as fast as answers come back, each
    post a different real tweet, while the worker scores: posts/s, latency percentiles,
    acknowledged = stored, and the backlog left. None when wrk is not installed."""
    import shutil

    from bench.corpus import texts

    if shutil.which("wrk") is None:
        return None
    slug = articles[0]["slug"]
    token, cookie = _session(port, slug)
    bodies, _ = texts(4000, seed=7)
    lines = [urllib.parse.urlencode({"author_name": f"Reader {n % 89}", "csrf_token": token,
                                     "body": f"{bodies[n % len(bodies)]} (closed-{n})"})
             for n in range(40_000)]  # more than are sent: never the same post twice
    (folder / "bodies.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "post.lua").write_text(_WRK_SCRIPT, encoding="utf-8")
    before_rows = stored()
    cpu_before = cpu_by_role(processes(), server_pid, database_pid)
    env = dict(os.environ, BENCH_BODIES=str(folder / "bodies.txt"), BENCH_COOKIE=cookie,
               BENCH_PATH=f"/articles/{slug}/comments")
    done = subprocess.run(["wrk", "-t2", f"-c{CLOSED_CONNECTIONS}", f"-d{int(seconds)}s",
                           "--latency", "-s", str(folder / "post.lua"),
                           f"http://127.0.0.1:{port}"], env=env, capture_output=True,
                          text=True, check=True)
    out = done.stdout
    finished_at = time.monotonic()
    _wait_for_drain(port, 0.2)
    drain_wait = time.monotonic() - finished_at
    cpu = difference(cpu_by_role(processes(), server_pid, database_pid), cpu_before)
    sent = int(re.search(r"(\d+) requests in", out).group(1))
    refused = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) \
        else 0
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.MULTILINE))
    result = {
        "connections": CLOSED_CONNECTIONS, "seconds": seconds,
        "posts_per_s": round(sent / seconds, 1), "answered": sent, "not_2xx_3xx": refused,
        # A post in flight when wrk stops is stored but not counted as answered: stored is
        # at least answered, or some posts were replays (the same post again).
        "rows_stored": stored() - before_rows,
        "p50_ms": _wrk_ms(percentiles["50"]), "p90_ms": _wrk_ms(percentiles["90"]),
        "p99_ms": _wrk_ms(percentiles["99"]),
        "cpu_ms_per_post_all_processes": round(sum(cpu.values()) * 1000 / max(1, sent), 2),
        "worker_backlog_cleared_s_after_load": round(drain_wait, 1),
    }
    if result["rows_stored"] < sent - refused:
        raise RuntimeError(f"closed loop: {sent - refused} posts answered but only "
                           f"{result['rows_stored']} stored: the generator repeated posts")
    print(f"    closed loop ({CLOSED_CONNECTIONS} connections): {result['posts_per_s']} "
          f"posts/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, backlog gone "
          f"{result['worker_backlog_cleared_s_after_load']} s after", flush=True)
    return result


def table(results: dict) -> str:
    """Rows for the README's load table."""
    lines = ["", "| database | offered posts/s | p50 ms | p90 ms | p99 ms | not 2xx/3xx "
             "| acknowledged = stored | CPU ms per post, all server processes | web | worker "
             "| database server | worker backlog gone after the load |",
             "|---" * 12 + "|"]
    for kind in DATABASES:
        measured = results.get(kind)
        if not isinstance(measured, dict):
            continue
        for row in measured["rates"]:
            database = (f"{row['cpu_ms_per_post_database_server']:.1f}" if kind != "sqlite"
                        else "(in web and worker)")
            lines.append(
                f"| {measured['database']} | {row['offered_per_s']} | {row['p50_ms']:,} "
                f"| {row['p90_ms']:,} | {row['p99_ms']:,} | {row['non_2xx_3xx']} "
                f"| {row['acknowledged']:,} = {row['rows_stored']:,} "
                f"| {row['cpu_ms_per_post_all_processes']:.1f} "
                f"| {row['cpu_ms_per_post_web']:.1f} | {row['cpu_ms_per_post_worker']:.1f} "
                f"| {database} | {row['worker_backlog_cleared_s_after_load']} s |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--rates", default="50,100,200,400")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--scorer", default="composite",
                        help="MODERATION_SCORER for the server (default: composite, what "
                             "make run scores with when Detoxify's weights are absent)")
    args = parser.parse_args()
    rates = tuple(int(rate) for rate in args.rates.split(","))
    databases = DATABASES if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory() as workdir:
        print(json.dumps(run(Path(workdir), rates, args.seconds, databases, args.scorer),
                         indent=2))


if __name__ == "__main__":
    main()
