"""The policy editor's evidence at 100k scored comments on SQLite: load_history + replay for
the "all" window (what every keystroke in the editor asks for) and suggest().

Run alone: python -m bench.replay_speed"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from bench.corpus import texts

COMMENTS = 100_000
DECIDED_SHARE = 0.10
EMBEDDED_SHARE = 0.10  # scored by the embedded model: toxicity only, the other labels NULL
CHUNK = 20_000
RUNS = 5


def _labels(rng, count: int):
    """Detoxify-like scores: most comments near zero, a toxic tail; the graver labels are
    rarer and follow toxicity."""
    import numpy as np

    from moderation.models import LABELS

    toxic = rng.random(count) < 0.12
    toxicity = np.where(toxic, rng.beta(2.5, 1.2, count), rng.beta(0.6, 14, count))
    # How much of a comment's toxicity each other label tends to carry.
    share = {"severe_toxicity": 0.15, "obscene": 0.6, "threat": 0.1, "insult": 0.7,
             "identity_attack": 0.2, "sexual_explicit": 0.15}
    values = np.empty((count, len(LABELS)))
    values[:, 0] = toxicity
    for index, label in enumerate(LABELS[1:], start=1):
        if label not in share:  # the site model's label: no active site model in this history
            values[:, index] = np.nan
            continue
        values[:, index] = np.clip(toxicity * rng.beta(2, 2 / share[label] - 2, count), 0, 1)
    embedded = rng.random(count) < EMBEDDED_SHARE
    values[embedded, 1:] = np.nan
    # Moderators mostly reject the toxic and approve the rest, with disagreement near the middle.
    decided = rng.random(count) < DECIDED_SHARE
    rejects = rng.random(count) < 1 / (1 + np.exp(-(toxicity - 0.55) * 12))
    return values, embedded, decided, rejects


def _fill(engine, article_id: int, policy_id: int, seed: int = 0) -> float:
    import numpy as np

    from moderation.models import LABELS, Band, Comment, CommentState, Score, utcnow

    rng = np.random.default_rng(seed)
    bodies, _ = texts(20_000, seed=seed)
    start = utcnow() - timedelta(days=60)
    comments_insert, scores_insert = Comment.__table__.insert(), Score.__table__.insert()
    started = time.perf_counter()
    for first in range(1, COMMENTS + 1, CHUNK):
        count = min(CHUNK, COMMENTS + 1 - first)
        values, embedded, decided, rejects = _labels(rng, count)
        comments, scores = [], []
        for offset in range(count):
            comment_id = first + offset
            created_at = start + timedelta(seconds=comment_id * 50)
            scorer = ("embedded", "1") if embedded[offset] else ("detoxify-original", "0.5.4")
            verdict = ("rejected" if rejects[offset] else "approved") if decided[offset] else None
            risk = float(np.nanmax(values[offset]))
            state = {"rejected": CommentState.REJECTED, None: CommentState.APPROVED,
                     "approved": CommentState.APPROVED}[verdict]
            comments.append({
                "id": comment_id, "article_id": article_id, "author_name": "reader",
                "author_email": None, "body": bodies[comment_id % len(bodies)],
                "created_at": created_at, "ip_hash": None, "author_key": None,
                "public_token": f"{comment_id:012d}", "state": state, "risk": risk,
                "band": Band.APPROVE if risk < 0.3 else Band.QUEUE, "policy_id": policy_id,
                "scorer_name": scorer[0], "scorer_version": scorer[1],
                "scored_at": created_at + timedelta(seconds=1), "verdict": verdict,
            })
            labels = {label: None if np.isnan(value) else float(value)
                      for label, value in zip(LABELS, values[offset], strict=True)}
            scores.append({"comment_id": comment_id, "scorer_name": scorer[0],
                           "scorer_version": scorer[1], "scored_at": created_at,
                           "windows": 1, **labels})
        with engine.begin() as connection:
            connection.execute(comments_insert, comments)
            connection.execute(scores_insert, scores)
    return time.perf_counter() - started


def _median_ms(action) -> tuple[float, object]:
    from moderation.extensions import db

    times, result = [], None
    for _ in range(RUNS):
        db.session.remove()  # a fresh session (and connection checkout) each time
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1), result


def _pages(app, thresholds: dict) -> tuple[float, float]:
    from moderation.extensions import db
    from moderation.models import LABELS, Role
    from moderation.services.users import create_user

    create_user("bench-admin", "bench admin password", Role.ADMIN)
    db.session.commit()
    client = app.test_client()
    signed_in = client.post("/login", data={"username": "bench-admin",
                                            "password": "bench admin password"})
    assert signed_in.status_code == 302, signed_in.status_code
    args = {"reject_action": "hold", "window": "all"}
    for label in LABELS:
        rule = thresholds[label]
        if rule["enabled"]:
            args[f"{label}_enabled"] = "y"
        args[f"{label}_approve"], args[f"{label}_reject"] = rule["approve"], rule["reject"]

    def fetch(path: str):
        response = client.get(path, query_string=args)
        assert response.status_code == 200, (path, response.status_code)

    fragment_ms, _ = _median_ms(lambda: fetch("/admin/policy/replay"))
    page_ms, _ = _median_ms(lambda: fetch("/admin/policy"))
    return fragment_ms, page_ms


def run(workdir: Path) -> dict:
    import flask_migrate

    from bench.queue_speed import loader_engine
    from moderation import create_app
    from moderation.extensions import db
    from moderation.models import Article, utcnow
    from moderation.scoring import EmbeddedScorer
    from moderation.services import policy as policies
    from moderation.services import replay, suggest

    url = f"sqlite:///{workdir / 'replay.sqlite3'}"
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      # The pages are measured, not the admin's two-step enrolment before them.
                      "MODERATION_ADMIN_TOTP_REQUIRED": False,
                      "MODERATION_SCORER_OBJECT": EmbeddedScorer()})
    with app.app_context():
        flask_migrate.upgrade()
        current = policies.active_policy()
        article = Article(slug="bench-replay", section="Bench", headline="Replay", byline="B",
                          published_at=utcnow(), tags=[], body="b")
        db.session.add(article)
        db.session.commit()
        loader = loader_engine(url)
        fill_seconds = _fill(loader, article.id, current.id)
        loader.dispose()

        thresholds = policies.default_thresholds()
        thresholds["toxicity"].update(approve=0.25, reject=0.80)
        thresholds["threat"]["enabled"] = False
        proposed = SimpleNamespace(thresholds=thresholds, reject_action="hold")
        current = SimpleNamespace(thresholds=policies.default_thresholds(), reject_action="hold")

        load_ms, history = _median_ms(lambda: replay.load_history("all"))
        compute_ms, _ = _median_ms(
            lambda: replay.replay(proposed, current, window="all", history=history))
        total_ms, result = _median_ms(lambda: replay.replay(proposed, current, window="all"))
        suggest_ms, found = _median_ms(suggest.suggest)
        fragment_ms, page_ms = _pages(app, thresholds)
        db.session.remove()
        db.engine.dispose()
    return {
        "comments": COMMENTS,
        "decided": result.agreement_now.decided,
        "fill_seconds": round(fill_seconds, 1),
        "load_history_ms": load_ms,
        "replay_compute_ms": compute_ms,
        "replay_all_ms": total_ms,  # load_history + replay, as the editor calls it
        "suggest_ms": suggest_ms,
        # What an admin waits for: the replay panel the editor's script fetches per change,
        # and the whole editor page (replay, suggestions, seven charts), rendered.
        "replay_panel_http_ms": fragment_ms,
        "editor_page_http_ms": page_ms,
        "runs_per_timing": RUNS,
        "queue_removed": None if result.queue_removed is None else round(result.queue_removed, 3),
        "suggested": {item.label: [item.approve, item.reject] for item in found},
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        report = run(Path(workdir))
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
