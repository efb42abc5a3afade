"""Sign-in under attack: per-account throttling, the cap on password checks, password
strength, two-step codes, re-authentication, token expiry and the security log."""

import re
import threading
import time
from datetime import timedelta

import pyotp
import pytest

from moderation import hashing
from moderation.extensions import db
from moderation.models import ApiToken, SecurityEvent, User, utcnow
from tests.conftest import login
from tests.factories import PASSWORD


def kinds(app, username=None):
    with app.app_context():
        query = db.select(SecurityEvent.kind).order_by(SecurityEvent.id)
        if username:
            query = query.where(SecurityEvent.username == username)
        return list(db.session.execute(query).scalars())


def from_address(client, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def app_config():
    # The first wait is long, so no test depends on how fast this machine answers.
    return {"MODERATION_LOGIN_FREE_FAILURES": 3, "MODERATION_LOGIN_BACKOFF_FIRST_SECONDS": 240,
            "MODERATION_LOGIN_BACKOFF_MAX_SECONDS": 300}


def test_many_addresses_guessing_one_account_are_throttled_and_logged(app, moderator):
    for n in range(3):
        guesser = from_address(app.test_client(), f"203.0.113.{n}")
        assert login(guesser, "maria", f"guess number {n}").status_code == 401
    fourth = from_address(app.test_client(), "198.51.100.7")
    refused = login(fourth, "maria", PASSWORD)  # even the right password waits now
    assert refused.status_code == 429
    assert 60 <= int(refused.headers["Retry-After"]) <= 300
    assert "Too many failed sign-ins for this account" in refused.get_data(as_text=True)
    assert fourth.get("/queue/").status_code == 302
    assert kinds(app, "maria") == ["login.failure"] * 3 + ["login.throttled"]
    # Another account is not affected.
    with app.app_context():
        from tests.factories import make_user

        make_user("noor")
        db.session.commit()
    assert login(app.test_client(), "noor", PASSWORD).status_code == 302


def test_the_wait_is_bounded_so_the_real_person_gets_back_in(app, moderator):
    from moderation.services.signin import wait_seconds

    def attack(ending):
        with app.app_context():
            for n in range(40):  # a long attack, every failure on record
                db.session.add(SecurityEvent(kind="login.failure", username="maria",
                                             created_at=ending - timedelta(seconds=40 - n)))
            db.session.commit()
            with app.test_request_context():
                return wait_seconds("maria")

    assert 0 < attack(utcnow()) <= 300  # 240 × 2^37 s uncapped: capped at 5 minutes
    # Five minutes after the last failure the real person signs in at the first try.
    with app.app_context():
        db.session.execute(db.delete(SecurityEvent))
        db.session.commit()
    assert attack(utcnow() - timedelta(seconds=301)) == 0
    assert login(app.test_client(), "maria", PASSWORD).status_code == 302


def test_too_many_password_checks_at_once_get_a_429_not_a_queue(app, moderator):
    app.config.update(MODERATION_PASSWORD_CHECKS=1, MODERATION_PASSWORD_CHECK_WAIT_SECONDS=0.05)
    with app.app_context():
        semaphore, _ = hashing._semaphore()
    assert semaphore.acquire(timeout=5)  # another sign-in is being checked
    try:
        busy = login(app.test_client(), "maria", PASSWORD)
    finally:
        semaphore.release()
    # At least 5 s (the per-address limiter may name a later time of its own).
    assert busy.status_code == 429 and int(busy.headers["Retry-After"]) >= 5
    assert "try again in a few seconds" in busy.get_data(as_text=True)
    assert login(app.test_client(), "maria", PASSWORD).status_code == 302


def test_parallel_wrong_passwords_never_run_more_checks_than_the_cap(app, moderator,
                                                                     monkeypatch):
    app.config.update(MODERATION_PASSWORD_CHECKS=2, MODERATION_PASSWORD_CHECK_WAIT_SECONDS=30,
                      MODERATION_LOGIN_FREE_FAILURES=1000)
    running, most = [0], [0]
    lock = threading.Lock()
    real = hashing.check_password_hash

    def counting(stored, password):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return real(stored, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(hashing, "check_password_hash", counting)
    statuses = []

    def attempt(n):
        statuses.append(login(app.test_client(), "maria", f"wrong {n}").status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [401] and len(statuses) == 12
    assert 1 <= most[0] <= 2


def test_weak_passwords_are_refused_with_a_reason_and_the_meter_says_why(app,
                                                                          moderator_client):
    for weak, why in (("short one", "12 to 1024 characters"),
                      ("password1234", "too easy to guess"),
                      ("qwertyuiopas", "too easy to guess")):
        response = moderator_client.post("/account/password", data={
            "current_password": PASSWORD, "new_password": weak, "confirm_password": weak})
        assert response.status_code == 400, weak
        assert why in response.get_data(as_text=True), weak
    meter = moderator_client.post("/account/password/strength", data={"password": "password1"})
    result = meter.get_json()
    assert result["acceptable"] is False and result["score"] <= 1 and result["suggestions"]
    good = moderator_client.post("/account/password/strength",
                                 data={"password": "plum kettle orbit stone"}).get_json()
    assert good["acceptable"] is True and good["score"] >= 3
    assert app.test_client().post("/account/password/strength",
                                  data={"password": "x"}).status_code == 302  # signed in only


def test_admins_must_set_up_two_step_sign_in_before_anything_else(app, admin):
    app.config["MODERATION_ADMIN_TOTP_REQUIRED"] = True
    browser = app.test_client()
    login(browser, "ada", PASSWORD)
    blocked = browser.get("/admin/")
    assert blocked.status_code == 302 and blocked.headers["Location"] == "/account/two-step"
    assert browser.get("/api/v1/queue").status_code == 403
    page = browser.get("/account/two-step").get_data(as_text=True)
    assert "<svg" in page
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    wrong = browser.post("/account/two-step", data={"code": "000000"})
    assert wrong.status_code == 400 and "does not match" in wrong.get_data(as_text=True)
    done = browser.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 201
    codes = re.findall(r"<li><code>([^<]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert browser.get("/admin/").status_code == 200
    assert "totp.enabled" in kinds(app, "ada")


def enable_two_step(app, user_id) -> str:
    from moderation.services import two_step

    secret = two_step.new_secret()
    with app.app_context():
        user = db.session.get(User, user_id)
        codes = two_step.enable(user, secret, pyotp.TOTP(secret).at(time.time() - 30))
        db.session.commit()
    return secret, codes


def test_a_two_step_account_needs_the_code_and_a_code_works_once(app, moderator):
    secret, _ = enable_two_step(app, moderator)
    browser = app.test_client()
    first = login(browser, "maria", PASSWORD)
    assert first.status_code == 303 and first.headers["Location"] == "/login/code"
    assert browser.get("/queue/").status_code == 302  # the password alone is not enough
    assert browser.post("/login/code", data={"code": "123456"}).status_code == 401
    code = pyotp.TOTP(secret).now()
    assert browser.post("/login/code", data={"code": code}).status_code == 302
    assert browser.get("/queue/").status_code == 200

    again = app.test_client()  # someone who saw the code over a shoulder
    login(again, "maria", PASSWORD)
    assert again.post("/login/code", data={"code": code}).status_code == 401
    assert again.get("/queue/").status_code == 302
    assert "totp.failure" in kinds(app, "maria")


def test_recovery_codes_work_once_each_and_wrong_codes_end_the_attempt(app, moderator):
    _, codes = enable_two_step(app, moderator)
    browser = app.test_client()
    login(browser, "maria", PASSWORD)
    assert browser.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
    assert "9 left" in browser.get("/queue/").get_data(as_text=True)
    reuse = app.test_client()
    login(reuse, "maria", PASSWORD)
    assert reuse.post("/login/code", data={"code": codes[0]}).status_code == 401
    assert "recovery.used" in kinds(app, "maria")
    # Wrong codes are failed sign-ins: the account's backoff stops a code guesser.
    for _ in range(2):
        assert reuse.post("/login/code", data={"code": "000000"}).status_code == 401
    throttled = reuse.post("/login/code", data={"code": codes[1]})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 60
    assert reuse.get("/queue/").status_code == 302


def test_five_wrong_codes_end_the_attempt_even_with_a_replayed_cookie(app, moderator):
    app.config["MODERATION_LOGIN_FREE_FAILURES"] = 1000
    enable_two_step(app, moderator)
    browser = app.test_client()
    login(browser, "maria", PASSWORD)
    saved = browser.get_cookie("session").value  # the try count travels in this cookie
    for _ in range(4):
        assert browser.post("/login/code", data={"code": "000000"}).status_code == 401
    ended = browser.post("/login/code", data={"code": "000000"})
    assert ended.status_code == 303 and ended.headers["Location"] == "/login"
    # Replaying the cookie from before the tries does not reset the account's count.
    app.config["MODERATION_LOGIN_FREE_FAILURES"] = 5
    browser.set_cookie("session", saved)
    assert browser.post("/login/code", data={"code": "000000"}).status_code == 429


def test_a_password_reset_ends_a_pending_two_step_sign_in(app, moderator, admin_client):
    secret, _ = enable_two_step(app, moderator)
    browser = app.test_client()
    login(browser, "maria", PASSWORD)
    admin_client.post(f"/admin/users/{moderator}/reset-password")
    gone = browser.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert gone.status_code == 303 and gone.headers["Location"] == "/login"
    assert browser.get("/queue/").status_code == 302


def test_every_admin_change_asks_for_a_recent_password(app, admin_client, admin):
    with admin_client.session_transaction() as session:
        session["auth_at"] = time.time() - 3600
    changes = [("/admin/words", {"term": "idiot", "list": "banned"}),
               ("/admin/policy", {"note": "x"}),
               ("/admin/policy/versions/1/activate", {}),
               ("/admin/imports", {}),
               ("/admin/articles/1/settings", {}),
               ("/admin/users", {"username": "zed", "role": "moderator"})]
    for url, data in changes:
        response = admin_client.post(url, data=data)
        assert response.status_code == 303, url
        assert response.headers["Location"].startswith("/confirm"), url
    token = admin_client.post("/account/tokens", data={"name": "script"}, headers={
        "Referer": "http://localhost/account/tokens"})
    assert token.status_code == 303 and token.headers["Location"].startswith("/confirm")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(ApiToken)).scalar() == 0
        assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 1
    assert admin_client.get("/admin/policy").status_code == 200  # reading needs no password


def test_a_token_can_expire_and_says_so(app, moderator_client):
    page = moderator_client.post("/account/tokens", data={"name": "weekly", "expires": "7"})
    raw = page.get_data(as_text=True).split('id="new-token">')[1].split("<")[0]
    bearer = {"Authorization": f"Bearer {raw}"}
    assert app.test_client().get("/api/v1/queue", headers=bearer).status_code == 200
    with app.app_context():
        token = db.session.execute(db.select(ApiToken)).scalar_one()
        assert timedelta(days=6) < token.expires_at - utcnow() <= timedelta(days=7)
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert app.test_client().get("/api/v1/queue", headers=bearer).status_code == 401
    assert "expired" in moderator_client.get("/account/tokens").get_data(as_text=True)
    assert {"token.created"} <= set(kinds(app, "maria"))


def test_admins_read_the_security_log(app, admin_client, moderator):
    login(from_address(app.test_client(), "203.0.113.9"), "maria", "not the password")
    page = admin_client.get("/admin/security?kind=login.failure").get_data(as_text=True)
    assert "Failed sign-in" in page and "maria" in page and "Signed in</td>" not in page
    assert admin_client.get("/admin/security?kind=nonsense").status_code == 400
    moderator_view = app.test_client()
    login(moderator_view, "maria", PASSWORD)
    assert moderator_view.get("/admin/security").status_code == 403


def test_the_command_line_turns_off_a_lost_two_step_and_ends_sessions(app, runner, moderator):
    enable_two_step(app, moderator)
    result = runner.invoke(args=["reset-two-step", "maria"])
    assert result.exit_code == 0, result.output
    assert "Two-step sign-in is off for maria" in result.output
    with app.app_context():
        assert not db.session.get(User, moderator).has_totp
    assert login(app.test_client(), "maria", PASSWORD).status_code == 302  # no code asked
    again = runner.invoke(args=["reset-two-step", "maria"])
    assert again.exit_code == 1 and "does not use two-step" in again.output
    assert runner.invoke(args=["reset-two-step", "nobody"]).exit_code == 1
    assert "totp.disabled" in kinds(app, "maria")


def test_a_browser_the_owner_signed_in_from_is_not_locked_out_by_guessers(app, moderator):
    usual = app.test_client()
    assert login(usual, "maria", PASSWORD).status_code == 302
    usual.post("/logout")
    assert usual.get_cookie("device") is not None  # kept after signing out
    for n in range(6):  # a botnet guessing; from the fourth try on it is refused outright
        login(from_address(app.test_client(), f"203.0.113.{n}"), "maria", f"guess {n}")
    assert login(app.test_client(), "maria", PASSWORD).status_code == 429
    assert login(usual, "maria", PASSWORD).status_code == 302
    # The device cookie is for maria only, and a forged one counts for nothing.
    forged = app.test_client()
    forged.set_cookie("device", usual.get_cookie("device").value[:-2] + "xx")
    assert login(forged, "maria", PASSWORD).status_code == 429


def test_turning_two_step_on_needs_a_recent_password_and_signs_out_other_browsers(
        app, moderator):
    other = app.test_client()
    login(other, "maria", PASSWORD)
    browser = app.test_client()
    login(browser, "maria", PASSWORD)
    page = browser.get("/account/two-step").get_data(as_text=True)
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    with browser.session_transaction() as session:
        session["auth_at"] = time.time() - 3600
    stale = browser.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()},
                         headers={"Referer": "http://localhost/account/two-step"})
    assert stale.status_code == 303 and stale.headers["Location"].startswith("/confirm")
    with app.app_context():
        assert not db.session.get(User, moderator).has_totp
    with browser.session_transaction() as session:
        session["auth_at"] = time.time()
    assert browser.post("/account/two-step",
                        data={"code": pyotp.TOTP(secret).now()}).status_code == 201
    assert other.get("/queue/").status_code == 302
    assert browser.get("/queue/").status_code == 200


def test_one_code_sent_twice_at_once_lets_in_only_one(app, moderator):
    secret, _ = enable_two_step(app, moderator)
    browsers = [app.test_client() for _ in range(4)]
    for browser in browsers:
        login(browser, "maria", PASSWORD)
    code = pyotp.TOTP(secret).now()
    barrier = threading.Barrier(len(browsers))
    statuses = []

    def send(browser):
        barrier.wait()
        statuses.append(browser.post("/login/code", data={"code": code}).status_code)

    threads = [threading.Thread(target=send, args=(browser,)) for browser in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 401, 401, 401]
