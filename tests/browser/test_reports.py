"""A reader who sees something wrong, in a real browser: they report a published comment, it
reaches the Reported band, a moderator takes it down and it leaves the article; three readers'
reports hide a comment on their own."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import Article, CommentState, utcnow
from tests.factories import make_comment

pytestmark = pytest.mark.browser

THREAT = "Keep writing like this and we will find out where your editor lives."
CALM = "The barrier should have been built ten years ago."


def published(app, slug: str, body: str) -> int:
    with app.app_context():
        article = db.session.execute(db.select(Article).where(Article.slug == slug)).scalar_one()
        comment = make_comment(article, body, state=CommentState.APPROVED, risk=0.3,
                               scored_at=utcnow())
        db.session.commit()
        try:
            return comment.id
        finally:
            db.session.remove()


def report(page: Page, live_server, body: str, reason: str) -> None:
    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    page.locator("li.comment", has_text=body).get_by_role("link", name="Report").click()
    page.get_by_label(reason).check()
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator(".report-answer")).to_contain_text("Thank you")


def test_a_reported_threat_reaches_a_moderator_who_takes_it_down(page: Page, live_server):
    published(live_server.app, live_server.article_slug, THREAT)
    published(live_server.app, live_server.article_slug, CALM)

    report(page, live_server, THREAT, "A threat of violence")

    page.goto(live_server.url("/login?next=/queue/%3Fband%3Dreported"))
    page.get_by_label("Username").fill(live_server.username)
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    card = page.locator("li.card").filter(has=page.locator(".comment-body", has_text=THREAT))
    expect(card.locator(".reports")).to_contain_text("Reported 1×: A threat of violence")
    expect(page.locator("li.card .comment-body", has_text=CALM)).to_have_count(0)
    card.locator(".remove-form select[name=reason]").select_option("threat")
    card.get_by_role("button", name="Take down").click()
    expect(page.locator(".flash-success")).to_contain_text("Removed the comment")

    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    expect(page.locator(".comment-list")).not_to_contain_text(THREAT)
    expect(page.locator(".comment-list")).to_contain_text(CALM)


def test_three_readers_reports_hide_a_comment(page: Page, live_server):
    from moderation.models import Comment
    from moderation.services import reports

    comment_id = published(live_server.app, live_server.article_slug, THREAT)
    with live_server.app.app_context():  # two other readers reported it already
        comment = db.session.get(Comment, comment_id)
        for reader in ("reader-1", "reader-2"):
            reports.report(comment, reports.reporter_key(reader, "x"), "threat")
        db.session.commit()
        assert comment.state is CommentState.APPROVED
        db.session.remove()

    report(page, live_server, THREAT, "Harassment or bullying")

    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    expect(page.locator(".comment-list")).not_to_contain_text(THREAT)
