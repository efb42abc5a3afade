"""A moderator bans an author from the comment's page in a real browser; the author comes back
under a new name with the same email and is refused, with a message that says so."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Sanction, utcnow
from tests.factories import make_comment

pytestmark = pytest.mark.browser


def test_a_banned_author_who_renames_is_refused(page: Page, live_server):
    app = live_server.app
    with app.app_context():
        article = db.session.execute(
            db.select(Article).where(Article.slug == live_server.article_slug)).scalar_one()
        comment = make_comment(article, "We know where you park.", author_name="Skeptic",
                               author_email="skeptic@example.org",
                               state=CommentState.APPROVED, risk=0.4, scored_at=utcnow())
        db.session.commit()
        comment_id = comment.id
        db.session.remove()

    page.goto(live_server.url(f"/login?next=/decisions/comments/{comment_id}"))
    page.get_by_label("Username").fill(live_server.username)
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Hold, suspend or ban the author").click()
    page.get_by_label("Sanction").select_option("ban")
    page.get_by_label("Their email").check()
    page.get_by_label("Why").fill("threatened a reporter")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".flash-success")).to_contain_text("Banned Skeptic")
    expect(page.locator(".author-now")).to_contain_text("same email as “Skeptic”")

    reader = page.context.browser.new_page()
    reader.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    reader.get_by_label("Name").fill("Skeptic2")
    reader.get_by_label("Email").fill("SKEPTIC@example.org")
    reader.get_by_label("Comment", exact=True).fill("Just a harmless question.")
    reader.get_by_role("button", name="Post Comment").click()
    expect(reader.locator("body")).to_contain_text("You can no longer comment on this site.")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Comment.id)).where(
            Comment.author_name == "Skeptic2")).scalar_one() == 0
        assert db.session.execute(db.select(Sanction.kind)).scalar_one() == "ban"
        db.session.remove()
    reader.close()
