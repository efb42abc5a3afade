"""Each class of junk that once reached a 500 (or slipped through) is refused at its root:
deep JSON, dates at the ends of the calendar, cursors past what SQL holds, undecodable form
bytes, digits from other scripts, a policy save that does not say what it was based on."""

import base64
import json

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState, Policy
from tests.factories import make_article, make_comment


@pytest.fixture
def story(app):
    with app.app_context():
        article = make_article(slug="story")
        ids = [make_comment(article, f"waiting {n}", state=CommentState.QUEUED, risk=0.5).id
               for n in range(3)]
        db.session.commit()
    return ids


def snapshot(app):
    with app.app_context():
        return sorted(db.session.execute(
            db.select(Comment.id, Comment.state, Comment.body)).all())


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body and body["message"], body
    return body["message"]


@pytest.mark.parametrize("depth", [40, 1000, 5000])
def test_deeply_nested_json_is_a_400_not_a_500(app, moderator_client, story, depth):
    before = snapshot(app)
    body = '{"action": "approve", "note": ' + "[" * depth + "]" * depth + "}"
    for url in (f"/api/v1/comments/{story[0]}/decision", "/api/v1/decisions/bulk"):
        response = moderator_client.post(url, data=body, content_type="application/json")
        assert "not valid JSON" in error_of(response, 400)
    public = app.test_client().post(f"/api/v1/public/comments/{story[0]}/reports", data=body,
                                    content_type="application/json")
    assert public.status_code == 400
    assert snapshot(app) == before


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                                    "２０２４-01-01", "2024-13-01"])
def test_moments_that_leave_the_calendar_in_utc_are_a_400(app, moderator_client, story,
                                                          moment):
    before = snapshot(app)
    for key in ("since", "until"):
        response = moderator_client.get("/api/v1/queue", query_string={key: moment})
        assert "not a date and time we can use" in error_of(response, 400)
        bulk = moderator_client.post("/api/v1/decisions/bulk", json={
            "action": "approve", "filter": {key: moment}, "limit": 10})
        assert key in error_of(bulk, 400)
    assert snapshot(app) == before


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_whole_days_at_the_ends_of_the_calendar_mean_from_the_start_and_to_the_end(
        moderator_client, story, day):
    for key in ("since", "until"):
        response = moderator_client.get("/api/v1/queue", query_string={key: day})
        expected = 3 if (key, day) in (("since", "0001-01-01"), ("until", "9999-12-31")) else 0
        assert len(response.get_json()["items"]) == expected, (key, day)
        for url in ("/queue/", "/decisions/", "/decisions/export.csv"):
            page = moderator_client.get(url, query_string={key: day})
            assert page.status_code == 200, (url, key, day)
            page.close()


@pytest.mark.parametrize("day", ["２０２４-01-01", "2024-1-1", "20240101", "2024-02-30"])
def test_days_written_any_other_way_are_refused_with_the_format(moderator_client, story, day):
    for url in ("/queue/", "/decisions/"):
        page = moderator_client.get(url, query_string={"since": day})
        assert page.status_code == 400, (url, day)
        assert "2024-05-31" in page.get_data(as_text=True) or \
            "2025-03-31" in page.get_data(as_text=True) or "YYYY-MM-DD" in \
            page.get_data(as_text=True), (url, day)


@pytest.mark.parametrize("position", [{"risk": 10**30}, {"risk": float("nan")},
                                      {"risk": True}, {"risk": -1}])
def test_a_forged_cursor_is_a_400(app, moderator_client, story, position):
    first = moderator_client.get("/api/v1/queue", query_string={"limit": 1}).get_json()
    cursor = json.loads(base64.urlsafe_b64decode(first["next_cursor"] + "=="))
    cursor.update(position)
    raw = json.dumps(cursor).encode()
    forged = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = moderator_client.get("/api/v1/queue", query_string={"cursor": forged})
    assert "page link is broken" in error_of(response, 400)
    html = moderator_client.get("/queue/", query_string={"cursor": forged})
    assert html.status_code == 400


def test_a_cursor_nested_deep_is_a_400(moderator_client, story):
    raw = ("[" * 3000 + "]" * 3000).encode()
    forged = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = moderator_client.get("/api/v1/queue", query_string={"cursor": forged})
    assert response.status_code == 400


def test_undecodable_bytes_in_a_form_are_a_400_and_nothing_is_stored(app, client, story):
    before = snapshot(app)
    response = client.post("/articles/story/comments", data=b"author_name=Jo&body=%FF%FEabc",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not UTF-8" in response.get_data(as_text=True)
    assert snapshot(app) == before
    ok = client.post("/articles/story/comments",
                     data=b"author_name=J%C3%B6&body=Gr%C3%BC%C3%9Fe+from+the+valley",
                     content_type="application/x-www-form-urlencoded")
    assert ok.status_code in (302, 303), ok.get_data(as_text=True)[:300]
    assert client.get("/?q=%FF").status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/comments/４", "/api/v1/comments/٣",
                                  "/comments/４"])
def test_digits_from_other_scripts_are_not_ids(moderator_client, story, path):
    # "４" and "٣" are the numbers 4 and 3 to Python's int(); the ASCII ids exist here.
    assert moderator_client.get(f"/api/v1/comments/{story[2]}").status_code == 200
    assert story[2] == 3
    refused = moderator_client.get(path)
    assert refused.status_code == 404
    assert b"waiting" not in refused.data  # no comment's text


@pytest.mark.parametrize("base", [None, "", "one", "１", "-1"])
def test_a_policy_save_that_does_not_say_its_base_version_is_a_409(app, admin_client, base):
    from tests.web.test_admin_policy import lowered_toxicity

    data = lowered_toxicity()
    if base is None:
        data.pop("base_version")
    else:
        data["base_version"] = base
    response = admin_client.post("/admin/policy", data=data)
    assert response.status_code == 409
    assert "does not say which policy version" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Policy)).scalar() == 1


@pytest.mark.parametrize("field,value", [("note", "\ud800"), ("reason", "other\udfff")])
def test_a_lone_surrogate_anywhere_in_json_is_a_400(app, moderator_client, story, field,
                                                    value):
    before = snapshot(app)
    body = {"action": "reject", "reason": "other", "note": "fine", field: value}
    response = moderator_client.post(f"/api/v1/comments/{story[0]}/decision",
                                     data=json.dumps(body), content_type="application/json")
    assert "not text" in error_of(response, 400)
    # The same code point as (invalid) UTF-8 bytes in an address.
    search = moderator_client.get("/api/v1/queue?q=%ED%A0%80")
    assert search.status_code == 400
    assert snapshot(app) == before
