"""The whole path: readers' form posts through Flask fill a database with pending comments,
then scoring workers band them (claim -> score -> band -> commit), with the embedded model or
the default composite, each worker settled as `flask worker` settles it (one model thread).

On SQLite and on a throwaway PostgreSQL server (tests/pg.py, fsync on). Each run starts from a
copy of the same filled database: one worker, then two in parallel, each its own process with
its own Worker (as `flask supervise --workers 2` runs them). The clock starts once every worker
has loaded its model. Afterwards every comment must have been banded exactly once: one state
change out of pending in the audit trail, one score row, none left pending, claimed or unscored.

python -m bench.pipeline_speed [--database sqlite|postgresql|both] [--comments 5000]
                               [--workers 1,2] [--scorer embedded|composite] [--batch 64]
                               [--profile FILE.pstats]"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import multiprocessing
import queue as queues
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.corpus import texts
from bench.processes import processes, tree_cpu

DATABASES = ("sqlite", "postgresql")
SCORERS = ("embedded", "composite")
BATCH = 64


def _config(url: str, scorer, batch: int = BATCH) -> dict:
    return {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False, "MODERATION_SCORER_OBJECT": scorer,
            "MODERATION_WORKER_BATCH": batch}


def _scorer(name: str):
    from moderation.scoring import CompositeScorer, EmbeddedScorer

    return CompositeScorer() if name == "composite" else EmbeddedScorer()


def _fill(url: str, bodies: list[str]) -> float:
    """Migrate, add an article and post every body through the comment form; seconds spent
    posting."""
    import flask_migrate

    from moderation import create_app
    from moderation.extensions import db
    from moderation.models import Article, utcnow
    from moderation.scoring import EmbeddedScorer

    app = create_app(_config(url, EmbeddedScorer()))
    with app.app_context():
        flask_migrate.upgrade()
        db.session.add(Article(slug="bench", section="Bench", headline="Bench", byline="B",
                               published_at=utcnow(), tags=[], body="b"))
        db.session.commit()
    client = app.test_client()
    started = time.perf_counter()
    for number, body in enumerate(bodies):
        response = client.post("/articles/bench/comments",
                               data={"author_name": f"reader {number}", "body": body})
        assert response.status_code == 303, response.status_code
    seconds = time.perf_counter() - started
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # PostgreSQL copies a template only when nobody is connected
    return seconds


def _drain(url: str, ready, go, results, profile: str | None, scorer_name: str,
           batch: int) -> None:
    """One worker process: settle as `flask worker` does, load the model, say so, wait for
    the start, band until nothing is left to claim."""
    import cProfile

    from moderation import create_app
    from moderation.worker import Worker, settle_process

    scorer = _scorer(scorer_name)
    app = create_app(_config(url, scorer, batch))
    settle_process(app)
    scorer.load()
    worker = Worker(app)
    ready.put(True)
    go.wait()
    profiler = cProfile.Profile() if profile else None
    cpu = time.process_time()
    claimed = 0
    if profiler:
        profiler.enable()
    while batch := worker.run_once():
        claimed += batch
    finished = time.monotonic()
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    results.put({"claimed": claimed, "banded": worker.scored_total, "finished": finished,
                 "cpu_seconds": time.process_time() - cpu})


def drain(url: str, workers: int, database_pid: int | None = None,
          profile: str | None = None, scorer: str = "embedded", batch: int = BATCH) -> dict:
    """`workers` processes drain the database at `url` together; the clock runs from the
    moment all of them have loaded the model to the moment the last one finds nothing."""
    context = multiprocessing.get_context("spawn")  # no engine or thread carried over
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    children = [context.Process(target=_drain, args=(url, ready, go, results,
                                                     profile if number == 0 else None,
                                                     scorer, batch))
                for number in range(workers)]
    for child in children:
        child.start()
    try:
        for _ in children:
            _get(ready, children)
        database_cpu = tree_cpu(processes(), database_pid) if database_pid else 0.0
        started = time.monotonic()
        go.set()
        reports = [_get(results, children) for _ in children]
        if database_pid:
            database_cpu = tree_cpu(processes(), database_pid) - database_cpu
    finally:
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
    seconds = max(report["finished"] for report in reports) - started
    banded = sum(report["banded"] for report in reports)
    return {
        "workers": workers, "seconds": round(seconds, 2),
        "banded_per_s": round(banded / seconds, 1),
        "claimed_by_each": [report["claimed"] for report in reports],
        "worker_cpu_ms_per_comment": round(
            sum(report["cpu_seconds"] for report in reports) * 1000 / max(1, banded), 3),
        "database_server_cpu_ms_per_comment": round(database_cpu * 1000 / max(1, banded), 3)
        if database_pid else None,
    }


def _get(queue, children, limit: float = 600):
    """The next report, or an error as soon as a worker process died without one."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            return queue.get(timeout=0.5)
        except queues.Empty:
            if any(child.exitcode not in (None, 0) for child in children):
                raise RuntimeError("a worker process failed (its traceback is above)") from None
    raise TimeoutError(f"no report from the worker processes in {limit:g} s")


