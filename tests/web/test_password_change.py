"""A user whose password an admin reset must choose their own before anything else; any user
can change their password on the account page."""

import re

from moderation.extensions import db
from moderation.models import User
from moderation.services import tokens
from tests.conftest import login
from tests.factories import PASSWORD, make_user

TEMP_PASSWORD = re.compile(r'<code class="temp-password" id="temp-password">([^<]+)</code>')
NEW_PASSWORD = "a brand new passphrase"


def change(client, current, new, again=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm_password": new if again is None else again})


def stored(app, user_id) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def test_after_a_reset_the_user_must_choose_a_new_password_before_anything_else(
        app, admin_client, moderator):
    reset = admin_client.post(f"/admin/users/{moderator}/reset-password")
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    [temporary] = TEMP_PASSWORD.findall(reset.get_data(as_text=True))
    assert stored(app, moderator).must_change_password
    assert temporary not in admin_client.get("/admin/users").get_data(as_text=True)

    maria = app.test_client()
    assert login(maria, "maria", PASSWORD).status_code == 401  # the old password is gone
    signed_in = login(maria, "maria", temporary)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/account/password"
    page = maria.get("/account/password").get_data(as_text=True)
    assert "An admin set the password you signed in with" in page

    # Every other page sends her back; forms too, without doing anything.
    for url in ("/queue/", "/decisions/", "/account/tokens", "/", "/admin/"):
        response = maria.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/account/password", url
    made = maria.post("/account/tokens", data={"name": "sneaky"})
    assert made.status_code == 303 and made.headers["Location"] == "/account/password"
    with app.app_context():
        assert tokens.list_for(db.session.get(User, moderator)) == []
    api = maria.get("/api/v1/queue")
    assert api.status_code == 403
    assert "password change is required" in api.get_json()["message"]
    assert maria.get("/static/site.css").status_code == 200

    changed = change(maria, temporary, NEW_PASSWORD)
    assert changed.status_code == 303 and changed.headers["Location"] == "/queue/"
    assert not stored(app, moderator).must_change_password
    assert maria.get("/queue/").status_code == 200
    assert maria.get("/api/v1/queue").status_code == 200

    maria.post("/logout")
    assert login(maria, "maria", temporary).status_code == 401
    again = login(maria, "maria", NEW_PASSWORD)
    assert again.status_code == 302 and again.headers["Location"] == "/queue/"


def test_signing_out_still_works_while_a_change_is_due(app, client):
    with app.app_context():
        make_user("omar").must_change_password = True
        db.session.commit()
    response = client.post("/login", data={"username": "omar", "password": PASSWORD,
                                           "next": "/decisions/"})
    assert response.headers["Location"] == "/account/password"  # not where next pointed
    assert client.post("/logout").status_code == 302
    assert client.get("/account/password").headers["Location"].startswith("/login")


def test_a_token_stops_working_until_its_owner_s_change_is_made(app):
    # A reset may mean the account leaked: tokens made before it wait for the new password.
    with app.app_context():
        omar = make_user("omar")
        _, raw = tokens.create(omar, "script")
        omar.must_change_password = True
        db.session.commit()
        omar_id = omar.id
    api = app.test_client()
    response = api.get("/api/v1/queue", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    assert "must choose a new password" in response.get_json()["message"]
    with app.app_context():
        db.session.get(User, omar_id).must_change_password = False
        db.session.commit()
    assert api.get("/api/v1/queue",
                   headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_a_bad_change_is_a_400_with_the_reason_and_keeps_the_password(
        app, moderator_client, moderator):
    before = stored(app, moderator).password_hash
    for current, new, again, message in [
        ("wrong password!", NEW_PASSWORD, None, "current password is not right"),
        (PASSWORD, NEW_PASSWORD, "something else entirely", "two new passwords are not the same"),
        (PASSWORD, "short", None, "12 to 1024 characters"),
        (PASSWORD, PASSWORD, None, "different from your current one"),
        ("", NEW_PASSWORD, None, "Enter your current password"),
    ]:
        response = change(moderator_client, current, new, again)
        assert response.status_code == 400, message
        assert message in response.get_data(as_text=True)
    assert stored(app, moderator).password_hash == before


def test_any_signed_in_user_can_change_their_password(app, moderator_client, moderator):
    assert moderator_client.get("/account/password").status_code == 200
    response = change(moderator_client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert "Your password is changed" in moderator_client.get("/queue/").get_data(as_text=True)
    fresh = stored(app, moderator)
    assert fresh.check_password(NEW_PASSWORD) and not fresh.check_password(PASSWORD)


def test_the_password_page_needs_a_sign_in(client):
    for response in (client.get("/account/password"),
                     change(client, PASSWORD, NEW_PASSWORD)):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
