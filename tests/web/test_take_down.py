"""Nothing published is beyond a moderator's reach: take-down from the API and the comment's
page, undo within the window, the reader told, every step in the decision log."""

import threading

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState, Decision
from tests.factories import make_article, make_comment


@pytest.fixture
def published(app):
    with app.app_context():
        comment = make_comment(make_article(), "I know where you live.",
                               state=CommentState.APPROVED)
        db.session.commit()
        return comment.id, comment.public_token


def state_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).state


def test_a_moderator_takes_a_published_comment_down_through_the_api(
        app, client, moderator_client, published):
    comment_id, token = published
    response = moderator_client.post(f"/api/v1/comments/{comment_id}/decision", json={
        "action": "remove", "reason": "threat", "note": "slipped past the model"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["decision"]["from_state"] == "approved"
    assert state_of(app, comment_id) is CommentState.REJECTED
    page = client.get(f"/comments/{token}").get_data(as_text=True)
    assert "Your comment was removed" in page
    log = moderator_client.get("/decisions/?action=removed").get_data(as_text=True)
    assert f"/decisions/comments/{comment_id}" in log


def test_removing_needs_a_reason_and_a_published_comment(app, moderator_client, published):
    comment_id, _ = published
    no_reason = moderator_client.post(f"/api/v1/comments/{comment_id}/decision",
                                      json={"action": "remove"})
    assert no_reason.status_code == 422
    assert "Choose a reason for removing." in no_reason.get_json()["message"]
    with app.app_context():
        waiting = make_comment(make_article(), "still waiting", state=CommentState.QUEUED)
        db.session.commit()
        waiting_id = waiting.id
    wrong = moderator_client.post(f"/api/v1/comments/{waiting_id}/decision",
                                  json={"action": "remove", "reason": "spam"})
    assert wrong.status_code == 409
    assert "not published: approve or reject it instead" in wrong.get_json()["message"]
    assert state_of(app, waiting_id) is CommentState.QUEUED


def test_take_down_and_undo_from_the_comment_page_without_javascript(
        app, moderator_client, published):
    comment_id, _ = published
    page = moderator_client.get(f"/decisions/comments/{comment_id}").get_data(as_text=True)
    assert "Take down" in page

    done = moderator_client.post(f"/decisions/comments/{comment_id}/decision",
                                 data={"action": "remove", "reason": "threat"},
                                 follow_redirects=True)
    assert "Removed from the article." in done.get_data(as_text=True)
    assert "Taken down" in done.get_data(as_text=True)
    assert state_of(app, comment_id) is CommentState.REJECTED

    undone = moderator_client.post(f"/decisions/comments/{comment_id}/decision",
                                   data={"action": "undo"}, follow_redirects=True)
    assert "Undone." in undone.get_data(as_text=True)
    assert state_of(app, comment_id) is CommentState.APPROVED
    with app.app_context():
        reasons = [d.reason for d in db.session.execute(
            db.select(Decision).where(Decision.comment_id == comment_id)
            .order_by(Decision.id)).scalars()]
    assert reasons == ["threat", "undo"]


def test_two_moderators_removing_at_once_one_wins_the_other_gets_409(
        app, moderator_client, published):
    from moderation.models import Role
    from tests.conftest import login
    from tests.factories import PASSWORD, make_user

    comment_id, _ = published
    with app.app_context():
        make_user("omar", role=Role.MODERATOR)
        db.session.commit()
    other = app.test_client()
    assert login(other, "omar", PASSWORD).status_code == 302
    statuses = []
    barrier = threading.Barrier(2)

    def remove(client):
        barrier.wait()
        response = client.post(f"/api/v1/comments/{comment_id}/decision",
                               json={"action": "remove", "reason": "spam"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=remove, args=(c,)) for c in (moderator_client, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 409]
    with app.app_context():
        removals = db.session.execute(db.select(db.func.count(Decision.id)).where(
            Decision.comment_id == comment_id)).scalar_one()
    assert removals == 1


def test_a_stricter_policy_offers_to_send_published_comments_back_for_review(
        app, admin_client):
    from moderation.models import Score, utcnow
    from tests.web.test_admin_policy import lowered_toxicity

    with app.app_context():
        article = make_article()
        ids = []
        for toxicity in (0.75, 0.85, 0.2):  # published under reject-at 0.90
            comment = make_comment(article, f"published at {toxicity}",
                                   state=CommentState.APPROVED, scorer_name="fake",
                                   scorer_version="1", scored_at=utcnow(), risk=toxicity)
            db.session.add(Score(comment_id=comment.id, scorer_name="fake",
                                 scorer_version="1", toxicity=toxicity))
            ids.append(comment.id)
        for state in (CommentState.QUEUED, CommentState.REJECTED):  # in the band, unpublished
            comment = make_comment(article, f"{state.value} at 0.85", state=state,
                                   scorer_name="fake", scorer_version="1", scored_at=utcnow(),
                                   risk=0.85)
            db.session.add(Score(comment_id=comment.id, scorer_name="fake",
                                 scorer_version="1", toxicity=0.85))
        db.session.commit()

    # lowered_toxicity() proposes reject-at 0.80: one published comment falls in its band.
    preview = admin_client.get("/admin/policy/replay", query_string={
        **lowered_toxicity(), "window": "30d"})
    assert 'data-published-reject="1"' in preview.get_data(as_text=True)

    saved = admin_client.post("/admin/policy", data={**lowered_toxicity(),
                                                     "requeue_published": "y"},
                              follow_redirects=True)
    assert "Sent 1 published comment in its reject band back to the queue" in \
        saved.get_data(as_text=True)
    assert [state_of(app, i) for i in ids] == [CommentState.APPROVED, CommentState.QUEUED,
                                               CommentState.APPROVED]
    with app.app_context():
        decision = db.session.execute(db.select(Decision).where(
            Decision.comment_id == ids[1])).scalar_one()
        assert decision.reason == "requeue:reject band" and decision.actor_id is None


def test_the_comment_page_shows_it_in_its_conversation(app, moderator_client):
    from datetime import timedelta

    from moderation.models import utcnow

    with app.app_context():
        article = make_article(headline="Bridge repairs")
        start = utcnow() - timedelta(hours=1)
        bodies = [f"published reply {n}" for n in range(6)]
        made = [make_comment(article, body, state=CommentState.APPROVED,
                             created_at=start + timedelta(minutes=n))
                for n, body in enumerate(bodies)]
        middle = made[3]
        make_comment(article, "not published", state=CommentState.QUEUED,
                     created_at=start + timedelta(minutes=3, seconds=30))
        db.session.commit()
        middle_id = middle.id

    page = moderator_client.get(f"/decisions/comments/{middle_id}").get_data(as_text=True)
    conversation = page.split('<ol class="conversation">')[1].split("</ol>")[0]
    shown = sorted((conversation.index(body), body) for body in bodies if body in conversation)
    # Two before, the comment itself, two after, oldest first.
    assert [body for _, body in shown] == ["published reply 1", "published reply 2",
                                            "published reply 3", "published reply 4",
                                            "published reply 5"]
    assert "(this comment)" in conversation and "not published" not in conversation
    assert "Bridge repairs" in page and f"#comment-{middle_id}" in page


def test_the_decision_log_offers_take_down_on_the_row_that_published_it(app, moderator_client):
    with app.app_context():
        comment = make_comment(make_article(), "You will regret writing this.",
                               state=CommentState.QUEUED)
        db.session.commit()
        comment_id = comment.id
    assert moderator_client.post(f"/api/v1/comments/{comment_id}/decision",
                                 json={"action": "approve"}).status_code == 200
    log = moderator_client.get("/decisions/").get_data(as_text=True)
    form = f'action="/decisions/comments/{comment_id}/decision"'
    assert log.count(form) == 1 and 'name="action" value="remove"' in log

    done = moderator_client.post(f"/decisions/comments/{comment_id}/decision",
                                 data={"action": "remove", "reason": "threat"})
    assert done.status_code == 303 and state_of(app, comment_id) is CommentState.REJECTED
    assert form not in moderator_client.get("/decisions/").get_data(as_text=True)
