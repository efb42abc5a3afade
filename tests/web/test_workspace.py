"""The moderators' workspace without JavaScript: a filtered, paged queue whose cards tell the
author's story, and every decision (one, many, undone, an author held) as a POST + redirect."""

from __future__ import annotations

import html as htmllib
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from moderation.extensions import db
from moderation.models import AuthorHold, Comment, CommentState, Decision, Score, utcnow
from moderation.services.decide import REASONS, decide
from moderation.services.policy import active_policy
from tests.conftest import login
from tests.factories import PASSWORD, make_article, make_comment, make_user


def scored(article, body, risk, *, state=CommentState.QUEUED, scorer="fake", label="toxicity",
           **fields):
    comment = make_comment(article, body, state=state, risk=risk, scored_at=utcnow(),
                           scorer_name=scorer, scorer_version="1", policy=active_policy(),
                           **fields)
    score = Score(comment_id=comment.id, scorer_name=scorer, scorer_version="1",
                  scored_at=utcnow())
    score.set_labels({"toxicity": risk / 2, label: risk})
    db.session.add(score)
    db.session.flush()
    return comment


def card_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li class="card [^"]*" id="card-(\d+)"', page)]


def card_html(page: str, comment_id: int) -> str:
    start = page.index(f'id="card-{comment_id}"')
    end = page.find('<li class="card ', start)
    return page[start:end if end != -1 else len(page)]


def flashes(page: str) -> list[str]:
    return [htmllib.unescape(text) for text in
            re.findall(r'<p class="flash flash-\w+[^"]*" role="(?:status|alert)">(.*?)</p>', page,
                       re.S)]


def get(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def state_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).state


def decisions_for(app, comment_id) -> list[tuple]:
    with app.app_context():
        return [(d.actor.username if d.actor else None, d.from_state, d.to_state, d.reason,
                 d.reverts_id, d.id)
                for d in db.session.execute(db.select(Decision).where(
                    Decision.comment_id == comment_id).order_by(Decision.id)).scalars()]


@pytest.fixture
def workspace(app):
    """Two articles; authors with a past; one held author; a long comment scored in windows."""
    with app.app_context():
        floods = make_article(slug="floods", headline="Flood barrier approved")
        trains = make_article(slug="trains", headline="Night trains return")
        day = datetime(2025, 3, 10, 12, 0)
        ids = {}
        ids["threat"] = scored(floods, "I know where the mayor parks", 0.97,
                               state=CommentState.HELD, label="threat", author_name="Grim",
                               created_at=day).id
        ids["insult"] = scored(floods, "The council are fools", 0.81, label="insult",
                               author_name="Sceptic", author_email="sceptic@example.org",
                               created_at=day + timedelta(days=1)).id
        ids["rude"] = scored(trains, "Trains are for losers", 0.55, author_name="Rail Hater",
                             created_at=day + timedelta(days=2), scorer="other-model").id
        ids["mild"] = scored(trains, "Bit of a rubbish timetable", 0.35, author_name="Commuter",
                             created_at=day + timedelta(days=3)).id
        ids["unscored"] = make_comment(trains, "Scorer failed on me", state=CommentState.QUEUED,
                                       score_error="ScorerError: boom", author_name="Unlucky",
                                       created_at=day + timedelta(days=4)).id
        # Sceptic's past: two published, one rejected.
        for body, state in (("Good point about the river", CommentState.APPROVED),
                            ("The library steps flooded too", CommentState.APPROVED),
                            ("You are all idiots", CommentState.REJECTED)):
            make_comment(floods, body, state=state, author_name="Sceptic",
                         author_email="sceptic@example.org", created_at=day - timedelta(days=9))
        # Grim is held: every new comment of theirs waits.
        grim = db.session.get(Comment, ids["threat"])
        maria = make_user("maria")
        db.session.add(AuthorHold(author_key=grim.author_key, author_name="Grim",
                                  created_by_id=maria.id, created_at=utcnow()))
        long_body = ("The barrier is a sensible plan. " * 20 + "Drown the lot of them, I say. "
                     + "Anyway, the grant covers most of it. " * 5)
        start = long_body.index("Drown")
        ids["long"] = scored(floods, long_body, 0.66, author_name="Wordy",
                             created_at=day + timedelta(days=5)).id
        score = db.session.execute(db.select(Score).where(
            Score.comment_id == ids["long"])).scalar_one()
        score.windows, score.top_window_start = 3, start
        score.top_window_end = start + len("Drown the lot of them, I say.")
        ids["published"] = scored(floods, "Already fine", 0.01, state=CommentState.APPROVED,
                                  author_name="Happy").id
        db.session.commit()
    return ids


