"""An admin's day in Chromium: a policy save without a note keeps the replay, a pasted word
list with endings catches a plural, and deactivating a moderator asks first. Each waits on the
page's state, never on time."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import Role, User
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _sign_in_admin(page: Page, live_server, next_path: str) -> None:
    with live_server.app.app_context():
        make_user("ada", role=Role.ADMIN)
        make_user("sam", role=Role.MODERATOR)
        db.session.commit()
        db.session.remove()
    page.goto(live_server.url(f"/login?next={next_path}"))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url(next_path))


def test_a_save_without_a_note_says_so_beside_the_note_and_keeps_the_replay(
        page: Page, live_server):
    _sign_in_admin(page, live_server, "/admin/policy")
    expect(page.locator("#policy-form[data-live]")).to_have_count(1)  # the script listens
    page.get_by_label("toxicity reject-at", exact=True).fill("0.80")
    expect(page.locator(".replay-changes")).to_contain_text("toxicity reject at: 0.90 → 0.80")
    page.get_by_role("button", name="Save as version 2").click()

    error = page.locator(".error", has_text="Say in a note why the policy changes")
    expect(error).to_be_visible()
    # Beside the note field, not in a banner at the top.
    assert error.evaluate("e => e.closest('form') !== null")
    expect(page.locator(".replay-changes")).to_contain_text("toxicity reject at: 0.90 → 0.80")
    expect(page.get_by_label("toxicity reject-at", exact=True)).to_have_value("0.80")


def test_a_pasted_list_with_endings_catches_a_plural_in_the_try_box(page: Page, live_server):
    _sign_in_admin(page, live_server, "/admin/words")
    expect(page.locator(".lists-start-empty")).to_contain_text("Both lists start empty")
    page.get_by_label("Words or phrases, one per line").fill("idiot\nclown")
    page.get_by_label("Also match plurals and endings").check()
    page.get_by_role("button", name="Add").click()
    expect(page.locator("table.words td.word", has_text="idiot")).to_contain_text("+ endings")
    expect(page.locator("table.words td.word", has_text="clown")).to_be_visible()

    page.get_by_label("Text", exact=True).fill("Idiots! All of them.")
    page.get_by_role("button", name="Try").click()
    expect(page.locator(".try-result mark")).to_contain_text("Idiots")


def test_deactivating_a_moderator_asks_first_and_only_the_ticked_box_does_it(
        page: Page, live_server):
    _sign_in_admin(page, live_server, "/admin/users")
    page.locator("tr", has_text="sam").get_by_role("link", name="Deactivate…").click()
    expect(page.get_by_role("button", name="Deactivate sam")).to_be_visible()
    page.get_by_label("Yes, deactivate sam").check()
    page.get_by_role("button", name="Deactivate sam").click()
    expect(page.locator(".flash")).to_contain_text("Deactivated sam")
    with live_server.app.app_context():
        try:
            sam = db.session.execute(db.select(User).where(User.username == "sam")).scalar_one()
            assert sam.active is False
        finally:
            db.session.remove()


def _save_version_2(page: Page) -> None:
    # The deferred script must be listening before the change, or no replay is asked for.
    expect(page.locator("#policy-form[data-live]")).to_have_count(1)
    page.get_by_label("toxicity reject-at", exact=True).fill("0.80")
    expect(page.locator(".replay-changes")).to_contain_text("0.90 → 0.80")
    page.get_by_label("Why this change").fill("Hold more name-calling")
    page.get_by_role("button", name="Save as version 2").click()
    expect(page.locator(".flash")).to_be_visible()


def test_re_activating_shows_its_replay_and_needs_a_note_and_any_two_versions_compare(
        page: Page, live_server):
    _sign_in_admin(page, live_server, "/admin/policy")
    _save_version_2(page)

    page.goto(live_server.url("/admin/policy/versions"))
    page.get_by_role("button", name="Compare on history").click()
    expect(page.locator("h1")).to_have_text("Version 1 and version 2")

    page.goto(live_server.url("/admin/policy/versions"))
    page.get_by_role("link", name="Re-activate version 1…").click()
    expect(page.locator("h1")).to_have_text("Re-activate version 1?")
    expect(page.locator("#replay")).to_be_visible()
    page.get_by_role("button", name="Re-activate version 1 as version 3").click()
    expect(page.locator(".field.has-error .error")).to_be_visible()  # no note: nothing saved
    page.get_by_label("Why re-activate version 1").fill("Version 2 held ordinary comments")
    page.get_by_role("button", name="Re-activate version 1 as version 3").click()

    page.goto(live_server.url("/admin/"))
    changes = page.locator("main")
    expect(changes).to_contain_text(
        "ada changed the toxicity reject threshold from 0.90 to 0.80 (policy v2)")
    expect(changes).to_contain_text("ada re-activated policy v1 (saved as v3)")
    expect(changes).not_to_contain_text("policy.save")


def test_the_tokens_page_shows_scope_and_status_in_their_own_columns(page: Page, live_server):
    _sign_in_admin(page, live_server, "/account/tokens")
    page.get_by_label("Name").fill("CMS sync")
    page.get_by_label("What it may do").select_option("publisher")
    page.get_by_role("button", name="Create token").click()
    row = page.locator("table.tokens tbody tr", has_text="CMS sync")
    expect(row.locator("td.scope")).to_contain_text("articles only (publisher)")
    expect(row.locator("td.status")).to_contain_text("active")
    expect(row.locator("td.status").get_by_role("button")).to_have_count(0)
    expect(row.locator("td.revoke").get_by_role("button", name="Revoke")).to_be_visible()


def test_a_moderator_gets_an_email_and_closing_an_article_reads_plainly(
        page: Page, live_server):
    _sign_in_admin(page, live_server, "/admin/users")
    page.get_by_label("Email of sam").fill("sam@news.example")
    page.locator("tr", has_text="sam").locator("td.email").get_by_role(
        "button", name="Save").click()
    expect(page.get_by_label("Email of sam")).to_have_value("sam@news.example")

    with live_server.app.app_context():
        from moderation.models import Article, CommentState, utcnow
        from tests.factories import make_comment

        article = db.session.execute(
            db.select(Article).where(Article.slug == live_server.article_slug)).scalar_one()
        # Already scored and queued: the live server's worker leaves it where it is.
        make_comment(article, "Waiting for a look", state=CommentState.QUEUED, risk=0.5,
                     scored_at=utcnow())
        headline = article.headline
        db.session.commit()
        db.session.remove()
    page.goto(live_server.url("/admin/articles"))
    row = page.locator("tr", has_text=headline)
    row.get_by_label("Comments open").uncheck()
    row.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text(f"Comments on “{headline}” are now closed.")
    page.locator("tr", has_text=headline).locator("td.waiting a").click()
    expect(page).to_have_url(live_server.url(f"/queue/?article={live_server.article_slug}"))
    expect(page.locator("ol.queue")).to_contain_text("Waiting for a look")
