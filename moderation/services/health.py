"""What /healthz reports."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from moderation.extensions import db
from moderation.models import WorkerHeartbeat, utcnow
from moderation.services.pipeline import waiting_counts
from moderation.services.scorer import scorer_choice

WORKER_FRESH_SECONDS = 60


def report(app: Flask, *, detailed: bool = False) -> tuple[dict, bool]:
    """Anyone gets the booleans and counts; signed-in staff also get why this scorer was chosen
    and each worker's id and last error (hostnames, file paths: not for the public)."""
    choice = scorer_choice(app)
    identity = choice.scorer.identity
    body = {
        "database": {"ok": False},
        "scorer": {
            "name": identity.name,
            "version": identity.version,
            "loaded": bool(choice.scorer.ready),  # in this process
        },
        "workers": [],
        "comments": {},
    }
    try:
        db.session.execute(db.text("SELECT 1"))
        body["database"]["ok"] = True
        body["comments"] = waiting_counts()
        body["workers"] = _fresh_workers(detailed)
        body["scorer"]["loaded_in_worker"] = any(w["scorer_loaded"] for w in body["workers"])
    except Exception as error:  # report, do not raise: this is what monitors poll
        db.session.rollback()
        body["database"]["error"] = error.__class__.__name__
    if detailed:
        body["scorer"]["reason"] = choice.reason
    return body, body["database"]["ok"]


def _fresh_workers(detailed: bool) -> list[dict]:
    since = utcnow() - timedelta(seconds=WORKER_FRESH_SECONDS)
    beats = db.session.execute(
        db.select(WorkerHeartbeat).where(WorkerHeartbeat.seen_at >= since)
        .order_by(WorkerHeartbeat.started_at)
    ).scalars()
    workers = []
    for beat in beats:
        worker = {
            "scorer": beat.scorer_name,
            "scorer_version": beat.scorer_version,
            "scorer_loaded": beat.scorer_loaded,
            "seen_at": beat.seen_at.isoformat() + "Z",
            "scored_total": beat.scored_total,
        }
        if detailed:
            worker.update(id=beat.id, last_error=beat.last_error)
        workers.append(worker)
    return workers