@pytest.fixture
def maria(client, workspace):
    assert login(client, "maria", PASSWORD).status_code == 302
    return client


# ---- the queue page: filters, order, counts, paging ---------------------------------------

def test_the_default_queue_is_held_first_then_riskiest_with_counts(maria, workspace):
    page = get(maria, "/queue/")
    w = workspace
    assert card_ids(page) == [w["threat"], w["insult"], w["long"], w["rude"], w["mild"],
                              w["unscored"]]
    # Counted by band, as the band filters show them: the unscored one is not also "queued".
    assert "<strong>1</strong> held" in page and "<strong>4</strong> queued" in page
    assert "<strong>1</strong> unscored" in page and "published" not in page


FILTERS = [  # query, the cards expected in order, what the form shows back
    ("order=oldest", ["threat", "insult", "rude", "mild", "unscored", "long"],
     '<option selected value="oldest">'),
    ("order=newest", ["long", "unscored", "mild", "rude", "insult", "threat"],
     '<option selected value="newest">'),
    ("band=held", ["threat"], '<option selected value="held">'),
    ("band=queued", ["insult", "long", "rude", "mild"], '<option selected value="queued">'),
    ("band=unscored", ["unscored"], '<option selected value="unscored">'),
    ("article=trains", ["rude", "mild", "unscored"], 'name="article" value="trains"'),
    ("label=insult&label_min=0.8", ["insult"], '<option selected value="insult">'),
    ("label=toxicity&label_min=0.6", ["long"], 'name="label_min" value="0.6"'),
    ("scorer=other-model", ["rude"], 'name="scorer" value="other-model"'),
    ("since=2025-03-11&until=2025-03-12", ["insult", "rude"], 'name="since" value="2025-03-11"'),
    ("until=2025-03-10", ["threat"], 'name="until" value="2025-03-10"'),
    ("q=TIMETABLE", ["mild"], 'value="TIMETABLE"'),
    ("q=sceptic", ["insult"], 'value="sceptic"'),  # the author's name
    ("q=100%25", [], 'value="100%"'),  # a literal %, not a wildcard
    ("order=newest&band=held", ["threat"], '<option selected value="newest">'),
    ("order=newest&band=unscored", ["unscored"], '<option selected value="unscored">'),
    ("order=oldest&band=queued&article=trains", ["rude", "mild"],
     'name="article" value="trains"'),
]


def test_every_filter_and_order_shows_in_the_cards_and_the_form(maria, workspace):
    for query, expected, shown in FILTERS:
        page = get(maria, f"/queue/?{query}")
        assert card_ids(page) == [workspace[name] for name in expected], query
        assert shown in page, query
        if not expected:
            assert "Nothing waiting matches this filter" in page
        # The whole queue's counts stay, whatever the filter (beside the filter's own).
        assert re.search(r'(<strong>|class="count-total">)1(</strong>|</span>) held', page)
        assert re.search(r'(<strong>|class="count-total">)4(</strong>|</span>) queued', page)


def test_the_queued_band_leaves_out_held_comments_in_every_order(maria, workspace):
    for order in ("risk", "oldest", "newest"):
        page = get(maria, f"/queue/?order={order}&band=queued&article=floods")
        assert sorted(card_ids(page)) == sorted([workspace["insult"], workspace["long"]]), order


def test_the_next_page_link_walks_the_queue_once_keeping_the_filters(app, maria):
    app.config["MODERATION_QUEUE_PAGE_SIZE"] = 3
    with app.app_context():
        article = make_article(slug="busy")
        other = make_article(slug="quiet")
        expected = []
        for n in range(11):
            state = CommentState.HELD if n % 4 == 0 else CommentState.QUEUED
            # Ties in risk on purpose: the keyset must still not repeat or skip.
            expected.append(scored(article, f"busy comment {n}", 0.5 + (n % 3) / 10,
                                   state=state, author_name=f"Author {n}").id)
        for n in range(3):
            expected.append(make_comment(article, f"busy unscored {n}",
                                         state=CommentState.QUEUED).id)
        scored(other, "busy but elsewhere", 0.99)
        db.session.commit()
    for order in ("risk", "oldest", "newest"):
        seen, path, pages = [], f"/queue/?order={order}&article=busy", 0
        while path:
            page = get(maria, path)
            pages += 1
            seen.extend(card_ids(page))
            found = re.search(r'<a class="next-page" rel="next" href="([^"]+)"', page)
            path = htmllib.unescape(found.group(1)) if found else None
            if path:
                query = parse_qs(urlsplit(path).query)
                assert query["article"] == ["busy"] and "cursor" in query
                assert query.get("order", ["risk"]) == [order]
                assert "offset" not in path
        assert sorted(seen) == sorted(expected), order
        assert len(seen) == len(set(seen)), order
        assert pages == 5, order


