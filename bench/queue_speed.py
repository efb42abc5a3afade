"""The moderation queue as the comments table grows: 10k -> 100k -> 1M comments in one
database (SQLite, and PostgreSQL when its server binaries are installed).

At each size: the first page in risk order, a page ~20 pages deep (keyset: should cost what
the first does), a filtered page (queued band, a label above a threshold), state_counts()
(which the queue page runs on every request) and GET /queue/ rendered through Flask.

Sizes: BENCH_QUEUE_SIZES=10000,100000 (comma-separated totals, ascending); default reaches 1M.
Run alone: python -m bench.queue_speed"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.corpus import texts

SIZES_ENV = "BENCH_QUEUE_SIZES"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
AWAITING_SHARE = 0.10  # queued or held: what a moderator sees
HELD_SHARE = 0.30  # of those awaiting
UNSCORED_SHARE = 0.03  # of those awaiting: the scorer failed on them
ARTICLES = 8
AUTHORS = 50_000
CHUNK = 20_000
RUNS = 7
PAGE = 50
DEEP_PAGES = 20
PASSWORD = "bench password 1"
LABEL_FILTER = {"band": "queued", "label": "toxicity", "label_min": 0.5}


def sizes_from_env() -> list[int]:
    raw = os.environ.get(SIZES_ENV, "").strip()
    if not raw:
        return list(DEFAULT_SIZES)
    sizes = [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]
    if not sizes or sizes != sorted(sizes) or sizes[0] <= 0:
        raise SystemExit(f"{SIZES_ENV} is ascending positive totals, e.g. 10000,100000")
    return sizes


class Corpus:
    """Comment rows for a core INSERT executemany: plain dicts, explicit ids (so score rows can
    point at them without reading anything back), ~10% awaiting a moderator, written by a pool
    of returning authors."""

    def __init__(self, article_ids: list[int], policy_id: int, seed: int = 0):
        from moderation.models import utcnow

        self.article_ids = article_ids
        self.policy_id = policy_id
        self.rng = random.Random(seed)
        self.bodies, self.source = texts(20_000, seed=seed)
        self.authors = [(f"reader{number}", f"{self.rng.getrandbits(256):064x}",
                         f"{self.rng.getrandbits(256):064x}") for number in range(AUTHORS)]
        self.start = utcnow() - timedelta(days=60)

    def rows(self, first_id: int, count: int) -> tuple[list[dict], list[dict]]:
        from moderation.models import LABELS, Band, CommentState

        rng = self.rng
        comments, scores = [], []
        for comment_id in range(first_id, first_id + count):
            created_at = self.start + timedelta(seconds=comment_id * 2)
            awaiting = rng.random() < AWAITING_SHARE
            unscored = awaiting and rng.random() < UNSCORED_SHARE
            if not awaiting:
                state, risk, band = CommentState.APPROVED, rng.uniform(0, 0.3), Band.APPROVE
            elif rng.random() < HELD_SHARE:
                state, risk, band = CommentState.HELD, rng.uniform(0.9, 1.0), Band.REJECT
            else:
                state, risk, band = CommentState.QUEUED, rng.uniform(0.3, 0.9), Band.QUEUE
            if unscored:
                risk = band = None
            author_name, author_key, ip_hash = rng.choice(self.authors)
            comments.append({
                "id": comment_id,
                "article_id": rng.choice(self.article_ids),
                "author_name": author_name,
                "author_email": None,
                "body": rng.choice(self.bodies),
                "created_at": created_at,
                "ip_hash": ip_hash,
                "author_key": author_key,
                "public_token": f"{comment_id:08d}{rng.getrandbits(128):032x}",
                "state": state,
                "risk": risk,
                "band": band,
                "policy_id": None if unscored else self.policy_id,
                "scorer_name": None if unscored else "bench",
                "scorer_version": None if unscored else "1",
                "scored_at": None if unscored else created_at + timedelta(seconds=1),
                "score_attempts": 1 if unscored else 0,
                "score_error": "ScorerError: timed out" if unscored else None,
                "next_score_at": created_at + timedelta(hours=1) if unscored else None,
                "claim_token": None,
                "claim_expires_at": None,
            })
            # Only what the queue reads needs scores: awaiting, scored comments. Risk is the
            # top label; toxicity usually is it, as with Detoxify.
            if awaiting and not unscored:
                top = "toxicity" if rng.random() < 0.7 else rng.choice(LABELS)
                labels = {label: risk * rng.uniform(0.1, 0.9) for label in LABELS}
                labels[top] = risk
                scores.append({"comment_id": comment_id, "scorer_name": "bench",
                               "scorer_version": "1", "scored_at": created_at,
                               "windows": 1, "top_window_start": None,
                               "top_window_end": None, **labels})
        return comments, scores


def loader_engine(url: str):
    """A separate engine for filling the table, so the app's own connections keep their usual
    settings while they are timed. SQLite: a big page cache and no syncing, or the random
    author keys make every chunk rewrite most index pages."""
    from sqlalchemy import create_engine, event

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA cache_size=-1048576")  # KiB: 1 GiB
            dbapi_connection.execute("PRAGMA synchronous=OFF")
    return engine


def _grow(engine, corpus: Corpus, have: int, want: int) -> float:
    from flask import current_app

    from moderation.extensions import db
    from moderation.models import Comment, Score
    from moderation.services import queue_counts

    # Plain executemany: measured faster here than RETURNING ("insertmanyvalues" batches)
    # and far faster than one multi-row VALUES statement per chunk.
    comments_insert = Comment.__table__.insert()
    scores_insert = Score.__table__.insert()
    started = time.perf_counter()
    while have < want:
        count = min(CHUNK, want - have)
        comments, scores = corpus.rows(have + 1, count)
        with engine.begin() as connection:
            connection.execute(comments_insert, comments)
            if scores:
                connection.execute(scores_insert, scores)
        have += count
        # The triggers logged each new comment's band; the worker folds those once a second.
        with current_app.app_context():  # its own session, as the worker's
            queue_counts.fold()
            db.session.commit()
            db.session.remove()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Explicit ids leave the sequence behind; ANALYZE is what autovacuum would do.
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('comments', 'id'), "
                "(SELECT max(id) FROM comments))")
            connection.exec_driver_sql("ANALYZE comments")
            connection.exec_driver_sql("ANALYZE scores")
    return time.perf_counter() - started


def _median_ms(action, runs: int = RUNS) -> float:
    from moderation.extensions import db

    times = []
    for _ in range(runs):
        db.session.remove()  # a fresh session each time: nothing served from the identity map
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def _deep_cursor() -> tuple[str | None, int]:
    """The cursor DEEP_PAGES pages in (fewer when the queue is shorter than that)."""
    from moderation.services import queue

    cursor, pages = None, 0
    while pages < DEEP_PAGES:
        found = queue.page(limit=PAGE, cursor=cursor)
        if not found.next_cursor:
            break
        cursor, pages = found.next_cursor, pages + 1
    return cursor, pages


def _first_statement(action) -> tuple[str, object]:
    from sqlalchemy import event

    from moderation.extensions import db

    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen[0]


def _plan(action) -> dict:
    """The query plan of the main (first) statement `action` runs."""
    from moderation.extensions import db

    statement, parameters = _first_statement(action)
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters).all()
            lines = [row[0] for row in rows]
            seq_scan = any("Seq Scan on comments" in line for line in lines)
        else:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                              parameters).all()
            lines = [row[-1] for row in rows]
            seq_scan = any(line.startswith("SCAN comments") and "INDEX" not in line
                           for line in lines)
    return {"statement": " ".join(statement.split()), "plan": lines,
            "uses_index": any("ix_comments_state" in line for line in lines),
            "seq_scan_on_comments": seq_scan}


def _measure(client) -> dict:
    from moderation.services import queue

    cursor, pages_in = _deep_cursor()
    label_filter = queue.QueueFilter(**LABEL_FILTER)

    def render():
        response = client.get("/queue/")
        assert response.status_code == 200, response.status_code

    return {
        "first_page_ms": _median_ms(lambda: queue.page(limit=PAGE)),
        "deep_page_ms": _median_ms(lambda: queue.page(limit=PAGE, cursor=cursor)),
        "deep_page_number": pages_in + 1,
        "filtered_page_ms": _median_ms(lambda: queue.page(label_filter, limit=PAGE)),
        "state_counts_ms": _median_ms(queue.state_counts),
        "render_queue_ms": _median_ms(render),
    }


def measure_backend(url: str, sizes: list[int], label: str) -> dict:
    import flask_migrate

    from moderation import create_app
    from moderation.extensions import db
    from moderation.models import Article, Comment, CommentState, utcnow
    from moderation.scoring import EmbeddedScorer
    from moderation.services import policy as policies
    from moderation.services import queue
    from moderation.services.users import create_user

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "MODERATION_SCORER_OBJECT": EmbeddedScorer()})
    results: dict = {"sizes": {}}
    with app.app_context():
        flask_migrate.upgrade()
        create_user("bench-moderator", PASSWORD)
        policy_id = policies.active_policy().id
        article_ids = []
        for number in range(ARTICLES):
            article = Article(slug=f"bench-{number}", section="Bench", headline=f"Story {number}",
                              byline="B", published_at=utcnow(), tags=[], body="b")
            db.session.add(article)
            db.session.flush()
            article_ids.append(article.id)
        db.session.commit()
        corpus = Corpus(article_ids, policy_id)
        loader = loader_engine(url)
        results["bodies"] = corpus.source
        client = app.test_client()
        response = client.post("/login", data={"username": "bench-moderator",
                                               "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        have = 0
        for size in sizes:
            print(f"  {label}: growing to {size:,} comments ...", flush=True)
            previous = have
            seconds = _grow(loader, corpus, have, size)
            have = size
            awaiting = db.session.execute(
                db.select(db.func.count()).select_from(Comment)
                .where(Comment.state.in_((CommentState.QUEUED, CommentState.HELD)))
            ).scalar_one()
            timings = _measure(client)
            # Filling includes making the rows in Python; it is the setup, not a queue timing.
            timings.update(fill_seconds=round(seconds, 1), rows_added=size - previous,
                           awaiting=awaiting)
            results["sizes"][str(size)] = timings
            print(f"    {timings}", flush=True)
        cursor, _ = _deep_cursor()
        results["deep_page_plan"] = _plan(lambda: queue.page(limit=PAGE, cursor=cursor))
        results["deep_page_plan"]["at_size"] = sizes[-1]
        # The per-band counts GET /queue/ shows: kept totals plus unfolded changes.
        results["state_counts_plan"] = _plan(queue.state_counts)
        db.session.remove()
        db.engine.dispose()
        loader.dispose()
    return results


def run(workdir: Path, sizes: list[int] | None = None) -> dict:
    from tests.pg import PostgresServer, admin_execute, find_bin_dir

    sizes = sizes or sizes_from_env()
    started = time.perf_counter()
    report: dict = {"page_size": PAGE, "runs_per_timing": RUNS,
                    "label_filter": LABEL_FILTER, "awaiting_share": AWAITING_SHARE}
    report["sqlite"] = measure_backend(f"sqlite:///{workdir / 'queue.sqlite3'}", sizes,
                                       "SQLite")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        report["postgresql"] = "skipped: no /usr/lib/postgresql/*/bin/initdb"
    else:
        server = PostgresServer(bin_dir)
        server.start()
        try:
            admin_execute(server, "CREATE DATABASE bench_queue")
            report["postgresql"] = measure_backend(server.url("bench_queue"), sizes,
                                                   "PostgreSQL")
        finally:
            server.stop()
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(table(report))
    return report


def table(report: dict) -> str:
    columns = ("first_page_ms", "deep_page_ms", "filtered_page_ms", "state_counts_ms",
               "render_queue_ms", "fill_seconds")
    heads = ("first", "deep", "filtered", "counts", "GET /queue/", "fill s")
    lines = ["", f"Queue, median ms of {RUNS} runs (page of {PAGE})",
             f"{'backend':<11}{'comments':>10}" + "".join(f"{head:>13}" for head in heads)]
    for backend in ("sqlite", "postgresql"):
        measured = report.get(backend)
        if not isinstance(measured, dict):
            continue
        for size, timings in measured["sizes"].items():
            lines.append(f"{backend:<11}{int(size):>10,}"
                         + "".join(f"{timings[column]:>13}" for column in columns))
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        report = run(Path(workdir))
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
