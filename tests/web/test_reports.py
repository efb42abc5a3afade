"""Readers report published comments; enough reports hide one; the Reported band puts the
heaviest first; moderators dismiss or take down, and either settles the reports."""

import threading

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState, Decision, Report, utcnow
from tests.factories import make_article, make_comment


def publish(app, body="a published comment", risk=0.1):
    with app.app_context():
        comment = make_comment(make_article(), body, state=CommentState.APPROVED, risk=risk,
                               scored_at=utcnow())
        db.session.commit()
        return comment.id


def report_from(app, comment_id, address, reason="threat", note=""):
    client = app.test_client()
    return client.post(f"/comments/{comment_id}/report", data={"reason": reason, "note": note},
                       environ_base={"REMOTE_ADDR": address})


def state_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).state


def test_a_reader_reports_from_the_article_page_without_javascript(app, client):
    comment_id = publish(app)
    with app.app_context():
        slug = db.session.get(Comment, comment_id).article.slug
    article = client.get(f"/articles/{slug}").get_data(as_text=True)
    assert f'href="/comments/{comment_id}/report"' in article
    form = client.get(f"/comments/{comment_id}/report").get_data(as_text=True)
    assert "A threat of violence" in form and "Misinformation" in form

    answer = client.post(f"/comments/{comment_id}/report", data={"reason": "threat"})
    assert answer.status_code == 200
    assert "Thank you. A moderator will look at it" in answer.get_data(as_text=True)
    again = client.post(f"/comments/{comment_id}/report", data={"reason": "spam"})
    assert again.status_code == 409
    assert "You have reported this comment already" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Report.id))).scalar_one() == 1
        assert db.session.get(Comment, comment_id).report_count == 1
    assert state_of(app, comment_id) is CommentState.APPROVED


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Choose why you are reporting this comment."),
    ({"reason": "boring"}, "Choose why you are reporting this comment."),
    ({"reason": "other"}, "Say in a few words what is wrong with it."),
    ({"reason": "spam", "note": "x" * 600}, "500"),
])
def test_unreadable_reports_get_a_400_and_store_nothing(app, client, data, message):
    comment_id = publish(app)
    response = client.post(f"/comments/{comment_id}/report", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Report.id))).scalar_one() == 0


def test_only_published_comments_can_be_reported(app, client):
    with app.app_context():
        waiting = make_comment(make_article(), "waiting", state=CommentState.QUEUED)
        db.session.commit()
        waiting_id = waiting.id
    assert client.get(f"/comments/{waiting_id}/report").status_code == 410
    assert client.post(f"/comments/{waiting_id}/report",
                       data={"reason": "spam"}).status_code == 410
    assert client.get("/comments/999999/report").status_code == 404


def test_three_readers_hide_a_comment_until_a_moderator_looks(app, moderator_client):
    comment_id = publish(app)
    for n in range(2):
        assert report_from(app, comment_id, f"10.0.0.{n}").status_code == 200
    assert state_of(app, comment_id) is CommentState.APPROVED
    report_from(app, comment_id, "10.0.0.9")
    assert state_of(app, comment_id) is CommentState.HELD

    band = moderator_client.get("/queue/?band=reported").get_data(as_text=True)
    assert "Reported 3×" in band and "A threat of violence ×3" in band
    moderator_client.post(f"/queue/{comment_id}/dismiss-reports", data={"next": "/queue/"})
    assert state_of(app, comment_id) is CommentState.APPROVED
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.report_count == 0 and comment.reports_cleared_at is not None
        assert {r.resolution for r in db.session.execute(db.select(Report)).scalars()} == {
            "dismissed"}

    # Kept up by a moderator: new reports put it in the Reported band without hiding it.
    for n in range(3):
        report_from(app, comment_id, f"10.0.1.{n}")
    assert state_of(app, comment_id) is CommentState.APPROVED
    assert "Reported 3×" in moderator_client.get("/queue/?band=reported").get_data(as_text=True)


def test_the_reported_band_puts_risky_and_trusted_reports_first(app, moderator_client):
    mild = publish(app, "mild words", risk=0.05)
    risky = publish(app, "risky words", risk=0.9)
    for comment_id in (mild, risky):
        report_from(app, comment_id, "10.0.2.1")
    page = moderator_client.get("/api/v1/queue?band=reported").get_json()
    assert [item["id"] for item in page["items"]] == [risky, mild]


def test_taking_a_reported_comment_down_upholds_the_reports_and_trust_follows(
        app, moderator_client):
    from moderation.services import reports

    first = publish(app, "first")
    report_from(app, first, "10.0.3.1")
    response = moderator_client.post(f"/api/v1/comments/{first}/decision",
                                     json={"action": "remove", "reason": "threat"})
    assert response.status_code == 200
    with app.app_context():
        [row] = db.session.execute(db.select(Report)).scalars().all()
        assert row.resolution == "upheld" and row.resolved_by.username == "maria"
        assert db.session.get(Comment, first).report_count == 0
        trusted = reports.trust([row.reporter_key])[row.reporter_key]
        assert trusted == pytest.approx(2 / 3)  # one upheld of one settled: (1+1)/(1+2)