BAD_PARAMETERS = [  # query, what the page says
    ("order=sideways", "Unknown order &#39;sideways&#39;"),
    ("band=maybe", "Unknown band &#39;maybe&#39;"),
    ("label=toxicity", "A label filter needs both the label and a minimum score."),
    ("label_min=0.5", "A label filter needs both the label and a minimum score."),
    ("label=rudeness&label_min=0.5", "Unknown label &#39;rudeness&#39;"),
    ("label=insult&label_min=lots", "minimum score is a number between 0 and 1"),
    ("label=insult&label_min=nan", "minimum score is a number between 0 and 1"),
    ("label=insult&label_min=3", "A label&#39;s minimum score is between 0 and 1."),
    ("since=2025-13-45", "From: &#39;2025-13-45&#39; is not a date"),
    ("until=yesterday", "To: &#39;yesterday&#39; is not a date"),
    ("since=2025-03-12&until=2025-03-01", "The start of the date range is after its end."),
    ("cursor=not-a-cursor", "That page link is broken or out of date"),
    # A real cursor, but from another order (oldest carries no risk position).
    ("cursor=eyJvcmRlciI6Im9sZGVzdCIsImlkIjozfQ", "That page link is broken or out of date"),
    ("cursor=eyJvcmRlciI6InJpc2siLCJpZCI6MywicGhhc2UiOjAsInJpc2siOiJ4In0",
     "That page link is broken or out of date"),
    ("q=" + "x" * 201, "Search: Field cannot be longer than 200 characters."),
]


def test_bad_parameters_get_the_page_with_a_400_and_a_clear_message(maria, workspace):
    for query, message in BAD_PARAMETERS:
        response = maria.get(f"/queue/?{query}")
        assert response.status_code == 400, query
        page = response.get_data(as_text=True)
        assert message in page, query
        assert "Fix the filter above" in page
        assert card_ids(page) == []
        assert "<strong>1</strong> held" in page  # the counts are still there


# ---- what a card says --------------------------------------------------------------------

def test_a_card_tells_the_authors_story(maria, workspace):
    page = get(maria, "/queue/")
    insult = card_html(page, workspace["insult"])
    assert '<span class="author">Sceptic</span>' in insult
    assert "&lt;sceptic@example.org&gt;" in insult  # moderators see the email
    assert re.search(r"<strong>2</strong> approved.*<strong>1</strong> rejected.*"
                     r"<strong>1</strong> pending", insult, re.S)
    recent = re.findall(r'<span class="recent-body">(.*?)</span>', insult)
    assert recent == ["You are all idiots", "The library steps flooded too",
                      "Good point about the river"]
    assert "The council are fools" not in recent  # the card's own comment is not "other"
    assert 'href="/articles/floods">Flood barrier approved</a>' in insult
    assert "Scored by <strong>fake</strong> (1), banded by policy v1" in insult
    assert re.search(r'<span class="bar-label">insult</span>.*?0\.810', insult, re.S)
    assert "held author" not in insult and "Hold author" in insult

    threat = card_html(page, workspace["threat"])
    assert "held author" in threat and "Lift hold" in threat and "Hold author" not in threat
    assert "No other comments." in threat


def test_a_long_comment_marks_its_highest_scoring_part(maria, workspace):
    long_card = card_html(get(maria, "/queue/"), workspace["long"])
    assert ('<mark title="highest-scoring part">Drown the lot of them, I say.</mark>'
            in long_card)
    assert "the highest-scoring part (3 windows scored)" in long_card
    short = card_html(get(maria, "/queue/"), workspace["insult"])
    assert "<mark" not in short


