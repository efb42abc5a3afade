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
