"""A reader and a moderator meet the day's rough edges in Chromium: posting too often keeps the
typed comment, every page has an icon, and the decision log shows a decision with its undo as
one row. Waits on the page's state, never on time."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import Comment, CommentState, User
from moderation.services.decide import decide, undo
from tests.browser.server import all_scored, wait_until
from tests.browser.test_journeys import post_comment
from tests.factories import PASSWORD, make_comment

pytestmark = pytest.mark.browser


def test_posting_too_often_keeps_the_typed_comment_and_says_why(page: Page, live_server):
    live_server.app.config["MODERATION_POST_LIMIT"] = "1 per minute"
    post_comment(page, live_server, "Jo", "A first, friendly remark about the plan.")
    expect(page.locator(".posted-status")).to_be_visible()
    second = "A second remark, typed with care, that must not be lost."
    page.get_by_label("Comment", exact=True).fill(second)
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".form-refusal")).to_be_visible()
    expect(page.get_by_label("Comment", exact=True)).to_have_value(second)
    expect(page).to_have_url(live_server.url(f"/articles/{live_server.article_slug}"))


def test_every_page_has_an_icon(page: Page, live_server):
    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    href = page.locator('link[rel="icon"]').get_attribute("href")
    answer = page.request.get(live_server.url(href))
    assert answer.status == 200 and "svg" in answer.headers["content-type"]
    assert page.request.get(live_server.url("/favicon.ico")).status == 200


def test_the_log_shows_a_decision_and_its_undo_as_one_row(page: Page, live_server):
    app = live_server.app
    with app.app_context():
        from moderation.models import Article

        article = db.session.execute(
            db.select(Article).where(Article.slug == live_server.article_slug)).scalar_one()
        comment = make_comment(article, "Borderline remark", author_name="Quay St",
                               state=CommentState.QUEUED, risk=0.5)
        maria = db.session.execute(db.select(User).where(User.username == "maria")).scalar_one()
        decide(comment, maria, "approve")
        db.session.commit()
        undo(db.session.get(Comment, comment.id), maria)
        db.session.commit()
        db.session.remove()
    page.goto(live_server.url("/login?next=/decisions/"))
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The moderator's decision and its undo are one row (the worker may also band the comment:
    # that is a policy's row of its own).
    mine = page.locator("table.decision-log tbody tr", has_text="Borderline remark").filter(
        has_text="maria")
    expect(mine).to_have_count(1)
    rows = mine
    expect(rows).to_contain_text("approved by maria")
    expect(rows.locator("span.undone")).to_contain_text("undone")
    expect(rows).to_contain_text("Quay St")
    # A table row, not a block: its cells line up with the header's columns.
    assert rows.evaluate("r => getComputedStyle(r).display") == "table-row"


def test_the_demo_reads_like_a_real_site_not_all_just_now(page: Page, live_server):
    from moderation.models import utcnow
    from moderation.services.demo import ARTICLES, seed_articles

    app = live_server.app
    with app.app_context():
        seed_articles(utcnow())
        db.session.commit()
        db.session.remove()
    # The worker publishes the friendly ones; the first article then shows their times.
    wait_until(lambda: all_scored(app), what="the worker to score the demo comments")
    page.goto(live_server.url(f"/articles/{ARTICLES[0]['slug']}"))
    times = page.locator(".comment-list time")
    expect(times.first).to_be_visible()
    shown = set(times.all_inner_texts())
    assert len(shown) > 1 and shown != {"just now"}, shown
