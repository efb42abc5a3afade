"""Admins keep the banned and suspect word lists; the worker applies them whatever the score,
and moderators see the words marked on the queue cards."""

from __future__ import annotations

import html as htmllib
import re

import pytest

from moderation.extensions import db
from moderation.models import AdminEvent, Band, Comment, CommentState, Decision, Score, WordRule
from moderation.worker import Worker
from tests.factories import make_article, make_comment


def page_of(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def flashes(page: str) -> list[str]:
    return [htmllib.unescape(text) for text in
            re.findall(r'<p class="flash flash-\w+" role="status">(.*?)</p>', page, re.S)]


def add(client, word: str, kind: str = "banned", note: str = ""):
    return client.post("/admin/words", data={"word": word, "kind": kind, "note": note})


def rules(app) -> list[tuple[str, str, bool]]:
    with app.app_context():
        return [(rule.word, rule.kind, rule.active) for rule in db.session.execute(
            db.select(WordRule).order_by(WordRule.id)).scalars()]


def events(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(event.actor.username, event.action, event.target)
                for event in db.session.execute(
                    db.select(AdminEvent).order_by(AdminEvent.id)).scalars()]


def card_html(page: str, comment_id: int) -> str:
    start = page.index(f'id="card-{comment_id}"')
    end = page.find('<li class="card ', start)
    return page[start:end if end != -1 else len(page)]


def post_and_score(app, body: str) -> int:
    """A reader's comment, through the scoring worker (the fake scorer: low scores)."""
    with app.app_context():
        comment_id = make_comment(make_article(), body).id
        db.session.commit()
    assert Worker(app).run_once() == 1
    return comment_id


def test_an_admin_adds_and_removes_words_and_every_change_is_audited(app, admin_client):
    response = add(admin_client, "  Scunthorpe ", "suspect", note="the town, for the test")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/words")
    page = page_of(admin_client.get("/admin/words"))
    assert flashes(page) == ["Added “Scunthorpe” to the suspect words."]
    assert add(admin_client, "shit", "banned").status_code == 303

    page = page_of(admin_client.get("/admin/words"))
    banned = page[page.index('id="banned-words"'):page.index('id="suspect-words"')]
    suspect = page[page.index('id="suspect-words"'):page.index('id="try"')]
    assert "shit" in banned and "Scunthorpe" not in banned
    assert "Scunthorpe" in suspect and "the town, for the test" in suspect and "ada" in suspect

    with app.app_context():
        shit = db.session.execute(db.select(WordRule).where(WordRule.word == "shit")).scalar_one()
    response = admin_client.post(f"/admin/words/{shit.id}/remove")
    assert response.status_code == 303
    page = page_of(admin_client.get("/admin/words"))
    assert flashes(page) == ["Removed “shit” from the banned words."]
    removed = page[page.index('id="removed-words"'):]
    assert "shit" in removed and "No banned words yet: the list starts empty." in page
    assert rules(app) == [("Scunthorpe", "suspect", True), ("shit", "banned", False)]
    assert events(app) == [("ada", "words.add", "suspect word Scunthorpe"),
                           ("ada", "words.add", "banned word shit"),
                           ("ada", "words.remove", "banned word shit")]

    # Removing it again, or a word that never was: nothing changes.
    page = page_of(admin_client.post(f"/admin/words/{shit.id}/remove"), 409)
    assert "“shit” was already removed from the banned list." in htmllib.unescape(page)
    page_of(admin_client.post("/admin/words/9999/remove"), 404)
    assert len(events(app)) == 3


@pytest.mark.parametrize("word, kind, message", [
    ("", "banned", "Type the word or phrase to add."),
    ("x" * 81, "banned", "A word or phrase can be at most 80 characters."),
    ("f.u.c.k", "banned", "Use letters, digits, spaces, apostrophes and hyphens only."),
    ("<script>", "banned", "Use letters, digits, spaces, apostrophes and hyphens only."),
    ("idiot", "awful", "Choose the banned or the suspect list."),
])
def test_a_word_that_cannot_be_listed_gets_the_form_back_with_the_reason(app, admin_client,
                                                                        word, kind, message):
    page = htmllib.unescape(page_of(add(admin_client, word, kind), 400))
    assert message in page
    assert "<script>" not in page_of(add(admin_client, "<script>"), 400)
    assert rules(app) == [] and events(app) == []


def test_a_word_already_on_the_list_is_refused(app, admin_client):
    assert add(admin_client, "Idiot", "suspect").status_code == 303
    page = htmllib.unescape(page_of(add(admin_client, "IDIOT", "suspect"), 400))
    assert "“IDIOT” is already on the suspect list." in page
    assert add(admin_client, "idiot", "banned").status_code == 303  # the other list is fine
    assert rules(app) == [("Idiot", "suspect", True), ("idiot", "banned", True)]


def test_trying_a_text_marks_the_words_it_would_catch(app, admin_client):
    add(admin_client, "shit", "banned")
    add(admin_client, "idiot", "suspect")
    page = page_of(admin_client.get("/admin/words", query_string={
        "text": "<b>You</b> 1d10t, sh1t happens in Scunthorpe"}))
    assert ('&lt;b&gt;You&lt;/b&gt; <mark class="word-suspect" title="suspect word: idiot">'
            '1d10t</mark>, <mark class="word-banned" title="banned word: shit">sh1t</mark> '
            'happens in Scunthorpe') in page
    assert '<span class="word-note word-note-banned">banned: shit</span>' in page
    clean = page_of(admin_client.get("/admin/words", query_string={"text": "a class act"}))
    assert "No listed word found." in clean and "<mark" not in clean
    too_long = page_of(admin_client.get("/admin/words", query_string={"text": "x" * 5001}),
                       400)
    assert "Field cannot be longer than 5000 characters." in too_long


def test_moderators_may_not_touch_the_lists(app, moderator_client):
    page_of(moderator_client.get("/admin/words"), 403)
    page_of(add(moderator_client, "shit"), 403)
    assert rules(app) == []


@pytest.mark.parametrize("method, path", [("get", "/admin/words"), ("post", "/admin/words"),
                                          ("post", "/admin/words/1/remove")])
def test_anonymous_visitors_are_sent_to_sign_in(app, client, method, path):
    response = getattr(client, method)(path, data={"word": "shit", "kind": "banned"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert rules(app) == []


def test_a_low_scoring_comment_with_a_banned_word_is_held_and_marked_on_its_card(
        app, admin_client):
    add(admin_client, "shit", "banned")
    add(admin_client, "idiot", "suspect")
    comment_id = post_and_score(app, "What a load of <sh1t>, you idiot")
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.state is CommentState.HELD and comment.band is Band.REJECT
        assert comment.risk == pytest.approx(0.01)  # the score said approve
        [decision] = db.session.execute(
            db.select(Decision).where(Decision.comment_id == comment_id)).scalars()
        assert (decision.reason, decision.note) == ("band:reject", "banned word: shit")

    card = card_html(page_of(admin_client.get("/queue/")), comment_id)
    assert ('<p class="comment-body">What a load of &lt;<mark class="word-banned" '
            'title="banned word: shit">sh1t</mark>&gt;, you <mark class="word-suspect" '
            'title="suspect word: idiot">idiot</mark></p>') in card
    assert '<span class="word-note word-note-banned">banned: shit</span>' in card
    assert '<span class="word-note word-note-suspect">suspect: idiot</span>' in card


def test_a_suspect_word_keeps_a_low_scoring_comment_queued(app, admin_client):
    add(admin_client, "idiot", "suspect")
    queued = post_and_score(app, "You 1diot.")
    clean = post_and_score(app, "An idiotic plan.")  # another word: published as usual
    with app.app_context():
        assert db.session.get(Comment, queued).state is CommentState.QUEUED
        assert db.session.get(Comment, clean).state is CommentState.APPROVED
        [decision] = db.session.execute(
            db.select(Decision).where(Decision.comment_id == queued)).scalars()
        assert decision.note == "suspect word: idiot"


def test_a_word_inside_the_highest_scoring_window_gets_both_marks(app, admin_client):
    add(admin_client, "drown", "suspect")
    body = "The barrier is a sensible plan. " * 10 + "Drown them all. " + "The grant helps. " * 5
    start = body.index("Drown")
    with app.app_context():
        comment = make_comment(make_article(), body, state=CommentState.QUEUED, risk=0.6)
        score = Score(comment_id=comment.id, scorer_name="fake", scorer_version="1", windows=3,
                      top_window_start=start, top_window_end=start + len("Drown them all."))
        score.set_labels({"toxicity": 0.6})
        db.session.add(score)
        db.session.flush()
        comment.scorer_name, comment.scorer_version = "fake", "1"
        comment.scored_at = score.scored_at = comment.created_at
        db.session.commit()
        comment_id = comment.id
    card = card_html(page_of(admin_client.get("/queue/")), comment_id)
    assert ('<mark title="highest-scoring part"><mark class="word-suspect" '
            'title="suspect word: drown">Drown</mark> them all.</mark>') in card


def test_an_admin_pastes_a_list_with_plurals_and_a_plural_is_caught(app, admin_client):
    page = page_of(admin_client.get("/admin/words"))
    assert "Both lists start empty" in page and "No banned words yet" in page
    response = admin_client.post("/admin/words", data={
        "word": "idiot\r\nmoron\r\n", "kind": "banned", "inflect": "y"})
    assert response.status_code == 303
    page = page_of(admin_client.get("/admin/words"))
    assert "Added “idiot”, “moron” to the banned words." in flashes(page)
    assert page.count("+ endings") == 2
    assert rules(app) == [("idiot", "banned", True), ("moron", "banned", True)]
    trial = page_of(admin_client.get("/admin/words", query_string={"text": "Idiots!"}))
    assert "<mark" in trial and "Idiots</mark>" in trial


def test_a_pasted_line_that_is_too_long_is_named(app, admin_client):
    response = admin_client.post("/admin/words", data={
        "word": "idiot\n" + "x" * 81, "kind": "banned"})
    assert "Line 2: A word or phrase can be at most 80 characters." in page_of(response, 400)
    assert rules(app) == []
