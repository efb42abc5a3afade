"""The whole path on SQLite: readers' form posts through Flask, then the worker banding them
with the embedded model (claim -> score -> band -> commit)."""

from __future__ import annotations

import time
from pathlib import Path

from bench.corpus import texts


def run(workdir: Path, comments: int = 1000) -> dict:
    import flask_migrate

    from moderation import create_app
    from moderation.extensions import db
    from moderation.models import Article, Comment, CommentState, utcnow
    from moderation.scoring import EmbeddedScorer
    from moderation.worker import Worker

    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    scorer = EmbeddedScorer()
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "MODERATION_SCORER_OBJECT": scorer, "MODERATION_WORKER_BATCH": 64})
    with app.app_context():
        flask_migrate.upgrade()
        db.session.add(Article(slug="bench", section="Bench", headline="Bench", byline="B",
                               published_at=utcnow(), tags=[], body="b"))
        db.session.commit()
    bodies, source = texts(comments)
    client = app.test_client()
    started = time.perf_counter()
    for number, body in enumerate(bodies):
        response = client.post("/articles/bench/comments",
                               data={"author_name": f"reader {number}", "body": body})
        assert response.status_code in (303, 400), response.status_code
    post_seconds = time.perf_counter() - started

    scorer.load()
    worker = Worker(app)
    started = time.perf_counter()
    while worker.run_once():
        pass
    band_seconds = time.perf_counter() - started
    with app.app_context():
        pending = db.session.execute(db.select(db.func.count()).select_from(Comment)
                                     .where(Comment.state == CommentState.PENDING)).scalar()
    return {
        "comments": comments,
        "source": source,
        "form_posts_per_s": round(comments / post_seconds, 1),
        "worker_banded_per_s": round(comments / band_seconds, 1),
        "left_pending": pending,
    }
