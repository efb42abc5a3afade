"""Moderators work the queue riskiest first; each decision is recorded and wins only once."""

import re
import threading

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState, Decision, Score, utcnow
from tests.conftest import login
from tests.factories import PASSWORD, make_article, make_comment, make_user
from tests.races import both_read_before_either_writes


def scored(article, body, risk, state=CommentState.QUEUED, **fields):
    comment = make_comment(article, body, state=state, risk=risk, scored_at=utcnow(),
                           scorer_name="fake", scorer_version="1", **fields)
    db.session.add(Score(comment_id=comment.id, scorer_name="fake", scorer_version="1",
                         toxicity=risk, insult=risk / 2))
    return comment


@pytest.fixture
def queue(app):
    with app.app_context():
        article = make_article(slug="story", headline="The story")
        ids = {
            "mild": scored(article, "Mildly rude", 0.4).id,
            "worse": scored(article, "Quite nasty", 0.8).id,
            "held": scored(article, "Threatening words", 0.95, state=CommentState.HELD).id,
            "unscored": make_comment(article, "Scorer failed on me", state=CommentState.QUEUED,
                                     score_error="ScorerError: boom").id,
            "published": scored(article, "Already fine", 0.01, state=CommentState.APPROVED).id,
        }
        db.session.commit()
    return ids


def card_bodies(html: str) -> list[str]:
    """The texts of the queue's cards (the author panels quote other comments too)."""
    return re.findall(r'<p class="comment-body">(.*?)</p>', html, re.S)


def card_order(html: str, bodies: list[str]) -> list[str]:
    # A card's own text, not the same text quoted in another card's author history.
    return sorted(bodies, key=lambda body: html.index(f'class="comment-body">{body}'))


def test_the_queue_puts_the_riskiest_first(moderator_client, queue):
    html = moderator_client.get("/queue/").get_data(as_text=True)
    bodies = ["Mildly rude", "Quite nasty", "Threatening words", "Scorer failed on me"]
    assert card_order(html, bodies) == [
        "Threatening words", "Quite nasty", "Mildly rude", "Scorer failed on me"]
    assert "Already fine" not in card_bodies(html)


def test_cards_show_scores_scorer_and_the_unscored_state(moderator_client, queue):
    html = moderator_client.get("/queue/").get_data(as_text=True)
    assert "risk 0.95" in html and "0.950" in html and "0.475" in html  # toxicity and insult
    assert "Scored by <strong>fake</strong>" in html
    assert "Unscored." in html and "ScorerError: boom" in html
    assert "<strong>1</strong> held" in html and "<strong>2</strong> queued" in html
    assert "<strong>1</strong> unscored" in html


def decisions_for(app, comment_id):
    with app.app_context():
        return list(db.session.execute(
            db.select(Decision).where(Decision.comment_id == comment_id)).scalars())


def state_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).state


def test_approving_publishes_the_comment_and_records_who(app, moderator_client, queue):
    response = moderator_client.post(f"/queue/{queue['held']}/decision",
                                     data={"action": "approve"})
    assert response.status_code == 303
    assert state_of(app, queue["held"]) is CommentState.APPROVED
    [decision] = decisions_for(app, queue["held"])
    with app.app_context():
        decision = db.session.merge(decision)
        assert decision.actor.username == "maria"
        assert (decision.from_state, decision.to_state) == (CommentState.HELD,
                                                            CommentState.APPROVED)
    assert "Threatening words" in moderator_client.get("/articles/story").get_data(as_text=True)
    assert "Threatening words" not in card_bodies(
        moderator_client.get("/queue/").get_data(as_text=True))


def test_rejecting_records_the_reason(app, moderator_client, queue):
    moderator_client.post(f"/queue/{queue['worse']}/decision",
                          data={"action": "reject", "reason": "harassment"})
    assert state_of(app, queue["worse"]) is CommentState.REJECTED
    [decision] = decisions_for(app, queue["worse"])
    assert decision.reason == "harassment"


def test_an_unscored_comment_can_still_be_decided(app, moderator_client, queue):
    moderator_client.post(f"/queue/{queue['unscored']}/decision", data={"action": "approve"})
    assert state_of(app, queue["unscored"]) is CommentState.APPROVED


def test_deciding_twice_is_a_409_naming_who_decided(app, moderator_client, queue):
    moderator_client.post(f"/queue/{queue['mild']}/decision", data={"action": "approve"})
    again = moderator_client.post(f"/queue/{queue['mild']}/decision",
                                  data={"action": "reject", "reason": "spam"})
    assert again.status_code == 409
    assert "already approved by maria at" in again.get_data(as_text=True)
    assert state_of(app, queue["mild"]) is CommentState.APPROVED
    assert len(decisions_for(app, queue["mild"])) == 1


@pytest.mark.parametrize("data, message", [
    ({"action": "delete"}, "Choose approve, reject, remove or undo."),
    ({}, "Choose approve, reject or remove."),
    ({"action": "reject", "reason": "because"}, "Not a valid choice"),
    ({"action": "reject"}, "Choose a reason for rejecting."),
    ({"action": "reject", "reason": "other"}, "needs a note saying why"),
])
def test_malformed_decisions_are_400(app, moderator_client, queue, data, message):
    response = moderator_client.post(f"/queue/{queue['mild']}/decision", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert state_of(app, queue["mild"]) is CommentState.QUEUED


def test_an_unknown_comment_is_404(moderator_client, queue):
    assert moderator_client.post("/queue/999999/decision",
                                 data={"action": "approve"}).status_code == 404


def test_anonymous_decisions_are_refused_and_change_nothing(app, client, queue):
    response = client.post(f"/queue/{queue['mild']}/decision", data={"action": "approve"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert state_of(app, queue["mild"]) is CommentState.QUEUED
    assert "Mildly rude" not in client.get("/queue/", follow_redirects=True).get_data(
        as_text=True)


def test_two_moderators_racing_on_one_comment_only_one_wins(app, queue, monkeypatch):
    """Both read the comment as held before either writes; the compare-and-swap lets exactly
    one decision through and the other gets a 409 naming the winner."""
    with app.app_context():
        make_user("omar")
        db.session.commit()
    clients = [app.test_client(), app.test_client()]
    with app.app_context():
        make_user("maria")
        db.session.commit()
    for client, name in zip(clients, ("maria", "omar"), strict=True):
        assert login(client, name, PASSWORD).status_code == 302

    both_read_before_either_writes(monkeypatch)
    statuses = {}

    def decide(client, action):
        response = client.post(f"/queue/{queue['held']}/decision",
                               data={"action": action, "reason": "threat"})
        statuses[action] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=decide, args=(client, action))
               for client, action in zip(clients, ("approve", "reject"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    codes = sorted(code for code, _ in statuses.values())
    assert codes == [303, 409], statuses
    winner = next(action for action, (code, _) in statuses.items() if code == 303)
    loser_text = next(text for code, text in statuses.values() if code == 409)
    final = state_of(app, queue["held"])
    assert final is (CommentState.APPROVED if winner == "approve" else CommentState.REJECTED)
    assert f"already {final.value} by" in loser_text
    assert len(decisions_for(app, queue["held"])) == 1


def test_csrf_is_required_for_decisions(app, queue):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    with app.app_context():
        make_user("maria")
        db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": "maria", "password": PASSWORD, "csrf_token": token})
    response = client.post(f"/queue/{queue['mild']}/decision", data={"action": "approve"})
    assert response.status_code == 400
    assert state_of(app, queue["mild"]) is CommentState.QUEUED
