"""The posting limit (MODERATION_POST_LIMIT): counted in the post's own transaction, one count
for the article form and the embed, every window in one statement, the headers clients know
from Flask-Limiter, and the other stores and the off switch still honoured."""

from __future__ import annotations

import pytest

from moderation.extensions import db
from moderation.models import Comment, User
from moderation.models.limits import rate_limits
from tests.factories import PASSWORD, make_article
from tests.querycount import counting
from tests.web.test_embed import bugle, loaded  # noqa: F401  (bugle is a fixture)
from tests.web.test_embed import post as embed_post


@pytest.fixture
def app_config():
    return {"MODERATION_POST_LIMIT": "3 per minute;100 per day"}


@pytest.fixture
def story(app):
    with app.app_context():
        make_article(slug="story")
        db.session.commit()
    return "story"


def post(client, n, **extra):
    return client.post("/articles/story/comments", headers=extra.pop("headers", {}),
                       data={"author_name": "Flo", "body": f"post number {n}", **extra})


def stored(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(Comment)).scalar_one()


def test_every_window_is_counted_and_the_closest_to_its_limit_is_reported(app, client, story):
    answers = [post(client, n) for n in range(4)]
    assert [answer.status_code for answer in answers] == [303, 303, 303, 429]
    assert [answer.headers["X-RateLimit-Limit"] for answer in answers[:3]] == ["3"] * 3
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60  # the minute, not the day
    assert "posted too often" in refused.get_data(as_text=True)
    assert stored(app) == 3
    with app.app_context():
        windows = dict(db.session.execute(db.select(rate_limits.c.key, rate_limits.c.count)).all())
    # Both windows counted the three stored posts; the refused one was not kept.
    assert sorted(windows.values()) == [3, 3] and all("comment-post" in key for key in windows)


def test_two_windows_cost_one_statement(app, client, story):
    assert post(client, 0).status_code == 303  # warm up the connections
    with counting() as statements:
        assert post(client, 1).status_code == 303
    limit_writes = [text for text in statements if "RATE_LIMITS" in text]
    assert len(limit_writes) == 1, statements


def test_the_article_form_and_the_embed_share_one_count(app, client, bugle):  # noqa: F811
    fields = loaded(client)
    with app.app_context():
        make_article(slug="story")
        db.session.commit()
    assert [post(client, n).status_code for n in range(2)] == [303, 303]
    assert embed_post(client, fields, author_name="Flo", body="from the embed").status_code == 303
    refused = embed_post(client, fields, author_name="Flo", body="one more from the embed")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "posted too often" in refused.get_data(as_text=True)
    assert post(client, 9).status_code == 429
    assert stored(app) == 1 + 3  # the fixture's published comment and the three posts


def test_a_flood_of_invalid_forms_is_still_a_flood(app, client, story):
    empty = [post(client, n, body="").status_code for n in range(3)]
    assert empty == [400, 400, 400]
    assert post(client, 4).status_code == 429
    assert stored(app) == 0


def test_the_json_refusal_carries_retry_after(app, client, story):
    json = {"Accept": "application/json"}
    answers = [post(client, n, headers=json) for n in range(4)]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert answers[3].get_json()["error"] == "Slow down"
    assert int(answers[3].headers["Retry-After"]) >= 1


@pytest.mark.parametrize("app_config", [{"MODERATION_POST_LIMIT": "1 per minute",
                                         "RATELIMIT_ENABLED": False}])
def test_limits_switched_off_count_nothing(app, client, story):
    answers = [post(client, n) for n in range(3)]
    assert [answer.status_code for answer in answers] == [303, 303, 303]
    assert "X-RateLimit-Limit" not in answers[0].headers
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(rate_limits)
                                  ).scalar_one() == 0


@pytest.mark.parametrize("app_config", [{"MODERATION_POST_LIMIT": "2 per minute",
                                         "RATELIMIT_STORAGE_URI": "memory://"}])