def check(url: str) -> dict:
    """Banded exactly once: each comment has one audit row out of pending and one score, and
    none is left pending, claimed or unscored."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            def count(sql: str) -> int:
                return connection.execute(text(sql)).scalar_one()

            return {
                "comments": count("SELECT count(*) FROM comments"),
                "left_pending": count("SELECT count(*) FROM comments WHERE state = 'pending'"),
                "left_claimed": count(
                    "SELECT count(*) FROM comments WHERE claim_token IS NOT NULL"),
                "unscored": count("SELECT count(*) FROM comments WHERE scored_at IS NULL"),
                "not_banded_exactly_once": count(
                    "SELECT count(*) FROM comments c WHERE (SELECT count(*) FROM decisions d "
                    "WHERE d.comment_id = c.id AND d.from_state = 'pending') <> 1"),
                "not_one_score_row": count(
                    "SELECT count(*) FROM comments c WHERE (SELECT count(*) FROM scores s "
                    "WHERE s.comment_id = c.id) <> 1"),
            }
    finally:
        engine.dispose()


def correct(checked: dict) -> bool:
    return all(value == 0 for key, value in checked.items() if key != "comments")


@contextlib.contextmanager
def _databases(kind: str, workdir: Path):
    """(URL of the filled template, a function making a fresh copy of it and returning its
    URL, the database server's pid or None, a name)."""
    if kind == "sqlite":
        template = workdir / "pipeline-template.sqlite3"
        copies = itertools.count(1)

        def copy() -> str:
            path = workdir / f"pipeline-{next(copies)}.sqlite3"
            with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
                source.backup(target)  # the WAL's contents included
            return f"sqlite:///{path}"

        yield f"sqlite:///{template}", copy, None, "SQLite"
        return
    from tests.pg import BENCH_SETTINGS, PostgresServer, admin_execute, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        yield None, None, None, "skipped: no /usr/lib/postgresql/*/bin/initdb"
        return
    with PostgresServer(bin_dir, BENCH_SETTINGS) as server:
        admin_execute(server, "CREATE DATABASE pipeline_template")
        copies = itertools.count(1)

        def copy() -> str:
            name = f"pipeline_{next(copies)}"
            admin_execute(server, f"CREATE DATABASE {name} TEMPLATE pipeline_template")
            return server.url(name)

        yield (server.url("pipeline_template"), copy, server.pid,
               f"PostgreSQL {bin_dir.parent.name}")


def run(workdir: Path, comments: int = 5000, databases=DATABASES, workers=(1, 2),
        profile: str | None = None, scorer: str = "embedded", batch: int = BATCH) -> dict:
    bodies, source = texts(comments)
    report: dict = {"comments": comments, "source": source, "batch": batch, "scorer": scorer}
    workdir = workdir / f"pipeline-{scorer}-{batch}"  # its own templates: runs may share a folder
    workdir.mkdir(parents=True)
    for kind in databases:
        with _databases(kind, workdir) as (template, copy, database_pid, name):
            if template is None:
                report[kind] = name
                continue
            post_seconds = _fill(template, bodies)
            measured = {"database": name,
                        "form_posts_per_s": round(comments / post_seconds, 1), "runs": []}
            for count in workers:
                url = copy()
                result = drain(url, count, database_pid,
                               profile if kind == databases[-1] and count == 1 else None,
                               scorer, batch)
                result["check"] = check(url)
                result["correct"] = correct(result["check"])
                measured["runs"].append(result)
                print(f"  {name}, {count} worker{'s' if count > 1 else ''}: "
                      f"{result['banded_per_s']:,} comments/s, worker CPU "
                      f"{result['worker_cpu_ms_per_comment']} ms/comment, database "
                      f"{result['database_server_cpu_ms_per_comment']} ms/comment, "
                      f"banded exactly once: {result['correct']}", flush=True)
            report[kind] = measured
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--scorer", choices=SCORERS, default="embedded")
    parser.add_argument("--batch", type=int, default=BATCH,
                        help=f"comments a worker claims at once (default {BATCH})")
    parser.add_argument("--profile", help="cProfile the single worker on the last database "
                                          "into FILE")
    args = parser.parse_args()
    databases = DATABASES if args.database == "both" else (args.database,)
    workers = tuple(int(count) for count in args.workers.split(","))
    with tempfile.TemporaryDirectory() as workdir:
        report = run(Path(workdir), args.comments, databases, workers, args.profile,
                     args.scorer, args.batch)
    print(json.dumps(report, indent=2))
    if args.profile:
        import pstats

        stats = pstats.Stats(args.profile)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
