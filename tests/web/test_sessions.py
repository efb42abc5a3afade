"""Server-side staff sessions: a copied cookie dies with the session it was copied from."""

from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import ApiToken, SecurityEvent, StaffSession, User, utcnow
from tests.conftest import login
from tests.factories import PASSWORD

REMEMBER = "remember_token"


def signed_in(app, username="maria", remember=False):
    client = app.test_client()
    data = {"username": username, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.data
    return client


def copy_of(app, client, names=("session", REMEMBER)):
    """What a thief who copied the browser's cookies would hold."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def can_see_queue(client) -> bool:
    response = client.get("/queue/")
    if response.status_code == 200:
        assert "Moderation queue" in response.get_data(as_text=True)
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return False


def events(app, kind):
    with app.app_context():
        return db.session.execute(
            db.select(SecurityEvent).where(SecurityEvent.kind == kind)).scalars().all()


def test_a_copied_session_stops_working_when_its_owner_signs_out(app, moderator):
    owner = signed_in(app, remember=True)
    thief = copy_of(app, owner)
    assert can_see_queue(thief)
    owner.post("/logout")
    assert not can_see_queue(thief)
    assert not can_see_queue(owner)
    # The remember cookie alone does not bring it back either.
    assert not can_see_queue(copy_of(app, owner, names=(REMEMBER,)))
    assert len(events(app, "logout")) == 1


def test_a_password_change_signs_out_every_other_browser_but_this_one(app, moderator):
    laptop = signed_in(app, remember=True)
    phone = signed_in(app)
    stolen = copy_of(app, phone)
    new = "plum kettle orbit stone"
    response = laptop.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new, "confirm_password": new})
    assert response.status_code == 303
    assert can_see_queue(laptop)
    assert not can_see_queue(phone) and not can_see_queue(stolen)
    assert events(app, "password.changed")[0].detail["other_sessions_ended"] == 1


@pytest.mark.parametrize("how", ["reset", "deactivate"])
def test_an_admin_reset_or_deactivation_ends_sessions_and_tokens_for_good(app, admin_client,
                                                                         moderator, how):
    victim = signed_in(app, remember=True)
    stolen = copy_of(app, victim)
    raw = victim.post("/account/tokens", data={"name": "script"}).get_data(as_text=True)
    raw = raw.split('id="new-token">')[1].split("<")[0]
    bearer = {"Authorization": f"Bearer {raw}"}
    assert app.test_client().get("/api/v1/queue", headers=bearer).status_code == 200

    if how == "reset":
        assert admin_client.post(f"/admin/users/{moderator}/reset-password").status_code == 200
    else:
        assert admin_client.post(f"/admin/users/{moderator}/deactivate",
                                 data={"confirm": "y"}).status_code == 303
        assert admin_client.post(f"/admin/users/{moderator}/activate").status_code == 303

    assert not can_see_queue(stolen)
    assert not can_see_queue(victim)
    assert not can_see_queue(copy_of(app, victim, names=(REMEMBER,)))
    assert app.test_client().get("/api/v1/queue", headers=bearer).status_code == 401
    with app.app_context():
        assert all(row.revoked_at is not None
                   for row in db.session.execute(db.select(StaffSession)
                                                 .where(StaffSession.user_id == moderator))
                   .scalars())
        assert db.session.execute(db.select(ApiToken)).scalar_one().revoked_at is not None


def test_remember_me_is_random_hashed_rotated_on_use_and_works_once(app, moderator):
    first = signed_in(app, remember=True).get_cookie(REMEMBER)
    second = signed_in(app, remember=True).get_cookie(REMEMBER)
    assert first.value != second.value  # random per sign-in, not derived from the secret
    assert first.http_only and first.same_site == "Lax"
    expires_in = first.expires - utcnow().replace(tzinfo=first.expires.tzinfo)
    assert timedelta(days=13) < expires_in <= timedelta(days=14)
    with app.app_context():
        stored = db.session.execute(db.select(StaffSession.remember_hash)).scalars().all()
        assert first.value.split(".", 1)[1] not in stored  # only a hash is kept

    browser = app.test_client()
    browser.set_cookie(REMEMBER, first.value)  # the session cookie is gone (browser closed)
    assert can_see_queue(browser)
    rotated = browser.get_cookie(REMEMBER)
    assert rotated.value != first.value
    # A second tab reopening in the same moment presents the same cookie: still let in.
    tab = app.test_client()
    tab.set_cookie(REMEMBER, first.value)
    assert can_see_queue(tab)
    with app.app_context():  # ... but only for a few seconds after the rotation
        for row in db.session.execute(db.select(StaffSession)).scalars():
            if row.remember_rotated_at is not None:
                row.remember_rotated_at -= timedelta(seconds=11)
        db.session.commit()
    replay = app.test_client()
    replay.set_cookie(REMEMBER, first.value)
    assert not can_see_queue(replay)  # the used value is dead
    assert replay.get_cookie(REMEMBER) is None  # and the browser is told to drop it
    assert can_see_queue(tab)


def test_an_idle_session_with_remember_me_carries_on_in_a_fresh_session(app, moderator):
    browser = signed_in(app, remember=True)
    with app.app_context():
        row = db.session.execute(db.select(StaffSession)).scalar_one()
        row.last_seen_at = utcnow() - timedelta(minutes=app.config["MODERATION_IDLE_MINUTES"]
                                                + 1)
        db.session.commit()
    old_session = browser.get_cookie("session").value
    assert can_see_queue(browser)
    assert browser.get_cookie("session").value != old_session  # a new session id
    stale = app.test_client()
    stale.set_cookie("session", old_session)
    assert not can_see_queue(stale)  # the idle id itself stays dead


def test_signing_in_again_ends_the_session_this_browser_had(app, moderator, admin):
    browser = signed_in(app, remember=True)
    copied = copy_of(app, browser)
    assert login(browser, "ada", PASSWORD).status_code == 302
    assert not can_see_queue(copied)
    assert browser.get_cookie(REMEMBER) is None  # maria's remember cookie is dropped


def test_remember_me_expires(app, moderator):
    browser = signed_in(app, remember=True)
    cookie = browser.get_cookie(REMEMBER)
    with app.app_context():
        row = db.session.execute(db.select(StaffSession)).scalar_one()
        row.remember_expires_at = utcnow() - timedelta(seconds=1)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    later = app.test_client()
    later.set_cookie(REMEMBER, cookie.value)
    assert not can_see_queue(later)


@pytest.mark.parametrize("role_fixture,idle_key", [("moderator", "MODERATION_IDLE_MINUTES"),
                                                    ("admin", "MODERATION_IDLE_MINUTES_ADMIN")])
def test_a_session_idle_past_the_limit_or_past_its_lifetime_ends(app, request, role_fixture,
                                                                 idle_key):
    user_id = request.getfixturevalue(role_fixture)
    with app.app_context():
        username = db.session.get(User, user_id).username
    idle = signed_in(app, username)
    minutes = app.config[idle_key]
    with app.app_context():
        row = db.session.execute(db.select(StaffSession)).scalar_one()
        row.last_seen_at = utcnow() - timedelta(minutes=minutes - 1)
        db.session.commit()
    assert can_see_queue(idle)  # within the limit, and it counts as activity
    with app.app_context():
        row = db.session.execute(db.select(StaffSession)).scalar_one()
        row.last_seen_at = utcnow() - timedelta(minutes=minutes + 1)
        db.session.commit()
    assert not can_see_queue(idle)
    with app.app_context():
        assert db.session.execute(db.select(StaffSession)).scalar_one().revoked_reason == "idle"

    old = signed_in(app, username)
    with app.app_context():
        row = db.session.execute(
            db.select(StaffSession).where(StaffSession.revoked_at.is_(None))).scalar_one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert not can_see_queue(old)


def test_the_account_page_lists_devices_and_signs_the_others_out(app, moderator):
    here = signed_in(app)
    phone = app.test_client()
    phone.post("/login", data={"username": "maria", "password": PASSWORD},
               headers={"User-Agent": "Mozilla/5.0 (iPhone) Safari/604.1"})
    tablet = signed_in(app)
    page = here.get("/account/").get_data(as_text=True)
    assert page.count('id="device-') == 3 and "Safari on iPhone" in page
    assert "(this browser)" in page
    with app.app_context():
        phone_row = db.session.execute(db.select(StaffSession).where(
            StaffSession.user_agent.contains("iPhone"))).scalar_one()
    assert here.post(f"/account/sessions/{phone_row.id}/end").status_code == 303
    assert not can_see_queue(phone) and can_see_queue(tablet)
    assert here.post("/account/sessions/end-others").status_code == 303
    assert not can_see_queue(tablet) and can_see_queue(here)
    assert here.get("/account/").get_data(as_text=True).count('id="device-') == 1


def test_a_user_cannot_end_someone_else_s_session(app, moderator, admin):
    admin_browser = signed_in(app, "ada")
    with app.app_context():
        admin_row = db.session.execute(db.select(StaffSession)).scalar_one()
    maria = signed_in(app)
    assert maria.post(f"/account/sessions/{admin_row.id}/end").status_code == 404
    assert can_see_queue(admin_browser)


def test_signed_in_answers_are_never_cached_and_carry_no_server_banner(app, moderator_client):
    for url in ("/queue/", "/account/", "/api/v1/queue", "/decisions/export.csv"):
        response = moderator_client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "Werkzeug" not in response.headers.get("Server", ""), url
        response.close()  # the CSV streams: let its request end
    assert "no-store" not in app.test_client().get("/").headers.get("Cache-Control", "")


def test_sign_in_starts_a_new_session_so_a_planted_cookie_is_useless(app, moderator):
    browser = app.test_client()
    browser.get("/login")
    planted = browser.get_cookie("session")
    login(browser, "maria", PASSWORD)
    assert browser.get_cookie("session").value != (planted.value if planted else None)
    attacker = app.test_client()
    if planted is not None:
        attacker.set_cookie("session", planted.value)
    assert not can_see_queue(attacker)


@pytest.fixture
def https_app(database_url):
    from moderation import create_app
    from tests.conftest import base_config

    return create_app(base_config(database_url, MODERATION_SECURE_COOKIES=True))


def test_over_https_cookies_are_host_prefixed_and_secure_and_hsts_is_sent(https_app):
    from tests.factories import make_user

    with https_app.app_context():
        make_user("maria")
        db.session.commit()
    browser = https_app.test_client()
    page = browser.get("/login", base_url="https://localhost")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    response = browser.post("/login", base_url="https://localhost", data={
        "username": "maria", "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookies = {header.split("=", 1)[0]: header for header in
               response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"__Host-session", "__Host-remember_token", "__Host-device"}
    for header in cookies.values():
        assert "Secure" in header and "HttpOnly" in header and "Path=/" in header
        assert "Domain" not in header
    assert browser.get("/queue/", base_url="https://localhost").status_code == 200