def test_another_store_still_limits(app, client, story):
    answers = [post(client, n) for n in range(3)]
    assert [answer.status_code for answer in answers] == [303, 303, 429]
    assert answers[1].headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
    with app.app_context():  # nothing counted in the database
        assert db.session.execute(db.select(db.func.count()).select_from(rate_limits)
                                  ).scalar_one() == 0
    assert stored(app) == 2


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_a_readers_post_leaves_their_session_cookie_alone(app, client, story):
    """No sign-in in the session: Flask-Login is not asked, so the session is not marked and
    re-signed on every post (the CSRF token in it still protects the form)."""
    page = client.get("/articles/story").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    answer = post(client, 1, csrf_token=token)
    assert answer.status_code == 303
    assert not any(value.startswith("session=") for value in answer.headers.getlist("Set-Cookie"))
    assert post(client, 2, csrf_token="forged").status_code == 400


def test_a_remembered_user_who_must_change_their_password_is_still_sent_to_do_it(app,
                                                                                 moderator):
    """The shortcut for readers looks for the remember cookie too: with it alone (the session
    gone), the password-change rule still applies on a reader's page."""
    browser = app.test_client()
    assert browser.post("/login", data={"username": "maria", "password": PASSWORD,
                                        "remember": "y"}).status_code == 302
    assert browser.get_cookie("remember_token") is not None
    with app.app_context():
        db.session.get(User, moderator).must_change_password = True
        db.session.commit()
    browser.delete_cookie("session")
    answer = browser.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/account/password")


@pytest.mark.parametrize("app_config", [{"MODERATION_POST_LIMIT": "2 per minute;100 per day",
                                         "RATELIMIT_STORAGE_URI": "memory://"}])
def test_another_store_stops_counting_at_the_first_window_that_refuses(app, client, story):
    """A reader retrying on 429 must not use up the day: as Flask-Limiter does, the minute
    refuses and the day is not counted for it."""
    from limits import parse

    from moderation.extensions import limiter
    from moderation.services import rate_limits

    assert [post(client, n).status_code for n in range(5)] == [303, 303, 429, 429, 429]
    _reset, remaining = limiter.limiter.get_window_stats(
        parse("100 per day"), "", rate_limits.SCOPE, "127.0.0.1")
    assert remaining == 98


@pytest.mark.parametrize("app_config", [{"MODERATION_POST_LIMIT": "2 per minute"}])
def test_a_banned_authors_refused_posts_still_use_up_the_limit(app, client, story, moderator):
    from moderation.models import Sanction, User
    from moderation.services import sanctions

    assert post(client, 0).status_code == 303
    with app.app_context():
        first = db.session.execute(db.select(Comment)).scalar_one()
        sanctions.create(first, db.session.get(User, moderator), "ban", ["address"])
        db.session.commit()
        assert db.session.execute(db.select(db.func.count()).select_from(Sanction)
                                  ).scalar_one() == 1
    refused = post(client, 1)
    assert refused.status_code == 403
    assert "no longer comment" in refused.get_data(as_text=True)
    assert post(client, 2).status_code == 429  # the refused attempt was counted
    assert stored(app) == 1


@pytest.mark.parametrize("app_config", [{"MODERATION_POST_LIMIT": "1 per minute",
                                         "RATELIMIT_HEADERS_ENABLED": False}])
def test_headers_switched_off_leave_only_retry_after(app, client, story):
    answers = [post(client, n) for n in range(2)]
    assert [answer.status_code for answer in answers] == [303, 429]
    assert not any(name.startswith("X-RateLimit") for answer in answers
                   for name in answer.headers.keys())
    assert int(answers[1].headers["Retry-After"]) >= 1


def test_rate_limits_can_be_switched_off_from_the_environment():
    from moderation.config import from_environment

    assert from_environment({"RATELIMIT_ENABLED": "false"})["RATELIMIT_ENABLED"] is False
    assert from_environment({"RATELIMIT_ENABLED": "true"})["RATELIMIT_ENABLED"] is True
