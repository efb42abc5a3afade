"""The article page's script posts in JSON and follows the comment's state: what it is told,
and what it is never told (a held comment's text, scores or a moderator's reasons)."""

import pytest

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Decision, utcnow
from moderation.worker import Worker
from tests.factories import make_article, make_comment, make_user

JSON = {"Accept": "application/json"}


@pytest.fixture
def article(app):
    with app.app_context():
        make_article(slug="flood-barrier", headline="Council approves a flood barrier")
        db.session.commit()
    return "flood-barrier"


def post_json(client, slug, **fields):
    data = {"author_name": "Jo Reader", "author_email": "", "body": "Well reported, thanks."}
    data.update(fields)
    return client.post(f"/articles/{slug}/comments", data=data, headers=JSON)


def test_a_script_post_stays_on_the_article_and_follows_the_state_until_published(
        app, client, article):
    posted = post_json(client, article, body="Thanks, this was clear and useful.")
    assert posted.status_code == 201
    answer = posted.get_json()
    assert answer["state"] == "pending"
    assert answer["state_url"] == f"/comments/{answer['token']}/state"
    assert answer["status_url"] == f"/comments/{answer['token']}"

    pending = client.get(answer["state_url"])
    assert pending.status_code == 200
    assert pending.get_json()["state"] == "pending"
    assert "being checked" in pending.get_json()["message"]

    Worker(app).run_once()
    published = client.get(answer["state_url"]).get_json()
    assert published["state"] == "published"
    assert published["message"] == "Your comment is published."
    with app.app_context():
        mine = db.session.execute(db.select(Comment)).scalar_one()
        assert published["comment_url"] == f"/articles/{article}#comment-{mine.id}"


def test_an_unknown_token_is_a_json_404(client, article):
    missing = client.get("/comments/no-such-token/state")
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "We could not find that comment."


def test_a_held_comment_waits_for_a_moderator_and_its_text_is_never_in_the_answer(
        app, client, article):
    with app.app_context():
        story = db.session.execute(db.select(Article)).scalar_one()
        held = make_comment(story, "You are scum and everyone knows it", state=CommentState.HELD,
                            risk=0.97, scored_at=utcnow())
        db.session.commit()
        token = held.public_token
    answer = client.get(f"/comments/{token}/state")
    assert answer.status_code == 200
    assert answer.get_json()["state"] == "waiting"
    assert "usually within minutes" in answer.get_json()["message"]
    text = answer.get_data(as_text=True)
    assert "scum" not in text and "0.97" not in text


def test_a_rejected_comment_is_not_published_and_the_reason_stays_with_the_moderators(
        app, client, article):
    with app.app_context():
        story = db.session.execute(db.select(Article)).scalar_one()
        moderator = make_user("mo")
        rejected = make_comment(story, "Go away, idiot", state=CommentState.REJECTED)
        db.session.add(Decision(comment=rejected, actor_id=moderator.id,
                                from_state=CommentState.HELD, to_state=CommentState.REJECTED,
                                reason="harassment", note="third strike for this one"))
        db.session.commit()
        token = rejected.public_token
    answer = client.get(f"/comments/{token}/state")
    assert answer.get_json()["state"] == "not published"
    text = answer.get_data(as_text=True)
    for secret in ("idiot", "harassment", "third strike"):
        assert secret not in text


def test_a_script_post_with_an_empty_body_gets_the_field_messages_in_json(app, client, article):
    refused = post_json(client, article, body="")
    assert refused.status_code == 400
    assert refused.get_json()["fields"]["body"] == ["Please write a comment before posting."]
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Comment.id))).scalar_one() == 0


def test_a_script_post_on_a_closed_article_gets_the_reason_in_json(app, client):
    with app.app_context():
        make_article(slug="closed", comments_open=False, headline="An old story")
        db.session.commit()
    refused = post_json(client, "closed")
    assert refused.status_code == 403
    assert "closed" in refused.get_json()["message"]