def test_a_report_and_a_removal_arriving_together_leave_the_comment_down(
        app, moderator_client):
    comment_id = publish(app)
    barrier = threading.Barrier(2)
    results = {}

    def remove():
        barrier.wait()
        results["remove"] = moderator_client.post(
            f"/api/v1/comments/{comment_id}/decision",
            json={"action": "remove", "reason": "spam"}).status_code

    def report():
        barrier.wait()
        results["report"] = report_from(app, comment_id, "10.0.4.1").status_code

    threads = [threading.Thread(target=remove), threading.Thread(target=report)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results["remove"] == 200
    assert results["report"] in (200, 410)
    assert state_of(app, comment_id) is CommentState.REJECTED
    with app.app_context():
        takedowns = db.session.execute(db.select(db.func.count(Decision.id)).where(
            Decision.comment_id == comment_id, Decision.reason == "spam")).scalar_one()
        assert takedowns == 1


def test_moderators_read_and_dismiss_reports_through_the_api(app, moderator_client):
    comment_id = publish(app)
    report_from(app, comment_id, "10.0.5.1", reason="other", note="fake quote")

    listed = moderator_client.get(f"/api/v1/comments/{comment_id}/reports").get_json()
    assert listed["open"] == 1
    [row] = listed["reports"]
    assert (row["reason"], row["note"], row["resolution"]) == ("other", "fake quote", None)
    [item] = moderator_client.get("/api/v1/queue?band=reported").get_json()["items"]
    assert item["reports"]["open"] == 1 and item["reports"]["weight"] > 0

    dismissed = moderator_client.post(f"/api/v1/comments/{comment_id}/reports/dismiss")
    assert dismissed.status_code == 200
    assert dismissed.get_json()["decision"]["reason"] == "reports dismissed"
    again = moderator_client.post(f"/api/v1/comments/{comment_id}/reports/dismiss", json={})
    assert again.status_code == 422
    assert "no open reports" in again.get_json()["message"]


def test_readers_cannot_use_the_moderators_report_api(app, client):
    comment_id = publish(app)
    assert client.get(f"/api/v1/comments/{comment_id}/reports").status_code == 401
    assert client.post(f"/api/v1/comments/{comment_id}/reports/dismiss",
                       json={}).status_code == 401


def test_readers_report_through_the_public_json_api(app):
    comment_id = publish(app)
    reader = app.test_client()
    url = f"/api/v1/public/comments/{comment_id}/reports"
    taken = reader.post(url, json={"reason": "hate", "note": "slur in the second line"},
                        environ_base={"REMOTE_ADDR": "192.0.2.40"})
    assert taken.status_code == 201 and taken.get_json()["status"] == "received"
    # The same reader through the article page's form: one report per reader, whichever door.
    assert report_from(app, comment_id, "192.0.2.40").status_code == 409
    again = reader.post(url, json={"reason": "spam"}, environ_base={"REMOTE_ADDR": "192.0.2.40"})
    assert again.status_code == 409
    assert "already" in again.get_json()["message"]

    for body, status, field in [
        ({"reason": "boring"}, 400, "reason"),
        ({"reason": "other"}, 400, "note"),
        ({"reason": 3}, 400, "reason"),
        ({"reason": "spam", "who": "me"}, 400, None),
        ({"reason": "spam", "note": "\ud800"}, 400, "note"),
    ]:
        answer = reader.post(url, json=body, environ_base={"REMOTE_ADDR": "192.0.2.41"})
        assert answer.status_code == status, body
        assert field is None or answer.get_json().get("field") == field, body
    as_form = reader.post(url, data={"reason": "spam"}, environ_base={"REMOTE_ADDR": "192.0.2.42"})
    assert as_form.status_code == 415
    assert reader.post("/api/v1/public/comments/999999/reports", json={"reason": "spam"},
                       environ_base={"REMOTE_ADDR": "192.0.2.43"}).status_code == 404
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Report.id))).scalar_one() == 1


def test_a_comment_no_longer_published_cannot_be_reported_through_the_api(app):
    with app.app_context():
        comment = make_comment(make_article(), "gone", state=CommentState.REJECTED)
        db.session.commit()
        comment_id = comment.id
    answer = app.test_client().post(f"/api/v1/public/comments/{comment_id}/reports",
                                    json={"reason": "spam"})
    assert answer.status_code == 410 and "not published" in answer.get_json()["message"]
