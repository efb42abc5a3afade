"""Moderators sign in with the account create-user made; sessions are locked down."""

import pytest

from moderation.extensions import db
from moderation.models import User
from tests.conftest import login
from tests.factories import PASSWORD, make_user


def test_signing_in_lands_on_the_queue(client, moderator):
    response = login(client, "maria", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/queue/"
    assert "Moderation queue" in client.get("/queue/").get_data(as_text=True)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, moderator):
    response = login(client, "maria", "wrong password!")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/queue/").status_code == 302  # still signed out


def test_an_unknown_user_gets_the_same_answer(client, moderator):
    response = login(client, "nobody", PASSWORD)
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)


def test_a_deactivated_account_cannot_sign_in(app, client, moderator):
    with app.app_context():
        db.session.get(User, moderator).active = False
        db.session.commit()
    assert login(client, "maria", PASSWORD).status_code == 401


def test_the_queue_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/queue/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("target, expected", [
    ("/queue/?band=held", "/queue/?band=held"),
    ("https://evil.example/phish", "/queue/"),
    ("//evil.example/phish", "/queue/"),
    ("/\\evil.example", "/queue/"),
    ("javascript:alert(1)", "/queue/"),
])
def test_next_only_goes_to_local_paths(client, moderator, target, expected):
    response = client.post("/login", data={"username": "maria", "password": PASSWORD,
                                           "next": target})
    assert response.headers["Location"] == expected


def test_signing_out_is_a_post(client, moderator):
    login(client, "maria", PASSWORD)
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/queue/").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(client, moderator):
    response = login(client, "maria", PASSWORD)
    cookie = next(value for value in response.headers.getlist("Set-Cookie")
                  if value.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.real_password_hashing
def test_passwords_are_stored_as_scrypt_with_n_of_2_to_the_16(app, moderator):
    with app.app_context():
        stored = db.session.get(User, moderator).password_hash
    assert stored.startswith("scrypt:65536:8:1$")
    assert PASSWORD not in stored


def test_a_blank_login_form_is_a_400_with_messages(client):
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter your username." in text and "Enter your password." in text


def test_user_names_are_unique(app):
    from moderation.services.users import UserError

    with app.app_context():
        make_user("sam")
        with pytest.raises(UserError, match="already a user called 'sam'"):
            make_user("sam")


def test_password_guessing_is_slowed_down(app, database_url, moderator):
    from moderation import create_app
    from tests.conftest import base_config

    limited = create_app(base_config(database_url, MODERATION_LOGIN_LIMIT="3 per minute"))
    client = limited.test_client()
    codes = [login(client, "maria", f"guess number {n}").status_code for n in range(4)]
    assert codes == [401, 401, 401, 429]
    assert "Slow down" in login(client, "maria", PASSWORD).get_data(as_text=True)
