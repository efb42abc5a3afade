"""Scripts and the browser work the queue through the JSON API: the same queue, the same rules,
every refusal a JSON error that says why and never shows a comment's text."""

import base64
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event

from moderation.extensions import db
from moderation.models import (
    ApiToken,
    AuthorHold,
    Comment,
    CommentState,
    Decision,
    Policy,
    Role,
    Score,
    User,
    utcnow,
)
from moderation.services import queue as queues
from moderation.services import tokens
from moderation.services.authors import author_key
from moderation.services.decide import decide
from moderation.services.queue import QueueFilter
from tests.conftest import login
from tests.factories import PASSWORD, make_article, make_comment, make_user
from tests.races import both_read_before_either_writes

SECRET_TEXT = "Threatening words"


def scored(article, body, risk, state=CommentState.QUEUED, labels=None, **fields):
    comment = make_comment(article, body, state=state, risk=risk, scored_at=utcnow(),
                           scorer_name=fields.pop("scorer_name", "fake"), scorer_version="1",
                           **fields)
    score = Score(comment_id=comment.id, scorer_name=comment.scorer_name, scorer_version="1",
                  windows=2, top_window_start=0, top_window_end=len(body))
    score.set_labels(labels or {"toxicity": risk, "insult": risk / 2})
    db.session.add(score)
    return comment


@pytest.fixture
def queue(app):
    """The same queue as the HTML tests, plus a second article and another model."""
    with app.app_context():
        story = make_article(slug="story", headline="The story")
        other = make_article(slug="other", headline="Another story")
        policy = Policy(version=99, thresholds={}, active=False)
        db.session.add(policy)
        db.session.flush()
        now = utcnow()
        ids = {
            "mild": scored(story, "Mildly rude", 0.4, author_name="Mo",
                           author_email="mo@example.org", policy_id=policy.id).id,
            "worse": scored(other, "Quite nasty", 0.8, author_name="Vi",
                            created_at=now - timedelta(days=3)).id,
            "held": scored(story, SECRET_TEXT, 0.95, state=CommentState.HELD,
                           author_name="Kim", author_email="kim@example.org").id,
            "insult": scored(story, "You absolute clown", 0.6,
                             labels={"toxicity": 0.3, "insult": 0.9},
                             scorer_name="detoxify-original").id,
            "unscored": make_comment(story, "Scorer failed on me", state=CommentState.QUEUED,
                                     score_error="ScorerError: boom").id,
            "published": scored(story, "Already fine", 0.01, state=CommentState.APPROVED,
                                author_name="Kim", author_email="kim@example.org").id,
        }
        db.session.commit()
    return ids


@pytest.fixture
def token(app, moderator) -> str:
    with app.app_context():
        _, raw = tokens.create(db.session.get(User, moderator), "nightly script")
        db.session.commit()
    return raw


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def state_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).state


