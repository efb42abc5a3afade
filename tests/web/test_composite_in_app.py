"""The app with the offline composite scorer end to end: a reader's threat without a single
swear word never reaches the page, and the moderator's card says what it came close to and
which models scored it."""

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState
from moderation.worker import Worker
from tests.factories import make_article, make_comment

THREAT = "I know where you live and I will make you pay for this"
KIND = "Great article, thanks for covering the library reopening."


@pytest.fixture
def app_config(composite):
    return {"MODERATION_SCORER_OBJECT": composite, "MODERATION_SCORE_TIMEOUT_SECONDS": 120}


def test_a_threat_without_swearing_waits_for_a_moderator_with_its_reasons(app, moderator_client):
    with app.app_context():
        article = make_article()
        threat = make_comment(article, THREAT)
        kind = make_comment(article, KIND)
        db.session.commit()
        threat_id, kind_id = threat.id, kind.id

    Worker(app).run_once()

    with app.app_context():
        threat, kind = db.session.get(Comment, threat_id), db.session.get(Comment, kind_id)
        assert threat.state in (CommentState.QUEUED, CommentState.HELD)
        assert kind.state is CommentState.APPROVED
        score = threat.current_score
        assert score.scorer_name == "composite" and score.embedding is not None
        closest = score.matches["threat"]["text"]

    card = moderator_client.get("/queue/").get_data(as_text=True)
    assert f"close to: “{closest}” (" in card and "threat)" in card
    assert "Scored by <strong>composite</strong>" in card
    api = moderator_client.get(f"/api/v1/comments/{threat_id}").get_json()
    assert api["close_to"]["threat"]["text"] == closest
    assert api["scorer"]["name"] == "composite" and api["scorer"]["site_model"] is None


def test_a_proposed_example_is_replayed_on_stored_embeddings_before_it_is_used(
        app, admin_client):
    odd = "The vicar's marrows will meet their maker at the harvest show."
    with app.app_context():
        article = make_article()
        target = make_comment(article, odd)
        for n in range(5):
            make_comment(article, f"Thanks for the update on road works number {n}.")
        db.session.commit()
        target_id = target.id
    worker = Worker(app)
    worker.run_once()
    with app.app_context():
        assert db.session.get(Comment, target_id).state is CommentState.APPROVED

    response = admin_client.post("/admin/examples", data={
        "label": "threat", "kind": "harmful", "text": odd, "note": "test"})
    proposal_page = response.headers["Location"]
    worker.run_once()  # between batches the worker embeds the proposal for the replay

    page = admin_client.get(proposal_page).get_data(as_text=True)
    assert "On the 6 most recent comments the composite scored" in page
    assert "approve →" in page and odd.replace("'", "&#39;") in page

    proposal_id = int(proposal_page.rsplit("/", 1)[1])
    admin_client.post(f"/admin/examples/proposals/{proposal_id}/accept")
    with app.app_context():
        again = make_comment(make_article(), odd)
        db.session.commit()
        again_id = again.id
    worker.run_once()
    with app.app_context():
        comment = db.session.get(Comment, again_id)
        assert comment.state is not CommentState.APPROVED
        assert comment.current_score.matches["threat"]["text"] == odd
