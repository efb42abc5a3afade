"""Floods get a 429 with a message; forms without a valid CSRF token get a friendly 400."""

import pytest

from moderation.extensions import db
from moderation.models import Comment
from tests.factories import make_article


@pytest.fixture
def app_config():
    return {"MODERATION_POST_LIMIT": "3 per minute", "WTF_CSRF_ENABLED": True}


@pytest.fixture
def article(app):
    with app.app_context():
        make_article(slug="story")
        db.session.commit()
    return "story"


def csrf_token(client, path="/articles/story"):
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def count(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(Comment)).scalar_one()


def test_a_flood_from_one_address_is_slowed_down(app, client, article):
    token = csrf_token(client)
    def data(n):
        return {"author_name": "Flo", "body": f"flood number {n}", "csrf_token": token}

    statuses = [client.post("/articles/story/comments", data=data(n)).status_code
                for n in range(5)]
    assert statuses == [303, 303, 303, 429, 429]
    response = client.post("/articles/story/comments", data=data(6))
    assert "posted too often" in response.get_data(as_text=True)
    assert count(app) == 3
    # Another address is not punished for it.
    other = client.post("/articles/story/comments", data=data(7),
                        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 303


def test_a_missing_csrf_token_gets_a_friendly_400(app, client, article):
    response = client.post("/articles/story/comments", data={"author_name": "A", "body": "b"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert count(app) == 0


def test_a_forged_csrf_token_gets_a_friendly_400(app, client, article):
    csrf_token(client)
    response = client.post("/articles/story/comments",
                           data={"author_name": "A", "body": "b", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert count(app) == 0


def test_behind_a_trusted_proxy_the_limit_counts_the_real_client(database_url):
    from moderation import create_app
    from tests.conftest import base_config

    app = create_app(base_config(database_url, MODERATION_POST_LIMIT="2 per minute",
                                 MODERATION_TRUSTED_PROXIES=1))
    with app.app_context():
        make_article(slug="story")
        db.session.commit()
    client = app.test_client()
    bodies = iter(range(100))

    def post(forwarded_for):
        data = {"author_name": "Flo", "body": f"post {next(bodies)}"}
        return client.post("/articles/story/comments", data=data,
                           headers={"X-Forwarded-For": forwarded_for}).status_code

    assert [post("192.0.2.1") for _ in range(3)] == [303, 303, 429]
    assert post("192.0.2.2") == 303  # same proxy, different reader


def test_an_expired_csrf_token_gets_a_friendly_400(database_url):
    import time

    from moderation import create_app
    from tests.conftest import base_config

    app = create_app(base_config(database_url, WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=1))
    with app.app_context():
        make_article(slug="story")
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client)
    time.sleep(2.1)
    response = client.post("/articles/story/comments",
                           data={"author_name": "A", "body": "late", "csrf_token": token})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert count(app) == 0


POSTER = """
import sys
from moderation import create_app
from tests.conftest import base_config
app = create_app(base_config(sys.argv[1], MODERATION_POST_LIMIT="3 per minute"))
client = app.test_client()
for n in range(2):
    response = client.post("/articles/story/comments",
                           data={"author_name": "Flo", "body": f"from the other process {n}"})
    print(response.status_code)
"""


def test_the_limit_holds_across_processes_through_the_database(app, client, article,
                                                               database_url):
    """`make run` serves from several processes: each must see the others' counts."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    assert app.config["RATELIMIT_STORAGE_URI"] == "database://"
    app.config["WTF_CSRF_ENABLED"] = False
    other = subprocess.run([sys.executable, "-c", POSTER, database_url], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert other.stdout.split() == ["303", "303"], other.stderr[-2000:]
    answers = [client.post("/articles/story/comments", data={
        "author_name": "Flo", "body": f"from this process {n}"}) for n in range(2)]
    assert [answer.status_code for answer in answers] == [303, 429]
    # The headers come from this request's own increment, which counted the other process's
    # posts too: 3 of 3 used.
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[0].headers["X-RateLimit-Remaining"] == "0"
    assert count(app) == 3


def test_the_database_store_counts_a_window_and_starts_a_new_one(app):
    import time

    from moderation.ratelimit_store import DatabaseStorage

    store = DatabaseStorage("database://", url=app.config["SQLALCHEMY_DATABASE_URI"])
    assert store.check()
    assert [store.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert store.get("k") == 3 and store.get("other") == 0
    assert time.time() < store.get_expiry("k") <= time.time() + 60
    assert store.incr("gone", 1) == 1
    deadline = time.time() + 30
    while store.get("gone") and time.time() < deadline:  # its one-second window ends
        time.sleep(0.05)
    assert store.get("gone") == 0
    assert store.get_expiry("gone") >= time.time() - 0.01  # never a time in the past
    assert store.incr("gone", 60) == 1  # a new window, counted from 1
    store.clear("k")
    assert store.get("k") == 0


def test_a_reader_slowed_down_keeps_their_text_on_the_article(app, client, article):
    token = csrf_token(client)
    for n in range(3):
        client.post("/articles/story/comments",
                    data={"author_name": "Flo", "body": f"flood {n}", "csrf_token": token})
    typed = "A long, careful reply <about> the barrier that took ten minutes to write."
    response = client.post("/articles/story/comments",
                           data={"author_name": "Flo", "body": typed, "csrf_token": token})
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "posted too often" in html
    # The article's own form, with what was typed, so waiting a minute and posting again works.
    assert 'action="/articles/story/comments#post-comment"' in html
    assert "A long, careful reply &lt;about&gt; the barrier" in html
    assert 'value="Flo"' in html
    assert count(app) == 3


def test_the_article_pages_script_gets_the_flood_and_csrf_refusals_as_json(app, client,
                                                                           article):
    token = csrf_token(client)
    json = {"Accept": "application/json"}
    forged = client.post("/articles/story/comments", headers=json,
                         data={"author_name": "A", "body": "b", "csrf_token": "forged"})
    assert forged.status_code == 400 and "This form has expired" in forged.get_json()["message"]
    statuses = [client.post("/articles/story/comments", headers=json,
                            data={"author_name": "Flo", "body": f"flood {n}",
                                  "csrf_token": token}).status_code for n in range(4)]
    assert statuses == [201, 201, 201, 429]
    refused = client.post("/articles/story/comments", headers=json,
                          data={"author_name": "Flo", "body": "one more", "csrf_token": token})
    assert refused.status_code == 429
    assert "posted too often" in refused.get_json()["message"]
    assert count(app) == 3


def test_several_windows_are_counted_in_one_statement_and_an_ended_one_starts_again(
        app, monkeypatch):
    import time

    from moderation import ratelimit_store
    from moderation.models.limits import rate_limits
    from moderation.ratelimit_store import hit_many

    # Three counts in one open transaction, which no post makes: the 1% sweep on another
    # connection would wait on this transaction's SQLite write lock ("database is locked").
    monkeypatch.setattr(ratelimit_store, "SWEEP_CHANCE", 0.0)

    with app.app_context():
        connection = db.session.connection()
        assert hit_many(connection, {"minute": 60, "day": 86400}) == {
            "minute": (1, pytest.approx(time.time() + 60, abs=30)),
            "day": (1, pytest.approx(time.time() + 86400, abs=30))}
        assert {key: count for key, (count, _) in
                hit_many(connection, {"minute": 60, "day": 86400}).items()} == {"minute": 2,
                                                                                "day": 2}
        connection.execute(rate_limits.update().where(rate_limits.c.key == "minute")
                           .values(expires_at=time.time() - 1))
        counted = hit_many(connection, {"minute": 60, "day": 86400})
        assert (counted["minute"][0], counted["day"][0]) == (1, 3)  # a new minute; same day
        assert counted["minute"][1] > time.time() + 30
        db.session.rollback()  # the caller's transaction: nothing kept without its commit
        assert db.session.execute(db.select(db.func.count()).select_from(rate_limits)
                                  ).scalar_one() == 0


def test_flask_limiters_per_request_pass_runs_only_for_limits_that_need_it(database_url):
    """Each limited route checks its own decorator; the pass before every view is kept only
    when an instance sets a default limit, which must then still hold."""
    from flask_limiter import Limiter

    from moderation import create_app
    from tests.conftest import base_config

    def middleware(app) -> bool:
        return any(getattr(hook, "__func__", None) is Limiter._check_request_limit
                   for hook in app.before_request_funcs[None])

    plain = create_app(base_config(database_url))
    assert not middleware(plain)
    limited = create_app(base_config(database_url, RATELIMIT_DEFAULT="2 per minute"))
    assert middleware(limited)
    client = limited.test_client()
    assert [client.get("/healthz").status_code for _ in range(3)][-1] == 429
