"""An admin tunes the policy in a real browser: lowers a threshold, watches the replay change
as they type, saves, and the next comment is banded by the new version. The worker scores
with the real embedded model."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Decision, Role
from tests.browser.server import all_scored, wait_until
from tests.browser.test_journeys import (
    CLEAN,
    RUDE_HELD,
    RUDE_QUEUED,
    VERDICT_TIMEOUT_MS,
    post_comment,
)
from tests.factories import PASSWORD, make_comment, make_user

pytestmark = pytest.mark.browser


def _risks(app) -> dict[str, tuple[float, CommentState]]:
    with app.app_context():
        try:
            rows = db.session.execute(db.select(Comment.body, Comment.risk, Comment.state)
                                      .where(Comment.author_name == "Seed")).all()
            return {body: (risk, state) for body, risk, state in rows}
        finally:
            db.session.remove()


def test_an_admin_lowers_a_threshold_sees_the_replay_and_new_comments_follow(
        page: Page, live_server):
    app = live_server.app
    with app.app_context():
        article = db.session.execute(
            db.select(Article).where(Article.slug == live_server.article_slug)).scalar_one()
        for body in (CLEAN, RUDE_QUEUED, RUDE_HELD):
            make_comment(article, body, author_name="Seed")
        make_user("ada", role=Role.ADMIN)
        db.session.commit()
        db.session.remove()
    wait_until(lambda: all_scored(app), what="the worker to score the seeded comments")
    risks = _risks(app)
    queued_risk, queued_state = risks[RUDE_QUEUED]
    assert queued_state is CommentState.QUEUED  # between approve (0.30) and reject (0.90)
    # A reject threshold just under the queued comment's risk moves it to the reject band.
    lowered = f"{int(queued_risk * 100) / 100:.2f}"
    assert 0.30 < float(lowered) <= queued_risk

    page.goto(live_server.url("/login?next=/admin/policy"))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url("/admin/policy"))

    reject_now = page.locator('td[data-proposed="reject"]')
    before = int(reject_now.inner_text())
    # The deferred script must be listening before the change, or no replay is asked for.
    expect(page.locator("#policy-form[data-live]")).to_have_count(1)
    page.get_by_label("toxicity reject-at", exact=True).fill(lowered)
    # The replay refreshes itself (no Preview click): one more comment lands in the reject band.
    expect(reject_now).to_have_text(str(before + 1))
    expect(page.locator(".replay-changes")).to_contain_text(
        f"toxicity reject at: 0.90 → {lowered}")
    # Which comment moves, not only how many: the queued one, listed under its move.
    expect(page.locator('details[data-examples="into_reject"] li')).to_contain_text(
        RUDE_QUEUED[:40])

    page.get_by_label("Why this change").fill("Rude name-calling should be held")
    page.get_by_role("button", name="Save as version 2").click()
    expect(page).to_have_url(live_server.url("/admin/policy/versions"))
    expect(page.locator(".flash")).to_contain_text("Policy version 2 is active")
    expect(page.locator("#v2 .diff")).to_contain_text(f"toxicity reject at: 0.90 → {lowered}")

    post_comment(page, live_server, "Another Grumbler", RUDE_QUEUED)
    # The reader stays on the article; the result appears in the form's status area.
    status = page.locator(".posted-status")
    expect(status).to_contain_text("held for review", timeout=VERDICT_TIMEOUT_MS)
    status.get_by_role("link", name="Your comment's own page").click()
    expect(page.locator("h1")).to_have_text("Your comment is held for review")
    with app.app_context():
        try:
            newest = db.session.execute(
                db.select(Comment).order_by(Comment.id.desc()).limit(1)).scalar_one()
            decision = db.session.execute(
                db.select(Decision).where(Decision.comment_id == newest.id)).scalar_one()
            assert newest.state is CommentState.HELD and newest.policy.version == 2
            assert decision.policy.version == 2
        finally:
            db.session.remove()
    # The seeded comment that was queued stays queued: saving never re-bands silently.
    assert _risks(app)[RUDE_QUEUED][1] is CommentState.QUEUED


def test_without_javascript_the_preview_button_replays_the_proposal(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    with live_server.app.app_context():
        make_user("ada", role=Role.ADMIN)
        db.session.commit()
        db.session.remove()
    page.goto(live_server.url("/login?next=/admin/policy"))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("toxicity reject-at", exact=True).fill("0.5")
    page.get_by_role("button", name="Preview on history").click()
    expect(page).to_have_url(re.compile(r"/admin/policy\?.*toxicity_reject=0.5"))
    expect(page.locator(".replay-changes")).to_contain_text("toxicity reject at: 0.90 → 0.50")
    context.close()
