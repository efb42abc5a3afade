"""A moderator's own security in a real browser: the strength meter while typing a new
password, and signing a second browser out from the account page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def sign_in(page: Page, live_server, next_path: str = "/queue/") -> None:
    page.goto(live_server.url(f"/login?next={next_path}"))
    page.get_by_label("Username").fill(live_server.username)
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url(next_path))


def test_the_meter_judges_a_new_password_while_it_is_typed(page: Page, live_server):
    sign_in(page, live_server, "/account/password")
    meter = page.locator("#new_password-strength")
    page.get_by_label("New password", exact=True).fill("password1234")
    expect(meter).to_have_attribute("data-acceptable", "no")
    expect(meter).to_contain_text("not accepted")
    page.get_by_label("New password", exact=True).fill("plum kettle orbit stone")
    expect(meter).to_have_attribute("data-acceptable", "yes")
    expect(meter).to_contain_text("Strength: very strong")


def test_sign_out_everywhere_else_ends_the_other_browser(page: Page, live_server, browser):
    other = browser.new_context().new_page()
    sign_in(other, live_server)
    sign_in(page, live_server, "/account/")
    expect(page.locator("table.devices tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.locator(".flash-success")).to_contain_text("Signed out 1 other device")
    expect(page.locator("table.devices tbody tr")).to_have_count(1)
    other.reload()
    expect(other).to_have_url(live_server.url("/login?next=%2Fqueue%2F"))
    other.context.close()