def decisions_for(app, comment_id):
    with app.app_context():
        return [(d.actor.username if d.actor else None, d.from_state, d.to_state, d.reason,
                 d.reverts_id)
                for d in db.session.execute(db.select(Decision).where(
                    Decision.comment_id == comment_id).order_by(Decision.id)).scalars()]


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def assert_error(response, status, message=None, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) >= {"error", "message"}, body
    if message is not None:
        assert message in body["message"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


# Who may call


ENDPOINTS = [
    ("get", "/api/v1/queue", None),
    ("get", "/api/v1/comments/{held}", None),
    ("post", "/api/v1/comments/{held}/decision", {"action": "approve"}),
    ("post", "/api/v1/decisions/bulk", {"ids": ["{held}"], "action": "approve"}),
    ("post", "/api/v1/authors/{key}/hold", {}),
    ("post", "/api/v1/authors/{key}/lift", {}),
]


def _fill(queue, path, body):
    key = author_key("Kim", "kim@example.org", None)
    path = path.format(held=queue["held"], key=key)
    if body and "ids" in body:
        body = {**body, "ids": [queue["held"]]}
    return path, body


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_anonymous_callers_get_a_401_that_shows_no_comment(app, client, queue, method, path,
                                                           body):
    path, body = _fill(queue, path, body)
    response = getattr(client, method)(path, json=body)
    assert_error(response, 401, "Sign in, or send an API token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert SECRET_TEXT not in response.get_data(as_text=True)
    assert state_of(app, queue["held"]) is CommentState.HELD


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_a_revoked_token_gets_a_401_saying_so(app, client, queue, token, method, path, body):
    with app.app_context():
        [record] = db.session.execute(db.select(ApiToken)).scalars().all()
        tokens.revoke(record.id, record.user)
        db.session.commit()
    path, body = _fill(queue, path, body)
    response = getattr(client, method)(path, json=body, headers=bearer(token))
    assert_error(response, 401, "not valid: it is unknown or revoked")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert SECRET_TEXT not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(AuthorHold)).first() is None
    assert state_of(app, queue["held"]) is CommentState.HELD


@pytest.mark.parametrize("header, message", [
    ("Bearer mod_not-a-real-token", "not valid"),
    ("Bearer ", "Authorization: Bearer <token>"),
    ("Basic bWFyaWE6cGFzcw==", "Authorization: Bearer <token>"),
    ("Bearer " + "x" * 500, "not valid"),
])
def test_a_bad_token_is_401(client, queue, token, header, message):
    response = client.get("/api/v1/queue", headers={"Authorization": header})
    assert_error(response, 401, message)
    assert SECRET_TEXT not in response.get_data(as_text=True)


def test_a_token_of_a_disabled_account_stops_working(app, client, queue, token, moderator):
    assert client.get("/api/v1/queue", headers=bearer(token)).status_code == 200
    with app.app_context():
        db.session.get(User, moderator).active = False
        db.session.commit()
    assert_error(client.get("/api/v1/queue", headers=bearer(token)), 401, "disabled")


def test_a_disabled_moderator_s_session_is_refused(app, moderator_client, queue, moderator):
    assert moderator_client.get("/api/v1/queue").status_code == 200
    with app.app_context():
        db.session.get(User, moderator).active = False
        db.session.commit()
    response = moderator_client.get("/api/v1/queue")
    assert_error(response, 401, "Sign in")
    assert SECRET_TEXT not in response.get_data(as_text=True)


def test_a_token_wins_over_a_session_cookie(client, queue, token, moderator_client):
    response = moderator_client.get("/api/v1/queue", headers=bearer("mod_wrong"))
    assert_error(response, 401, "not valid")


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True


def test_a_token_decides_without_a_csrf_token_and_is_marked_used(app, csrf_on, queue, token):
    client = app.test_client()
    response = client.post(f"/api/v1/comments/{queue['held']}/decision",
                           json={"action": "approve"}, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    assert state_of(app, queue["held"]) is CommentState.APPROVED
    with app.app_context():
        [record] = db.session.execute(db.select(ApiToken)).scalars().all()
        assert record.last_used_at is not None
    assert decisions_for(app, queue["held"])[0][0] == "maria"


def test_a_browser_session_needs_the_csrf_header_to_change_anything(app, csrf_on, queue,
                                                                    moderator):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": "maria", "password": PASSWORD, "csrf_token": csrf})
    # Signing in starts a new session, CSRF token included (nothing from before carries over).
    fresh = client.get("/account/tokens").get_data(as_text=True)
    assert csrf not in fresh
    csrf = fresh.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]

    assert client.get("/api/v1/queue").status_code == 200  # reading needs no token
    refused = client.post(f"/api/v1/comments/{queue['held']}/decision",
                          json={"action": "approve"})
    assert_error(refused, 400, "X-CSRFToken")
    forged = client.post(f"/api/v1/comments/{queue['held']}/decision",
                         json={"action": "approve"}, headers={"X-CSRFToken": "forged"})
    assert_error(forged, 400, "CSRF token is missing or invalid")
    assert state_of(app, queue["held"]) is CommentState.HELD

    allowed = client.post(f"/api/v1/comments/{queue['held']}/decision",
                          json={"action": "approve"}, headers={"X-CSRFToken": csrf})
    assert allowed.status_code == 200
    assert state_of(app, queue["held"]) is CommentState.APPROVED


# The queue


def test_the_queue_is_riskiest_first_with_everything_a_card_shows(moderator_client, queue):
    response = moderator_client.get("/api/v1/queue")
    assert ids_of(response) == [queue["held"], queue["worse"], queue["insult"], queue["mild"],
                                queue["unscored"]]
    body = response.get_json()
    assert body["next_cursor"] is None
    assert body["counts"] == {"pending": 0, "queued": 3, "held": 1, "unscored": 1, "reported": 0}
    held, _, _, mild, unscored = body["items"]
    assert held["state"] == "held" and held["band"] == "held" and held["risk"] == 0.95
    assert held["labels"] == {"toxicity": 0.95, "insult": 0.475}
    assert held["scorer"] == {"name": "fake", "version": "1", "site_model": None}
    assert held["close_to"] == {}  # the fake compares nothing with example sentences
    assert held["body"] == SECRET_TEXT and held["created_at"].endswith("Z")
    assert held["windows"] == 2 and held["top_window"] == [0, len(SECRET_TEXT)]
    assert held["article"] == {"slug": "story", "headline": "The story",
                               "url": "http://localhost/articles/story"}
    assert held["author"] == {
        "name": "Kim", "key": author_key("Kim", "kim@example.org", None),
        "email": "kim@example.org", "held": False,
        "history": {"approved": 1, "rejected": 0, "pending": 1}}
    assert mild["policy_version"] == 99 and held["policy_version"] is None
    assert mild["band"] == "queued"
    assert unscored["band"] == "unscored" and unscored["risk"] is None
    assert unscored["labels"] == {} and unscored["scorer"] is None
    assert unscored["score_error"] == "ScorerError: boom" and unscored["top_window"] is None


FILTERS = [
    ("band=held", QueueFilter(band="held"), ["held"]),
    ("band=queued", QueueFilter(band="queued"), ["worse", "insult", "mild"]),
    ("band=unscored", QueueFilter(band="unscored"), ["unscored"]),
    ("article=other", QueueFilter(article="other"), ["worse"]),
    ("label=insult&label_min=0.5", QueueFilter(label="insult", label_min=0.5),
     ["insult"]),
    ("scorer=detoxify-original", QueueFilter(scorer="detoxify-original"), ["insult"]),
    ("q=CLOWN", QueueFilter(text="CLOWN"), ["insult"]),
    ("q=kim", QueueFilter(text="kim"), ["held"]),  # the author's name too
    ("order=oldest", QueueFilter(order="oldest"),
     ["mild", "worse", "held", "insult", "unscored"]),
    ("order=newest&band=queued", QueueFilter(order="newest", band="queued"),
     ["insult", "worse", "mild"]),
    ("until=2-days-ago", None, ["worse"]),
    ("since=2-days-ago&band=queued", None, ["insult", "mild"]),
]


@pytest.mark.parametrize("query, queue_filter, expected", FILTERS)
def test_filters_match_the_html_queue(app, moderator_client, queue, query, queue_filter,
                                      expected):
    moment = (utcnow() - timedelta(days=2)).isoformat() + "Z"
    query = query.replace("2-days-ago", moment)
    got = ids_of(moderator_client.get(f"/api/v1/queue?{query}"))
    assert got == [queue[name] for name in expected]
    if queue_filter is not None:
        with app.app_context():
            assert got == [comment.id for comment in queues.page(queue_filter).comments]


def test_a_date_with_an_offset_is_read_as_the_same_moment_in_utc(moderator_client, queue):
    just_after_worse = utcnow() - timedelta(days=3) + timedelta(hours=1)
    local = (just_after_worse + timedelta(hours=2)).isoformat() + "+02:00"
    got = ids_of(moderator_client.get("/api/v1/queue", query_string={"until": local}))
    assert got == [queue["worse"]]


def test_a_bare_day_covers_the_whole_day_as_in_the_html_queue(moderator_client, queue):
    day = (utcnow() - timedelta(days=3)).date().isoformat()
    assert ids_of(moderator_client.get(f"/api/v1/queue?until={day}")) == [queue["worse"]]
    assert ids_of(moderator_client.get(f"/api/v1/queue?since={day}&until={day}")) == [
        queue["worse"]]
    today = utcnow().date().isoformat()
    assert queue["worse"] not in ids_of(moderator_client.get(f"/api/v1/queue?since={today}"))


@pytest.mark.parametrize("order", ["risk", "oldest", "newest"])
def test_walking_the_pages_with_the_cursor_sees_each_comment_once(moderator_client, queue,
                                                                  order):
    whole = ids_of(moderator_client.get(f"/api/v1/queue?order={order}&limit=200"))
    walked, cursor, pages = [], None, 0
    while True:
        query = {"order": order, "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = moderator_client.get("/api/v1/queue", query_string=query).get_json()
        walked += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert walked == whole and len(set(walked)) == 5 and pages == 3


def test_a_cursor_survives_a_decision_on_the_page_before(moderator_client, queue):
    first = moderator_client.get("/api/v1/queue?limit=2").get_json()
    moderator_client.post(f"/api/v1/comments/{queue['held']}/decision",
                          json={"action": "approve"})
    rest = ids_of(moderator_client.get(f"/api/v1/queue?limit=10&cursor={first['next_cursor']}"))
    assert rest == [queue["insult"], queue["mild"], queue["unscored"]]


@pytest.mark.parametrize("query, message, field", [
    ("order=random", "Unknown order", "order"),
    ("band=spam", "Unknown band", "band"),
    ("label=insult", "needs both", "label_min"),
    ("label=rudeness&label_min=0.5", "Unknown label", "label"),
    ("label_min=0.5", "needs both", "label_min"),
    ("label=insult&label_min=lots", "must be a number", "label_min"),
    ("label=insult&label_min=1.5", "between 0 and 1", "label_min"),
    ("label=insult&label_min=nan", "must be a number", "label_min"),
    ("since=yesterday", "not a date and time", "since"),
    ("until=2024-13-01", "not a date and time", "until"),
    ("since=2024-05-02&until=2024-05-01", "after its end", "until"),
    ("limit=0", "from 1 to 200", "limit"),
    ("limit=201", "from 1 to 200", "limit"),
    ("limit=ten", "from 1 to 200", "limit"),
    ("limit=-5", "from 1 to 200", "limit"),
    ("cursor=garbage!", "page link is broken", "cursor"),
    ("cursor=e30", "page link is broken", "cursor"),
    ("band=held&band=queued", "Give 'band' once", "band"),
    ("lable=insult", "Unknown field 'lable'", "lable"),
    ("q=" + "x" * 201, "at most 200 characters", "q"),
])
def test_bad_queue_parameters_are_400_naming_the_field(moderator_client, queue, query, message,
                                                       field):
    assert_error(moderator_client.get(f"/api/v1/queue?{query}"), 400, message, field)


def test_a_cursor_from_another_order_is_400_not_500(moderator_client, queue):
    oldest = moderator_client.get("/api/v1/queue?order=oldest&limit=1").get_json()
    response = moderator_client.get(
        f"/api/v1/queue?order=risk&cursor={oldest['next_cursor']}")
    assert_error(response, 400, "page link is broken", "cursor")


@pytest.mark.parametrize("order, position", [
    ("risk", {"order": "risk", "id": 3, "phase": 0, "risk": "high"}),
    ("risk", {"order": "risk", "id": "3", "phase": 0}),
    ("risk", {"order": "risk", "id": 2**70, "phase": 2, "risk": 0.5}),
    ("newest", {"order": "newest", "id": "3"}),
])
def test_a_hand_edited_cursor_is_400_not_500(moderator_client, queue, order, position):
    cursor = base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")
    response = moderator_client.get("/api/v1/queue",
                                    query_string={"order": order, "cursor": cursor})
    assert_error(response, 400, "page link is broken", "cursor")


def test_a_nul_in_a_search_is_400(moderator_client, queue):
    assert_error(moderator_client.get("/api/v1/queue?q=a%00b"), 400, "not text")


@pytest.fixture
def many_authors(app):
    """60 waiting comments by 60 authors, each with some history, and a held one."""
    with app.app_context():
        article = make_article(slug="busy")
        for n in range(60):
            scored(article, f"comment {n}", 0.3 + n / 200, author_name=f"Reader {n}",
                   author_email=f"reader{n}@example.org")
            make_comment(article, "earlier", author_name=f"Reader {n}",
                         author_email=f"reader{n}@example.org", state=CommentState.APPROVED)
        scored(article, "held one", 0.99, state=CommentState.HELD)
        db.session.commit()


def count_queries(app, client, path) -> tuple[int, int]:
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements), len(ids_of(response))


@pytest.mark.parametrize("order", ["risk", "newest"])
def test_the_queue_costs_the_same_queries_for_5_or_50_comments(app, moderator_client,
                                                               many_authors, order):
    moderator_client.get("/api/v1/queue?limit=1")  # warm up the login and connection
    small, small_items = count_queries(app, moderator_client,
                                       f"/api/v1/queue?order={order}&limit=5")
    large, large_items = count_queries(app, moderator_client,
                                       f"/api/v1/queue?order={order}&limit=50")
    assert (small_items, large_items) == (5, 50)
    assert small == large, (small, large)
    assert large <= 20


# One comment


def test_a_comment_shows_its_decisions_the_author_s_recent_comments_and_undo(
        app, moderator_client, queue):
    with app.app_context():
        story = db.session.get(Comment, queue["held"]).article
        for n in range(6):
            make_comment(story, f"Kim again {n}", author_name="Kim",
                         author_email="kim@example.org", state=CommentState.APPROVED)
        db.session.commit()
    moderator_client.post(f"/api/v1/comments/{queue['held']}/decision",
                          json={"action": "reject", "reason": "threat", "note": "  named  "})
    response = moderator_client.get(f"/api/v1/comments/{queue['held']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == queue["held"] and body["state"] == "rejected" and body["band"] is None
    [decision] = body["decisions"]
    assert decision | {"id": None, "at": None} == {
        "id": None, "by": "maria", "from_state": "held", "to_state": "rejected",
        "reason": "threat", "note": "named", "at": None, "reverts_id": None}
    assert decision["at"].endswith("Z")
    recent = body["author"]["recent"]
    assert [entry["body"] for entry in recent] == [f"Kim again {n}" for n in (5, 4, 3, 2, 1)]
    assert queue["held"] not in [entry["id"] for entry in recent]
    assert body["author"]["history"] == {"approved": 7, "rejected": 1, "pending": 0}
    assert body["undoable"] is True


def test_another_moderator_sees_the_comment_as_not_undoable_for_them(app, moderator_client,
                                                                     queue):
    moderator_client.post(f"/api/v1/comments/{queue['mild']}/decision",
                          json={"action": "approve"})
    with app.app_context():
        make_user("omar")
        make_user("ada", Role.ADMIN)
        db.session.commit()
    for name, undoable in (("omar", False), ("ada", True)):
        other = app.test_client()
        login(other, name, PASSWORD)
        assert other.get(f"/api/v1/comments/{queue['mild']}").get_json()["undoable"] is undoable


@pytest.mark.parametrize("path", ["/api/v1/comments/999999",
                                  "/api/v1/comments/99999999999999999999"])
def test_an_unknown_comment_is_a_json_404(moderator_client, queue, path):
    assert_error(moderator_client.get(path), 404)
    assert_error(moderator_client.post(path + "/decision", json={"action": "approve"}), 404)


# Deciding


def test_approving_through_the_api_records_who_and_returns_the_comment(app, moderator_client,
                                                                       queue):
    response = moderator_client.post(f"/api/v1/comments/{queue['held']}/decision",
                                     json={"action": "approve"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["comment"]["state"] == "approved" and body["comment"]["id"] == queue["held"]
    assert body["decision"]["by"] == "maria" and body["decision"]["to_state"] == "approved"
    assert state_of(app, queue["held"]) is CommentState.APPROVED
    assert decisions_for(app, queue["held"]) == [
        ("maria", CommentState.HELD, CommentState.APPROVED, None, None)]
    assert queue["held"] not in ids_of(moderator_client.get("/api/v1/queue"))


def test_rejecting_for_other_with_a_note_records_both(app, moderator_client, queue):
    response = moderator_client.post(f"/api/v1/comments/{queue['worse']}/decision",
                                     json={"action": "reject", "reason": "other",
                                           "note": "Doxxing"})
    assert response.status_code == 200
    assert response.get_json()["decision"]["note"] == "Doxxing"
    assert state_of(app, queue["worse"]) is CommentState.REJECTED


@pytest.mark.parametrize("kwargs, status, message, field", [
    ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON", None),
    ({"data": "", "content_type": "application/json"}, 400, "not valid JSON", None),
    ({"json": ["approve"]}, 400, "must be a JSON object", None),
    ({"json": "approve"}, 400, "must be a JSON object", None),
    ({"json": {}}, 400, "action must be one of approve, reject, remove, undo", "action"),
    ({"json": {"action": "delete"}}, 400, "action must be one of", "action"),
    ({"json": {"action": 1}}, 400, "action must be one of", "action"),
    ({"json": {"action": "reject", "reason": "because"}}, 400, "Unknown reason", "reason"),
    ({"json": {"action": "reject", "reason": 3}}, 400, "must be a string", "reason"),
    ({"json": {"action": "reject", "reason": "spam", "note": ["x"]}}, 400,
     "must be a string", "note"),
    ({"json": {"action": "reject", "reason": "other", "note": "a\x00b"}}, 400, "not text",
     "note"),
    ({"json": {"action": "reject", "reason": "spam", "note": "x" * 1001}}, 400,
     "at most 1,000 characters", "note"),
    ({"json": {"action": "approve", "reasons": "spam"}}, 400, "Unknown field 'reasons'",
     "reasons"),
    ({"data": "action=approve", "content_type": "text/plain"}, 415, "application/json", None),
    ({"data": {"action": "approve"}}, 415, "application/json", None),  # a web form
    ({"json": {"action": "reject"}}, 422, "Choose a reason for rejecting", None),
    ({"json": {"action": "reject", "reason": "other"}}, 422, "needs a note", None),
    ({"json": {"action": "reject", "reason": "other", "note": "   "}}, 422, "needs a note",
     None),
    ({"json": {"action": "undo"}}, 422, "no recent moderator decision", None),
])
def test_decisions_that_cannot_be_read_or_make_no_sense_are_refused(
        app, moderator_client, queue, kwargs, status, message, field):
    response = moderator_client.post(f"/api/v1/comments/{queue['mild']}/decision", **kwargs)
    assert_error(response, status, message, field)
    assert state_of(app, queue["mild"]) is CommentState.QUEUED
    assert decisions_for(app, queue["mild"]) == []


def test_deciding_a_decided_comment_is_a_409_naming_who_and_the_state(app, moderator_client,
                                                                       queue):
    moderator_client.post(f"/api/v1/comments/{queue['mild']}/decision",
                          json={"action": "approve"})
    again = moderator_client.post(f"/api/v1/comments/{queue['mild']}/decision",
                                  json={"action": "reject", "reason": "spam"})
    body = assert_error(again, 409, "This comment was already approved by maria at")
    assert body["error"] == "Conflict" and body["state"] == "approved"
    assert "Mildly rude" not in again.get_data(as_text=True)
    assert len(decisions_for(app, queue["mild"])) == 1


def test_the_api_speaks_json_for_wrong_methods_unknown_paths_and_big_bodies(
        moderator_client, queue):
    assert_error(moderator_client.get(f"/api/v1/comments/{queue['mild']}/decision"), 405)
    assert_error(moderator_client.get("/api/v1/nothing-here"), 404)
    assert_error(moderator_client.delete("/api/v1/queue"), 405)
    big = {"action": "reject", "reason": "other", "note": "x" * 70_000}
    assert_error(moderator_client.post(f"/api/v1/comments/{queue['mild']}/decision",
                                       json=big), 413)


def test_undo_through_the_api_puts_the_comment_back_and_is_audited(app, moderator_client,
                                                                   queue):
    first = moderator_client.post(f"/api/v1/comments/{queue['held']}/decision",
                                  json={"action": "reject", "reason": "threat"}).get_json()
    response = moderator_client.post(f"/api/v1/comments/{queue['held']}/decision",
                                     json={"action": "undo"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["comment"]["state"] == "held" and body["comment"]["band"] == "held"
    assert body["decision"]["reverts_id"] == first["decision"]["id"]
    assert body["decision"]["reason"] == "undo"
    assert decisions_for(app, queue["held"]) == [
        ("maria", CommentState.HELD, CommentState.REJECTED, "threat", None),
        ("maria", CommentState.REJECTED, CommentState.HELD, "undo", first["decision"]["id"])]
    assert queue["held"] in ids_of(moderator_client.get("/api/v1/queue"))
    again = moderator_client.post(f"/api/v1/comments/{queue['held']}/decision",
                                  json={"action": "undo"})
    assert_error(again, 422, "no recent moderator decision")


def test_only_the_decider_may_undo_and_an_old_decision_cannot_be(app, moderator_client, queue):
    moderator_client.post(f"/api/v1/comments/{queue['mild']}/decision",
                          json={"action": "approve"})
    with app.app_context():
        make_user("omar")
        db.session.commit()
    omar = app.test_client()
    login(omar, "omar", PASSWORD)
    refused = omar.post(f"/api/v1/comments/{queue['mild']}/decision", json={"action": "undo"})
    assert_error(refused, 422, "Only the moderator who decided")
    with app.app_context():
        db.session.execute(db.update(Decision).values(
            created_at=utcnow() - timedelta(minutes=11)))
        db.session.commit()
    late = moderator_client.post(f"/api/v1/comments/{queue['mild']}/decision",
                                 json={"action": "undo"})
    assert_error(late, 422, "undo works for 10 minutes")
    assert state_of(app, queue["mild"]) is CommentState.APPROVED


def test_two_moderators_racing_through_the_api_only_one_wins(app, queue, monkeypatch):
    """Both read the comment as held before either writes: one 200, one 409 naming the
    winner, and one decision recorded."""
    with app.app_context():
        make_user("maria")
        make_user("omar")
        db.session.commit()
    clients = {"maria": app.test_client(), "omar": app.test_client()}
    for name, client in clients.items():
        assert login(client, name, PASSWORD).status_code == 302

    both_read_before_either_writes(monkeypatch)
    results = {}

    def post(name, body):
        response = clients[name].post(f"/api/v1/comments/{queue['held']}/decision", json=body)
        results[name] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=post, args=("maria", {"action": "approve"})),
               threading.Thread(target=post, args=("omar", {"action": "reject",
                                                            "reason": "threat"}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(code for code, _ in results.values()) == [200, 409], results
    winner = next(name for name, (code, _) in results.items() if code == 200)
    _, conflict = next(result for result in results.values() if result[0] == 409)
    final = state_of(app, queue["held"])
    assert final is (CommentState.APPROVED if winner == "maria" else CommentState.REJECTED)
    assert f"already {final.value} by {winner} at" in conflict["message"]
    assert conflict["state"] == final.value
    assert len(decisions_for(app, queue["held"])) == 1


# Bulk decisions


def test_bulk_by_ids_decides_each_once_and_reports_conflicts_and_missing(app, moderator_client,
                                                                         queue):
    moderator_client.post(f"/api/v1/comments/{queue['mild']}/decision",
                          json={"action": "approve"})
    ids = [queue["worse"], queue["insult"], queue["mild"], 999999, queue["worse"]]
    response = moderator_client.post("/api/v1/decisions/bulk", json={
        "ids": ids, "action": "reject", "reason": "spam"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["decided"] == [queue["worse"], queue["insult"]]
    assert body["missing"] == [999999]
    assert list(body["conflicts"]) == [str(queue["mild"])]
    assert "already approved by maria" in body["conflicts"][str(queue["mild"])]
    for name in ("worse", "insult"):
        assert decisions_for(app, queue[name]) == [
            ("maria", CommentState.QUEUED, CommentState.REJECTED, "spam", None)]
    assert state_of(app, queue["mild"]) is CommentState.APPROVED


def test_bulk_by_filter_takes_the_queue_order_up_to_the_limit(app, moderator_client, queue):
    response = moderator_client.post("/api/v1/decisions/bulk", json={
        "filter": {"band": "queued", "label": "toxicity", "label_min": "0.2"}, "limit": 2,
        "action": "approve"})
    assert response.status_code == 200
    assert response.get_json() == {"decided": [queue["worse"], queue["insult"]],
                                   "conflicts": {}, "missing": []}
    assert state_of(app, queue["mild"]) is CommentState.QUEUED
    assert ids_of(moderator_client.get("/api/v1/queue?band=queued")) == [queue["mild"]]


def test_bulk_by_filter_reports_a_comment_someone_decided_meanwhile(app, moderator_client,
                                                                    queue, monkeypatch):
    with app.app_context():
        make_user("omar")
        db.session.commit()
    real_matching_ids = queues.matching_ids

    def omar_gets_there_first(queue_filter, limit):
        ids = real_matching_ids(queue_filter, limit)
        omar = db.session.execute(db.select(User).where(User.username == "omar")).scalar_one()
        decide(db.session.get(Comment, ids[0]), omar, "approve")
        return ids

    monkeypatch.setattr(queues, "matching_ids", omar_gets_there_first)
    response = moderator_client.post("/api/v1/decisions/bulk", json={
        "filter": {"article": "story"}, "limit": 500, "action": "reject", "reason": "spam"})
    body = response.get_json()
    assert body["decided"] == [queue["insult"], queue["mild"], queue["unscored"]]
    assert "already approved by omar" in body["conflicts"][str(queue["held"])]
    assert body["missing"] == []
    assert decisions_for(app, queue["held"]) == [
        ("omar", CommentState.HELD, CommentState.APPROVED, None, None)]
    assert state_of(app, queue["worse"]) is CommentState.QUEUED  # another article


MILD = "<the mild comment's id>"


@pytest.mark.parametrize("body, status, message, field", [
    ({"action": "approve"}, 400, "either ids", "ids"),
    ({"action": "approve", "ids": [MILD], "filter": {}}, 400, "either ids", "ids"),
    ({"action": "approve", "ids": []}, 400, "1 to 500 comment ids", "ids"),
    ({"action": "approve", "ids": list(range(1, 502))}, 400, "1 to 500", "ids"),
    ({"action": "approve", "ids": ["1"]}, 400, "comment ids", "ids"),
    ({"action": "approve", "ids": [True]}, 400, "comment ids", "ids"),
    ({"action": "approve", "ids": [2**31]}, 400, "comment ids", "ids"),
    ({"action": "approve", "ids": 5}, 400, "comment ids", "ids"),
    ({"action": "approve", "ids": [MILD], "limit": 5}, 400, "limit goes with filter", "limit"),
    ({"action": "approve", "filter": {"band": "held"}}, 400, "limit is required", "limit"),
    ({"action": "approve", "filter": {}, "limit": 501}, 400, "from 1 to 500", "limit"),
    ({"action": "approve", "filter": {}, "limit": 2.5}, 400, "from 1 to 500", "limit"),
    ({"action": "approve", "filter": [], "limit": 5}, 400, "filter must be an object",
     "filter"),
    ({"action": "approve", "filter": {"band": "spam"}, "limit": 5}, 400, "Unknown band",
     "filter.band"),
    ({"action": "approve", "filter": {"since": "soon"}, "limit": 5}, 400, "not a date",
     "filter.since"),
    ({"action": "approve", "filter": {"label": "insult", "label_min": True}, "limit": 5}, 400,
     "must be a number", "filter.label_min"),
    ({"action": "approve", "filter": {"cursor": "x"}, "limit": 5}, 400,
     "Unknown field 'cursor'", "filter.cursor"),
    ({"action": "undo", "ids": [MILD]}, 400, "action must be one of approve, reject", "action"),
    ({"action": "reject", "ids": [MILD]}, 422, "Choose a reason", None),
    ({"action": "reject", "filter": {}, "limit": 5}, 422, "Choose a reason", None),
])
def test_malformed_bulk_decisions_change_nothing(app, moderator_client, queue, body, status,
                                                 message, field):
    if body.get("ids") == [MILD]:
        body = {**body, "ids": [queue["mild"]]}
    response = moderator_client.post("/api/v1/decisions/bulk", json=body)
    assert_error(response, status, message, field)
    with app.app_context():
        assert db.session.execute(db.select(Decision)).first() is None


# Author holds


def test_holding_and_lifting_an_author(app, moderator_client, queue):
    key = author_key("Kim", "kim@example.org", None)
    response = moderator_client.post(f"/api/v1/authors/{key}/hold",
                                     json={"reason": "brigading"})
    assert response.status_code == 200
    author = response.get_json()["author"]
    assert author["held"] is True and author["key"] == key and author["name"] == "Kim"
    assert author["history"] == {"approved": 1, "rejected": 0, "pending": 1}
    with app.app_context():
        [record] = db.session.execute(db.select(AuthorHold)).scalars().all()
        assert (record.reason, record.created_by.username) == ("brigading", "maria")
    item = next(item for item in moderator_client.get("/api/v1/queue").get_json()["items"]
                if item["id"] == queue["held"])
    assert item["author"]["held"] is True

    again = moderator_client.post(f"/api/v1/authors/{key}/hold")
    assert_error(again, 409, "Kim is already held")

    lifted = moderator_client.post(f"/api/v1/authors/{key}/lift")
    assert lifted.status_code == 200 and lifted.get_json()["author"]["held"] is False
    assert_error(moderator_client.post(f"/api/v1/authors/{key}/lift"), 409, "not held")
    with app.app_context():
        [record] = db.session.execute(db.select(AuthorHold)).scalars().all()
        assert record.lifted_by.username == "maria"


def test_holding_needs_no_body_but_a_body_must_be_json(app, moderator_client, queue):
    key = author_key("Mo", "mo@example.org", None)
    assert_error(moderator_client.post(f"/api/v1/authors/{key}/hold", data="reason",
                                       content_type="application/json"), 400, "not valid JSON")
    assert_error(moderator_client.post(f"/api/v1/authors/{key}/hold", json={"why": "x"}),
                 400, "Unknown field 'why'", "why")
    assert_error(moderator_client.post(f"/api/v1/authors/{key}/hold", json={"reason": 5}),
                 400, "must be a string", "reason")
    response = moderator_client.post(f"/api/v1/authors/{key}/hold")
    assert response.status_code == 200 and response.get_json()["author"]["held"] is True


@pytest.mark.parametrize("action", ["hold", "lift"])
def test_an_author_nobody_knows_is_404(moderator_client, queue, action):
    unknown = author_key("Nobody", "nobody@example.org", None)
    assert_error(moderator_client.post(f"/api/v1/authors/{unknown}/{action}"), 404,
                 "No comment has this author key")
