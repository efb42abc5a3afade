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


def test_two_step_sign_in_from_setup_to_the_next_sign_in(page: Page, live_server):
    import time

    import pyotp

    sign_in(page, live_server, "/account/two-step")
    expect(page.locator(".qr svg")).to_be_visible()  # the QR code, inline, under our CSP
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("The 6-digit code your app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    codes = page.locator(".recovery-codes code")
    expect(codes).to_have_count(10)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Moderator sign in")).to_be_visible()

    page.goto(live_server.url("/login?next=/queue/"))
    page.get_by_label("Username").fill(live_server.username)
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url("/login/code"))
    # A code is good once, so not the setup's: the next step's, which the server accepts
    # (one step of clock drift either way) and which is later than the one used.
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(next_code)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url("/queue/"))
    expect(page.locator("h1")).to_contain_text("Moderation queue")
