"""What /healthz reports."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from moderation.extensions import db
from moderation.models import WorkerHeartbeat, utcnow
from moderation.services.pipeline import waiting_counts
from moderation.services.scorer import scorer_choice

WORKER_FRESH_SECONDS = 60


def report(app: Flask) -> tuple[dict, bool]:
    choice = scorer_choice(app)
    identity = choice.scorer.identity
    body = {
        "database": {"ok": False},
        "scorer": {
            "name": identity.name,
            "version": identity.version,
            "loaded": bool(choice.scorer.ready),  # in this process
            "reason": choice.reason,
        },
        "workers": [],
        "comments": {},
    }
    try:
        db.session.execute(db.text("SELECT 1"))
        body["database"]["ok"] = True
        body["comments"] = waiting_counts()
        body["workers"] = _fresh_workers()
        body["scorer"]["loaded_in_worker"] = any(w["scorer_loaded"] for w in body["workers"])
    except Exception as error:  # report, do not raise: this is what monitors poll
        db.session.rollback()
        body["database"]["error"] = error.__class__.__name__
    return body, body["database"]["ok"]


def _fresh_workers() -> list[dict]:
    since = utcnow() - timedelta(seconds=WORKER_FRESH_SECONDS)
    beats = db.session.execute(
        db.select(WorkerHeartbeat).where(WorkerHeartbeat.seen_at >= since)
        .order_by(WorkerHeartbeat.started_at)
    ).scalars()
    return [
        {
            "id": beat.id,
            "scorer": beat.scorer_name,
            "scorer_version": beat.scorer_version,
            "scorer_loaded": beat.scorer_loaded,
            "last_error": beat.last_error,
            "seen_at": beat.seen_at.isoformat() + "Z",
            "scored_total": beat.scored_total,
        }
        for beat in beats
    ]
