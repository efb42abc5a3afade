"""The app with the offline composite scorer end to end: a reader's threat without a single
swear word never reaches the page; the moderator's card names an example only when the comment
nearly repeats it, and says which models scored it."""

import re

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState
from moderation.worker import Worker
from tests.factories import make_article, make_comment

# A near repeat of the shipped threat "I know where you live and I know what car you drive."
THREAT = "i know where you live and i know which car you drive"
FRESH = "Keep writing about my family and I will come to your house and hurt you."
KIND = "Great article, thanks for covering the library reopening."


@pytest.fixture
def app_config(composite):
    return {"MODERATION_SCORER_OBJECT": composite, "MODERATION_SCORE_TIMEOUT_SECONDS": 120}


def test_a_threat_without_swearing_waits_for_a_moderator_with_its_reasons(app, moderator_client):
    with app.app_context():
        article = make_article()
        threat = make_comment(article, THREAT)
        fresh = make_comment(article, FRESH)
        kind = make_comment(article, KIND)
        db.session.commit()
        threat_id, fresh_id, kind_id = threat.id, fresh.id, kind.id

    Worker(app).run_once()

    with app.app_context():
        threat, kind = db.session.get(Comment, threat_id), db.session.get(Comment, kind_id)
        fresh = db.session.get(Comment, fresh_id)
        assert threat.state in (CommentState.QUEUED, CommentState.HELD)
        assert fresh.state in (CommentState.QUEUED, CommentState.HELD)
        assert kind.state is CommentState.APPROVED
        # Kept out by the heads, not by a neighbour: no example is named.
        assert threat.current_score.matches is None and fresh.current_score.matches is None
        score = threat.current_score
        assert score.scorer_name == "composite" and score.embedding is not None

    card = moderator_client.get("/queue/").get_data(as_text=True)
    assert "close to:" not in card
    assert re.search(r"held: reject band, (threat|severe toxicity|toxicity) 0\.\d\d", card), card
    assert "Scored by <strong>composite</strong>" in card
    api = moderator_client.get(f"/api/v1/comments/{threat_id}").get_json()
    assert api["close_to"] == {}
    assert api["scorer"]["name"] == "composite" and api["scorer"]["site_model"] is None


def test_a_proposed_example_is_replayed_on_stored_embeddings_before_it_is_used(
        app, admin_client):
    odd = "The harvest show's giant marrow won first prize again this year."
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
    # Now an example drove the label, the card names it.
    card = admin_client.get("/queue/").get_data(as_text=True)
    assert f"close to: “{odd.replace(chr(39), '&#39;')}” (" in card
