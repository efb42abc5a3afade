"""People's stories in a real browser: a reader posts and waits for the verdict, a moderator
works the queue. The worker scores with the real embedded model (alt-profanity-check)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Decision
from tests.browser.server import all_scored, wait_until
from tests.factories import make_comment

pytestmark = pytest.mark.browser

VERDICT_TIMEOUT_MS = 60_000  # scoring takes well under a second (a loaded machine: longer)
CLEAN = "Thanks for this article, the flood barrier is great news for the town."
ABUSIVE = "You are a fucking idiot, shut up you worthless piece of shit"
RUDE_HELD = "what a stupid idea, honestly"
RUDE_QUEUED = "I think this plan is rubbish and the council are fools"
# Harmless swearing the embedded model scores as the riskiest of all: the false positive a
# moderator is there to approve.
PROFANE_PRAISE = "Damn, this is a fucking brilliant piece of reporting. Hell yes!"


def stored_comments(app) -> list[Comment]:
    with app.app_context():
        try:
            return list(db.session.execute(db.select(Comment).order_by(Comment.id)).scalars())
        finally:
            db.session.expunge_all()
            db.session.remove()


def post_comment(page: Page, live_server, name: str, body: str) -> None:
    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    page.get_by_label("Name").fill(name)
    page.get_by_label("Comment", exact=True).fill(body)
    page.get_by_role("button", name="Post Comment").click()


def test_a_friendly_comment_is_published_and_shows_under_the_article(page: Page, live_server):
    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    expect(page.locator(".comment-count")).to_have_text("0 Comments")

    post_comment(page, live_server, "Jo Reader", CLEAN)

    # The page's script posts in place and follows the comment until the worker has decided.
    expect(page).to_have_url(live_server.url(f"/articles/{live_server.article_slug}"))
    status = page.locator(".posted-status")
    expect(status).to_contain_text("Your comment is published.", timeout=VERDICT_TIMEOUT_MS)
    expect(page.locator(".comment-count")).to_have_text("1 Comment")
    published = page.locator(".comment-list li.comment")
    expect(published).to_have_count(1)
    expect(published.locator(".comment-body")).to_have_text(CLEAN)
    expect(published.locator(".comment-meta")).to_contain_text("Jo Reader")

    # The link leads to it under the article; a fresh load of the article shows it too.
    status.get_by_role("link", name="See it under the article").click()
    expect(page).to_have_url(re.compile(rf"/articles/{live_server.article_slug}#comment-\d+$"))
    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    expect(page.locator(".comment-count")).to_have_text("1 Comment")

    [comment] = stored_comments(live_server.app)
    assert comment.state is CommentState.APPROVED
    assert comment.scorer_name == "alt-profanity-check"
    assert comment.risk is not None and comment.risk < 0.30


def test_an_abusive_comment_is_held_and_never_shown(page: Page, live_server):
    post_comment(page, live_server, "angry", ABUSIVE)

    status = page.locator(".posted-status")
    expect(status).to_contain_text("held for review", timeout=VERDICT_TIMEOUT_MS)
    expect(status).not_to_contain_text("worthless piece")
    status.get_by_role("link", name="Your comment's own page").click()
    expect(page.locator("h1")).to_have_text("Your comment is held for review")
    expect(page.locator(".status")).to_contain_text("A moderator will read it")

    page.get_by_role("link", name=live_server.article_headline).click()
    expect(page.locator(".comment-count")).to_have_text("0 Comments")
    expect(page.locator(".comment-list li.comment")).to_have_count(0)
    expect(page.get_by_text("worthless piece")).to_have_count(0)

    [comment] = stored_comments(live_server.app)
    assert comment.state is CommentState.HELD
    assert comment.risk >= 0.90


def test_an_empty_comment_is_refused_with_a_field_error_and_nothing_is_stored(
    page: Page, live_server
):
    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    page.get_by_label("Name").fill("Jo Reader")
    with page.expect_response(
        lambda response: response.request.method == "POST" and "/comments" in response.url
    ) as posted:
        page.get_by_role("button", name="Post Comment").click()

    assert posted.value.status == 400
    body = page.get_by_label("Comment", exact=True)
    expect(page.locator(".field.has-error .error")).to_have_text(
        "Please write a comment before posting."
    )
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("Jo Reader")  # what was typed is kept
    expect(page.locator(".comment-count")).to_have_text("0 Comments")
    assert stored_comments(live_server.app) == []


def test_a_moderator_signs_in_and_works_the_queue_riskiest_first(page: Page, live_server):
    app = live_server.app
    with app.app_context():
        article = db.session.execute(
            db.select(Article).where(Article.slug == live_server.article_slug)
        ).scalar_one()
        make_comment(article, CLEAN, author_name="Kind Reader")
        make_comment(article, RUDE_QUEUED, author_name="Grumbler")
        make_comment(article, RUDE_HELD, author_name="Sceptic")
        make_comment(article, PROFANE_PRAISE, author_name="Fan")
        db.session.commit()
        db.session.remove()
    wait_until(lambda: all_scored(app), what="the worker to score the seeded comments")

    page.goto(live_server.url("/queue/"))
    expect(page).to_have_url(re.compile(r"/login\?next="))  # the queue is not public
    page.get_by_label("Username").fill(live_server.username)
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(live_server.url("/queue/"))
    expect(page.locator(".masthead .who")).to_contain_text(live_server.username)
    cards = page.locator("ol.queue > li.card")
    expect(cards).to_have_count(3)  # the clean comment was published without a moderator
    expect(page.locator("ol.queue")).not_to_contain_text(CLEAN)

    first = cards.first
    expect(first.locator(".comment-body")).to_have_text(PROFANE_PRAISE)
    expect(first.locator(".author")).to_have_text("Fan")
    expect(first.locator(".scored-by")).to_contain_text("Scored by alt-profanity-check")
    risks = [float(text.removeprefix("risk ")) for text in cards.locator(".risk").all_inner_texts()]
    assert len(risks) == 3
    assert risks[0] == max(risks), risks
    assert risks == sorted(risks, reverse=True), risks
    # Held (reject band) before queued, each riskiest first.
    expect(cards.locator(".comment-body")).to_have_text([PROFANE_PRAISE, RUDE_HELD, RUDE_QUEUED])
    expect(cards.locator(".badge")).to_have_text(["held", "held", "queued"])

    # The riskiest is swearing in praise: the moderator approves it.
    first.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash-success")).to_have_text("Approved the comment by Fan.")
    expect(cards).to_have_count(2)
    expect(page.locator("ol.queue")).not_to_contain_text(PROFANE_PRAISE)

    following = cards.first
    expect(following.locator(".comment-body")).to_have_text(RUDE_HELD)
    following.locator("select[name=reason]").select_option("harassment")
    following.get_by_role("button", name="Reject").click()
    expect(page.locator(".flash-success")).to_have_text("Rejected the comment by Sceptic.")
    expect(cards).to_have_count(1)
    expect(cards.locator(".comment-body")).to_have_text([RUDE_QUEUED])

    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    expect(page.locator(".comment-count")).to_have_text("2 Comments")
    bodies = page.locator(".comment-list .comment-body")
    expect(bodies).to_have_text([PROFANE_PRAISE, CLEAN])  # newest first
    expect(page.get_by_text(RUDE_HELD)).to_have_count(0)

    with app.app_context():
        decisions = db.session.execute(
            db.select(Decision).where(Decision.actor_id.is_not(None)).order_by(Decision.id)
        ).scalars().all()
        recorded = [(d.actor_id, d.comment.body, d.from_state, d.to_state, d.reason)
                    for d in decisions]
        db.session.remove()
    assert recorded == [
        (live_server.moderator_id, PROFANE_PRAISE, CommentState.HELD, CommentState.APPROVED,
         None),
        (live_server.moderator_id, RUDE_HELD, CommentState.HELD, CommentState.REJECTED,
         "harassment"),
    ]
