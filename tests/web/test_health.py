"""/healthz: what a monitor or a newcomer checks first."""

import threading

from moderation.extensions import db
from moderation.worker import Worker
from tests.factories import make_article, make_comment


def test_healthz_reports_database_scorer_and_waiting_counts(app, client):
    with app.app_context():
        article = make_article()
        make_comment(article, "waiting for the scorer")
        db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"]["ok"] is True
    assert body["scorer"]["name"] == "fake" and body["scorer"]["loaded"] is False
    assert body["comments"] == {"awaiting_score": 1, "awaiting_moderator": 0}
    assert body["workers"] == []


def test_healthz_sees_a_running_worker_and_its_loaded_scorer(app, client):
    with app.app_context():
        article = make_article()
        make_comment(article, "hmm [toxicity=0.5]")
        db.session.commit()
    worker = Worker(app)
    worker.run(threading.Event(), max_batches=1)
    body = client.get("/healthz").get_json()
    assert body["comments"] == {"awaiting_score": 0, "awaiting_moderator": 1}
    [seen] = body["workers"]
    assert seen["scorer"] == "fake" and seen["scorer_loaded"] is True
    assert seen["scored_total"] == 1
    assert body["scorer"]["loaded_in_worker"] is True


def test_healthz_says_503_when_the_database_is_unreachable():
    from moderation import create_app
    from tests.conftest import base_config

    broken = create_app(base_config("sqlite:////nonexistent/dir/x.sqlite3"))
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == {"ok": False, "error": "OperationalError"}
    assert body["scorer"]["name"] == "fake"


def test_anonymous_callers_get_no_hostnames_paths_or_errors_signed_in_staff_do(
        app, client, moderator):
    from tests.conftest import login
    from tests.factories import PASSWORD

    Worker(app).run(threading.Event(), max_batches=1)
    anonymous = client.get("/healthz").get_json()
    assert "reason" not in anonymous["scorer"]
    assert set(anonymous["workers"][0]) == {"scorer", "scorer_version", "scorer_loaded",
                                            "seen_at", "scored_total"}
    login(client, "maria", PASSWORD)
    staff = client.get("/healthz").get_json()
    assert staff["scorer"]["reason"] == "scorer given in the app's config"
    assert ":" in staff["workers"][0]["id"] and "last_error" in staff["workers"][0]


def test_a_busy_worker_writes_its_heartbeat_when_something_changes_not_every_batch(app):
    """Under a steady stream every batch used to write the heartbeat: now a write happens on
    the first beat, when the error or the model changes, when the worker falls idle with a
    new total, and otherwise at most every HEARTBEAT_EVERY_SECONDS."""
    from moderation.models import WorkerHeartbeat
    from tests.querycount import counting

    worker = Worker(app)

    def beat(**kwargs) -> bool:
        with counting() as statements:
            worker.heartbeat(**kwargs)
        return any("WORKER_HEARTBEATS" in text and not text.startswith("SELECT")
                   for text in statements)

    def shown():
        with app.app_context():
            row = db.session.execute(db.select(WorkerHeartbeat)).scalar_one()
            return row.scored_total, row.last_error

    assert beat() is True  # the first
    worker.scored_total = 5
    assert beat() is False  # busy: the total waits
    assert shown() == (0, None)
    assert beat(idle=True) is True  # idle: the total is written
    assert shown() == (5, None)
    assert beat(idle=True) is False  # nothing new
    worker.last_error = "the scorer failed"
    assert beat() is True  # an error is shown at once
    assert shown() == (5, "the scorer failed")
    worker._next_beat = 0.0  # as if HEARTBEAT_EVERY_SECONDS had passed
    worker.scored_total = 9
    assert beat() is True
    assert shown() == (9, "the scorer failed")


def test_a_part_batch_makes_the_worker_gather_before_claiming_again(app):
    """After a batch smaller than a full one the worker waits MODERATION_WORKER_GATHER_SECONDS
    (so a stream is scored in batches); after a full one it claims again at once."""
    class Stop(threading.Event):
        def __init__(self):
            super().__init__()
            self.waits = []

        def wait(self, timeout=None):
            self.waits.append(timeout)
            return False

    with app.app_context():
        article = make_article()
        for n in range(3):
            make_comment(article, f"comment {n} [toxicity=0.1]")
        db.session.commit()
    app.config.update(MODERATION_WORKER_BATCH=2, MODERATION_WORKER_GATHER_SECONDS=0.25)
    worker = Worker(app)
    stop = Stop()
    worker.run(stop, max_batches=3)
    # Batch 1: two (full): no wait. Batch 2: one (part): gather. Batch 3: none: the poll
    # (max_batches stops the loop before its wait).
    assert stop.waits == [0.25]
    assert worker.scored_total == 3