def test_comment_text_is_escaped(app, maria):
    with app.app_context():
        scored(make_article(slug="xss"), "<script>alert(1)</script><b>bold</b>", 0.7,
               author_name="<img src=x onerror=alert(2)>")
        db.session.commit()
    page = get(maria, "/queue/")
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_anonymous_visitors_are_sent_to_sign_in_and_see_no_comment(app, client, workspace):
    response = client.get("/queue/?q=mayor&band=held")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get("/queue/?q=mayor", follow_redirects=True).get_data(as_text=True)
    for text in ("mayor parks", "council are fools", "sceptic@example.org", "Sceptic"):
        assert text not in page
    for path, data in ((f"/queue/{workspace['insult']}/undo", {}),
                       ("/queue/bulk", {"command": "approve:matching"}),
                       (f"/queue/{workspace['insult']}/hold", {}),
                       ("/queue/authors/" + "a" * 64 + "/lift", {})):
        response = client.post(path, data=data)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert state_of(app, workspace["insult"]) is CommentState.QUEUED


# ---- deciding, and coming back to the same filters ---------------------------------------

def test_a_decision_returns_to_the_same_filtered_queue_and_offers_undo(app, maria, workspace):
    back = "/queue/?band=queued&q=fools"
    response = maria.post(f"/queue/{workspace['insult']}/decision",
                          data={"action": "reject", "reason": "harassment", "next": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    page = get(maria, back)
    assert flashes(page) == ["Rejected the comment by Sceptic."]
    assert f'action="/queue/{workspace["insult"]}/undo"' in page
    assert card_ids(page) == []
    # The undo is offered once, like the message.
    assert "/undo" not in get(maria, back)


@pytest.mark.parametrize("target", ["https://evil.example/queue/", "//evil.example/queue/",
                                    "/articles/floods", "/queue/bulk", "/\\evil"])
def test_next_only_ever_leads_back_to_the_local_queue(maria, workspace, target):
    response = maria.post(f"/queue/{workspace['mild']}/decision",
                          data={"action": "approve", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/queue/"


def test_undo_puts_the_comment_back_and_is_audited(app, maria, workspace):
    comment_id = workspace["threat"]
    maria.post(f"/queue/{comment_id}/decision", data={"action": "approve"})
    assert state_of(app, comment_id) is CommentState.APPROVED
    assert flashes(get(maria, "/queue/")) == ["Approved the comment by Grim."]

    response = maria.post(f"/queue/{comment_id}/undo", data={"next": "/queue/?band=held"})
    assert response.status_code == 303 and response.headers["Location"] == "/queue/?band=held"
    assert state_of(app, comment_id) is CommentState.HELD
    approve, undo = decisions_for(app, comment_id)
    assert approve[:5] == ("maria", CommentState.HELD, CommentState.APPROVED, None, None)
    assert undo[:5] == ("maria", CommentState.APPROVED, CommentState.HELD, "undo", approve[5])
    page = get(maria, "/queue/?band=held")
    assert flashes(page) == ["Undone: the comment by Grim is back in the queue."]
    assert card_ids(page) == [comment_id]

    again = maria.post(f"/queue/{comment_id}/undo", data={"next": "/queue/?band=held"})
    assert again.status_code == 422
    assert "There is no recent moderator decision on this comment to undo" in htmllib.unescape(
        again.get_data(as_text=True))
    assert card_ids(again.get_data(as_text=True)) == [comment_id]  # the same filtered queue
    assert state_of(app, comment_id) is CommentState.HELD
    assert len(decisions_for(app, comment_id)) == 2


def test_only_the_decider_may_undo(app, client, workspace):
    with app.app_context():
        omar = make_user("omar")
        decide(db.session.get(Comment, workspace["mild"]), omar, "approve")
        db.session.commit()
    assert login(client, "maria", PASSWORD).status_code == 302
    response = client.post(f"/queue/{workspace['mild']}/undo")
    assert response.status_code == 422
    assert "Only the moderator who decided" in response.get_data(as_text=True)
    assert state_of(app, workspace["mild"]) is CommentState.APPROVED


def test_undo_after_the_state_moved_on_is_a_409(app, maria, workspace):
    comment_id = workspace["mild"]
    maria.post(f"/queue/{comment_id}/decision", data={"action": "approve"})
    with app.app_context():  # changed behind the decision's back (no decision recorded)
        db.session.execute(db.update(Comment).where(Comment.id == comment_id)
                           .values(state=CommentState.REJECTED))
        db.session.commit()
    response = maria.post(f"/queue/{comment_id}/undo")
    assert response.status_code == 409
    assert "This comment was already rejected by maria" in response.get_data(as_text=True)
    assert state_of(app, comment_id) is CommentState.REJECTED


def test_undo_of_an_unknown_comment_is_404(maria, workspace):
    assert maria.post("/queue/999999/undo").status_code == 404


# ---- bulk ----------------------------------------------------------------------------------

def test_bulk_rejects_the_selection_and_names_who_was_first(app, maria, workspace):
    with app.app_context():
        omar = make_user("omar")
        decide(db.session.get(Comment, workspace["rude"]), omar, "approve")
        db.session.commit()
    selected = [workspace["insult"], workspace["rude"], workspace["mild"]]
    back = "/queue/?order=oldest&article=trains"
    response = maria.post("/queue/bulk", data={
        "command": "reject:selected", "ids": [str(i) for i in selected], "reason": "spam",
        "next": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    assert flashes(get(maria, back)) == ["Rejected 2; 1 already decided by omar."]
    assert state_of(app, workspace["insult"]) is CommentState.REJECTED
    assert state_of(app, workspace["mild"]) is CommentState.REJECTED
    assert state_of(app, workspace["rude"]) is CommentState.APPROVED
    [decision] = decisions_for(app, workspace["mild"])
    assert decision[:4] == ("maria", CommentState.QUEUED, CommentState.REJECTED, "spam")


def test_bulk_by_filter_decides_exactly_what_the_filter_shows(app, maria, workspace):
    response = maria.post("/queue/bulk", data={
        "command": "approve:matching", "article": "trains", "band": "queued",
        "next": "/queue/?article=trains&band=queued"})
    assert response.status_code == 303
    page = get(maria, "/queue/?article=trains&band=queued")
    assert flashes(page) == ["Approved 2."]
    assert card_ids(page) == []
    assert state_of(app, workspace["rude"]) is CommentState.APPROVED
    assert state_of(app, workspace["mild"]) is CommentState.APPROVED
    # Not scored (another band) and another article are left alone.
    assert state_of(app, workspace["unscored"]) is CommentState.QUEUED
    assert state_of(app, workspace["insult"]) is CommentState.QUEUED


def test_the_bulk_form_carries_the_filters_it_would_apply(maria, workspace):
    page = get(maria, "/queue/?article=trains&band=queued&q=rubbish")
    bulk = page[page.index('<form method="post" action="/queue/bulk"'):]
    bulk = bulk[:bulk.index("</form>")]
    for name, value in (("article", "trains"), ("band", "queued"), ("q", "rubbish")):
        assert f'<input type="hidden" name="{name}" value="{value}">' in bulk
    assert "Reject all matching this filter (up to 200)" in bulk
    assert f'form="bulk" id="select-{workspace["mild"]}"' in page


@pytest.mark.parametrize("data, message", [
    ({"command": "reject:selected", "ids": ["1"]}, "Choose a reason for rejecting."),
    ({"command": "approve:selected"}, "Select at least one comment first"),
    ({"command": "explode:selected", "ids": ["1"]}, "Choose what to do with the selection."),
    ({"command": "approve:selected", "ids": ["one"]}, "could not be coerced"),
    ({"command": "reject:selected", "ids": ["1"], "reason": "other"}, "needs a note"),
    ({"command": "approve:matching", "label": "toxicity"}, "A label filter needs both"),
])
def test_a_malformed_bulk_decision_is_a_400_and_changes_nothing(app, maria, workspace, data,
                                                                message):
    response = maria.post("/queue/bulk", data=data)
    assert response.status_code == 400
    assert message in htmllib.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Decision).where(
            Decision.actor_id.is_not(None))).scalar_one() == 0


# ---- holding an author ---------------------------------------------------------------------

def test_hold_and_lift_an_author(app, maria, workspace):
    response = maria.post(f"/queue/{workspace['insult']}/hold", data={"next": "/queue/"})
    assert response.status_code == 303
    page = get(maria, "/queue/")
    assert flashes(page) == ["Held Sceptic: their new comments will wait for a moderator."]
    card = card_html(page, workspace["insult"])
    assert "held author" in card
    with app.app_context():
        key = db.session.get(Comment, workspace["insult"]).author_key
        [hold] = db.session.execute(db.select(AuthorHold).where(
            AuthorHold.author_key == key)).scalars().all()
        assert hold.created_by.username == "maria" and hold.lifted_at is None
    assert f'action="/queue/authors/{key}/lift"' in card

    again = maria.post(f"/queue/{workspace['insult']}/hold")
    assert again.status_code == 409 and "Sceptic is already held." in again.get_data(
        as_text=True)

    response = maria.post(f"/queue/authors/{key}/lift", data={"next": "/queue/?q=fools"})
    assert response.status_code == 303 and response.headers["Location"] == "/queue/?q=fools"
    page = get(maria, "/queue/?q=fools")
    assert flashes(page) == ["Lifted the hold on Sceptic."]
    assert "held author" not in card_html(page, workspace["insult"])
    with app.app_context():
        hold = db.session.execute(db.select(AuthorHold).where(
            AuthorHold.author_key == key)).scalar_one()
        assert hold.lifted_by.username == "maria" and hold.lifted_at is not None

    assert maria.post(f"/queue/authors/{key}/lift").status_code == 409
    assert maria.post("/queue/authors/not-a-key/lift").status_code == 404


# ---- CSRF ------------------------------------------------------------------------------------

def test_every_new_post_needs_the_csrf_token(app, workspace):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": "maria", "password": PASSWORD, "csrf_token": token})
    queue_page = get(client, "/queue/")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', queue_page).group(1)
    with app.app_context():
        key = db.session.get(Comment, workspace["threat"]).author_key
    posts = [
        (f"/queue/{workspace['insult']}/decision", {"action": "approve"}),
        (f"/queue/{workspace['insult']}/undo", {}),
        ("/queue/bulk", {"command": "approve:selected", "ids": [str(workspace["insult"])]}),
        ("/queue/bulk", {"command": "approve:matching"}),
        (f"/queue/{workspace['insult']}/hold", {}),
        (f"/queue/authors/{key}/lift", {}),
    ]
    for path, data in posts:
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "This form has expired" in response.get_data(as_text=True)
    assert state_of(app, workspace["insult"]) is CommentState.QUEUED
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(AuthorHold).where(
            AuthorHold.lifted_at.is_(None))).scalar_one() == 1
    # With the token it goes through.
    response = client.post("/queue/bulk", data={
        "command": "approve:selected", "ids": [str(workspace["insult"])], "csrf_token": token})
    assert response.status_code == 303
    assert state_of(app, workspace["insult"]) is CommentState.APPROVED


# ---- no N+1 ----------------------------------------------------------------------------------

def test_the_page_costs_the_same_queries_for_5_or_40_cards(app, moderator, moderator_client):
    maria = moderator_client
    with app.app_context():
        articles = [make_article(slug=f"a{n}") for n in range(3)]

        def add_cards(start, stop):
            for n in range(start, stop):
                article = articles[n % 3]
                comment = scored(article, f"card {n}", 0.4 + n / 100,
                                 author_name=f"Author {n}", author_email=f"a{n}@example.org")
                elsewhere = make_article()  # their past lies under other stories
                for past in range(2):
                    make_comment(elsewhere, f"past {n}.{past}", state=CommentState.APPROVED,
                                 author_name=f"Author {n}", author_email=f"a{n}@example.org")
                if n % 5 == 0:
                    db.session.add(AuthorHold(author_key=comment.author_key,
                                              author_name=comment.author_name,
                                              created_by_id=moderator, created_at=utcnow()))
            db.session.commit()

        add_cards(0, 5)
        engine = db.engine

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        page = get(maria, "/queue/")
        assert len(card_ids(page)) == 5
        five = len(statements)
        with app.app_context():
            add_cards(5, 40)
        statements.clear()
        page = get(maria, "/queue/")
        assert len(card_ids(page)) == 40
        assert "past 39.1" in page and "held author" in page
        forty = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert forty == five, statements


def test_the_reason_legend_follows_the_reason_order(maria, workspace):
    page = get(maria, "/queue/")
    legend = re.search(r'<ol class="reason-keys"[^>]*>(.*?)</ol>', page, re.S).group(1)
    labels = re.findall(r"<kbd>(\d)</kbd> ([^<]+)</li>", legend)
    assert labels == [(str(n), label) for n, label in enumerate(REASONS.values(), start=1)]
    assert '<script src="/static/queue.js" defer></script>' in page
    assert "<script>" not in page  # the CSP allows no inline script
