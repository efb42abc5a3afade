"""The workspace with its script, in a real browser: the bulk bar appears only with a
selection, a refused reject says why on its card with the focus there, and compact density is
one line per comment, the card in focus open, remembered across page loads."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_keyboard import seed

pytestmark = pytest.mark.browser


def signed_in(page: Page, live_server) -> dict[str, int]:
    ids = seed(live_server.app, live_server.article_slug)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url("/login?next=/queue/"))
    page.get_by_label("Username").fill(live_server.username)
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url("/queue/"))
    expect(page.locator("body")).to_have_attribute("data-keyboard-ready", "true")
    return ids


def test_the_bulk_bar_shows_only_while_something_is_selected(page: Page, live_server):
    ids = signed_in(page, live_server)
    bar = page.locator("#bulk")
    expect(bar).to_be_hidden()
    page.locator(f"#select-{ids['Birch']}").check()
    expect(bar).to_be_visible()
    expect(page.locator("#selected-count")).to_have_text("1")
    # One compact line that stays in view while the cards scroll under it.
    box = bar.bounding_box()
    assert box is not None and box["height"] < 60, box
    assert bar.evaluate("form => getComputedStyle(form).position") == "sticky"
    page.locator(f"#select-{ids['Birch']}").uncheck()
    expect(bar).to_be_hidden()
    page.locator("#select-page").check()
    expect(page.locator("#selected-count")).to_have_text(str(len(ids)))
    expect(bar).to_be_visible()


def test_a_refused_reject_says_why_on_its_card_and_keeps_the_focus_there(
        page: Page, live_server):
    ids = signed_in(page, live_server)
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url)
            if frame == page.main_frame else None)
    card = page.locator(f"#card-{ids['Cedar']}")
    card.get_by_role("button", name="Reject").click()
    error = card.locator(".card-error")
    expect(error).to_have_text("Choose a reason for rejecting.")
    expect(card.locator("select[name=reason]")).to_be_focused()
    expect(card.locator("select[name=reason]")).to_have_attribute("aria-invalid", "true")

    card.locator("select[name=reason]").select_option("other")
    expect(error).to_have_count(0)  # a new choice clears the old complaint
    card.get_by_role("button", name="Reject").click()
    expect(error).to_have_text("Rejecting for “other” needs a note saying why.")
    expect(card.locator("input[name=note]")).to_be_focused()
    expect(page.locator(".flash-error")).to_have_count(0)  # nothing in the banner

    page.keyboard.type("Selling something")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_have_text("Rejected the comment by Cedar.")
    expect(card).to_have_count(0)
    assert loads == []  # all of it without a page load


def test_compact_density_is_one_line_each_and_opens_the_card_in_focus(page: Page, live_server):
    ids = signed_in(page, live_server)
    queue = page.locator("ol.queue")
    expect(queue).not_to_have_class("queue compact")
    page.locator("[data-density-toggle]").click()
    expect(queue).to_have_class("queue compact")
    hazel = page.locator(f"#card-{ids['Hazel']}")
    expect(hazel.locator(".actions")).to_be_hidden()
    expect(hazel.locator(".top-labels")).to_be_visible()
    box = hazel.bounding_box()
    assert box is not None and box["height"] < 50, box

    page.keyboard.press("j")  # the first card takes the focus and opens
    first = page.locator(f"#card-{ids['Ash']}")
    expect(first).to_be_focused()
    expect(first.locator(".actions")).to_be_visible()
    expect(hazel.locator(".actions")).to_be_hidden()

    page.reload()
    expect(page.locator("body")).to_have_attribute("data-keyboard-ready", "true")
    expect(page.locator("ol.queue")).to_have_class("queue compact")
    page.locator("[data-density-toggle]").click()
    expect(page.locator("ol.queue")).to_have_class("queue")
    expect(hazel.locator(".actions")).to_be_visible()


def test_filters_take_0_99_suggest_headlines_and_counts_say_n_of_all(page: Page, live_server):
    signed_in(page, live_server)
    filters = page.get_by_role("search", name="Filter the queue")
    # The browser's own validation accepts two decimals (it refused 0.99 with step 0.05).
    at_least = filters.locator('input[name="label_min"]')
    at_least.fill("0.99")
    assert at_least.evaluate("input => input.checkValidity()") is True
    # The article box offers headlines, submitting the slug.
    options = page.locator("#article-choices option")
    expect(options.first).to_have_attribute("value", live_server.article_slug)
    assert options.first.get_attribute("label")  # the headline
    filters.locator('input[name="article"]').fill(live_server.article_slug)
    filters.locator('input[name="label_min"]').fill("")
    filters.get_by_role("button", name="Apply").click()
    expect(page.locator("ul.counts.filtered")).to_be_visible()
    expect(page.locator("ul.counts .count-total").first).to_be_visible()
    expect(page.locator("ul.counts")).to_contain_text(" of ")
