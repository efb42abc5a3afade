"""A reader with JavaScript posts and stays on the article: told the comment is being checked,
then what became of it, with the form ready for another. Mistakes are shown in the form with
the text kept."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_journeys import CLEAN, stored_comments

pytestmark = pytest.mark.browser


def test_a_reader_posts_stays_on_the_article_and_sees_the_comment_published(
        page: Page, live_server_without_worker, start_worker):
    server = live_server_without_worker
    article_url = server.url(f"/articles/{server.article_slug}")
    page.goto(article_url)
    expect(page.locator(".comment-count")).to_have_text("0 Comments")
    page.get_by_label("Name").fill("Jo Reader")
    page.get_by_label("Comment", exact=True).fill(CLEAN)
    page.get_by_role("button", name="Post Comment").click()

    status = page.locator(".posted-status")
    expect(status).to_contain_text("Thanks — your comment is being checked")
    expect(status).to_contain_text("usually within minutes")
    expect(page).to_have_url(article_url)
    expect(page.get_by_label("Comment", exact=True)).to_have_value("")  # ready for another
    expect(page.get_by_label("Name")).to_have_value("Jo Reader")

    start_worker(server.app)  # nothing is banded until now, so "being checked" was certain
    expect(status).to_contain_text("Your comment is published.")
    expect(page).to_have_url(article_url)
    expect(page.locator(".comment-count")).to_have_text("1 Comment")
    expect(page.locator(".comment-list .comment-body")).to_have_text([CLEAN])

    status.get_by_role("link", name="See it under the article").click()
    expect(page.locator(".comment-list li.comment:target .comment-body")).to_have_text(CLEAN)

    # The form posts again, in place.
    page.get_by_label("Comment", exact=True).fill("And a second thought on the barrier.")
    page.get_by_role("button", name="Post Comment").click()
    expect(status).to_contain_text("Your comment is published.")
    expect(page.locator(".comment-count")).to_have_text("2 Comments")
    assert len(stored_comments(server.app)) == 2


def test_a_server_refusal_is_shown_in_the_form_with_the_text_kept(page: Page, live_server):
    page.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    page.get_by_label("Name").fill("Jo Reader")
    page.get_by_label("Email").fill("not an address")
    page.get_by_label("Comment", exact=True).fill(CLEAN)
    with page.expect_response(
        lambda response: response.request.method == "POST" and "/comments" in response.url
    ) as posted:
        page.get_by_role("button", name="Post Comment").click()

    assert posted.value.status == 400
    email = page.get_by_label("Email")
    expect(page.locator(".field.has-error .error")).to_have_text(
        "That does not look like an email address.")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Comment", exact=True)).to_have_value(CLEAN)
    expect(email).to_have_value("not an address")
    expect(page.locator(".posted-status")).to_be_hidden()
    assert stored_comments(live_server.app) == []

    # Corrected, it goes through and the old message goes away.
    email.fill("")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".posted-status")).to_contain_text("being checked")
    expect(page.locator(".field.has-error")).to_have_count(0)
    expect(email).not_to_have_attribute("aria-invalid", "true")


def test_without_javascript_a_post_still_lands_on_the_comments_own_page(page: Page,
                                                                        live_server):
    reader = page.context.browser.new_page(java_script_enabled=False)
    reader.goto(live_server.url(f"/articles/{live_server.article_slug}"))
    reader.get_by_label("Name").fill("Jo Reader")
    reader.get_by_label("Comment", exact=True).fill(CLEAN)
    reader.get_by_role("button", name="Post Comment").click()
    expect(reader).to_have_url(re.compile(r"/comments/[\w-]+(#.*)?$"))
    expect(reader.locator("h1")).to_have_text("Your comment is published")
    reader.close()
