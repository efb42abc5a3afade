"""An admin manages the staff: adds people, changes roles, deactivates and reactivates them and
resets passwords. Each change needs a recent sign-in and lands in the admin log, and the last
active admin can never be removed."""

import re
import threading
import time

import pytest

from moderation.auth.reauth import SESSION_KEY
from moderation.extensions import db
from moderation.models import AdminEvent, Role, User
from moderation.services import tokens
from moderation.services import users as accounts
from tests.conftest import login
from tests.factories import PASSWORD, make_user

TEMP_PASSWORD = re.compile(r'<code class="temp-password" id="temp-password">([^<]+)</code>')


def user_named(app, username: str) -> User | None:
    with app.app_context():
        user = accounts.find_user(username)
        if user is not None:
            db.session.expunge(user)
        return user


def events(app, prefix: str = "user.") -> list[tuple[str, str, dict | None]]:
    with app.app_context():
        rows = db.session.execute(
            db.select(AdminEvent).where(AdminEvent.action.startswith(prefix))
            .order_by(AdminEvent.id)).scalars()
        return [(event.action, event.target, event.detail) for event in rows]


def add_user(app, username: str, role: Role = Role.MODERATOR) -> int:
    with app.app_context():
        user = make_user(username, role=role)
        db.session.commit()
        return user.id


def text(response) -> str:
    return response.get_data(as_text=True)


# The page


def test_the_users_page_lists_everyone_with_role_status_and_dates(app, admin_client):
    maria = add_user(app, "maria")
    page = admin_client.get("/admin/users")
    assert page.status_code == 200
    row = text(page).split(f'id="user-{maria}"')[1].split("</tr>")[0]
    assert "maria" in row and 'value="moderator" selected' in row
    assert "active" in row and "never" in row and "just now" in row  # no sign-in; created
    assert "Deactivate" in row and "Reset password" in row
    own_row = text(page).split('(you)')[1].split("</tr>")[0]
    assert "Deactivate" not in own_row  # no button for what the rules refuse


def test_a_generated_password_is_shown_once_and_must_be_changed(app, admin_client):
    created = admin_client.post("/admin/users", data={"username": " omar ", "role": "moderator",
                                                      "password": ""})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    [temporary] = TEMP_PASSWORD.findall(text(created))
    assert len(temporary) >= accounts.MIN_PASSWORD_LENGTH
    omar = user_named(app, "omar")
    assert omar.role is Role.MODERATOR and omar.active and omar.must_change_password
    assert events(app) == [("user.create", "user omar",
                            {"role": "moderator", "password": "generated"})]
    assert temporary not in text(admin_client.get("/admin/users"))

    newcomer = app.test_client()
    signed_in = login(newcomer, "omar", temporary)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/account/password"


def test_a_chosen_initial_password_redirects_and_still_forces_a_change(app, admin_client):
    response = admin_client.post("/admin/users", data={
        "username": "bea", "role": "admin", "password": "a chosen password"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    page = text(admin_client.get("/admin/users"))
    assert "Created bea (admin)" in page and "a chosen password" not in page
    bea = user_named(app, "bea")
    assert bea.is_admin and bea.must_change_password
    assert events(app)[0][2] == {"role": "admin", "password": "chosen by admin"}


def test_a_bad_new_user_is_a_400_with_the_reason_and_makes_nobody(app, admin_client):
    cases = [
        ({"username": "", "role": "moderator"}, "Give the new user a username"),
        ({"username": "ada", "role": "moderator"}, "already a user called"),
        ({"username": "zed", "role": "moderator", "password": "short"}, "12 to 1024"),
        ({"username": "zed", "role": "owner"}, "Not a valid choice"),
        ({"username": "z\x01d", "role": "moderator"}, "not text"),
    ]
    for data, message in cases:
        response = admin_client.post("/admin/users", data=data)
        assert response.status_code == 400, data
        assert message in text(response), data
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 1
    assert events(app) == []


def test_changing_a_role_is_logged_with_before_and_after(app, admin_client):
    maria = add_user(app, "maria")
    response = admin_client.post(f"/admin/users/{maria}/role", data={"role": "admin"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    assert "maria is now an admin" in text(admin_client.get("/admin/users"))
    assert user_named(app, "maria").is_admin
    assert events(app) == [("user.role", "user maria", {"before": "moderator", "after": "admin"})]
    # The same role again changes and logs nothing.
    admin_client.post(f"/admin/users/{maria}/role", data={"role": "admin"})
    assert len(events(app)) == 1
    assert admin_client.post(f"/admin/users/{maria}/role",
                             data={"role": "owner"}).status_code == 400


CONFIRM = {"confirm": "y"}  # the confirmation page's box, ticked


def test_deactivating_asks_first_and_changes_nothing_until_confirmed(app, admin_client):
    maria = add_user(app, "maria")
    listing = text(admin_client.get("/admin/users"))
    assert f'href="/admin/users/{maria}/deactivate"' in listing
    page = admin_client.get(f"/admin/users/{maria}/deactivate")
    assert page.status_code == 200 and "Deactivate maria?" in text(page)
    assert 'name="confirm"' in text(page)
    # Posting without the box ticked (a stray click, a replayed form) asks again.
    unticked = admin_client.post(f"/admin/users/{maria}/deactivate")
    assert unticked.status_code == 200 and "Deactivate maria?" in text(unticked)
    assert user_named(app, "maria").active and events(app) == []
    assert admin_client.post(f"/admin/users/{maria}/deactivate",
                             data=CONFIRM).status_code == 303
    assert not user_named(app, "maria").active


def test_an_admin_gives_a_user_an_email_and_can_change_or_clear_it(app, admin_client):
    created = admin_client.post("/admin/users", data={
        "username": "omar", "role": "moderator", "email": "omar@example.org"})
    assert created.status_code == 201
    omar = user_named(app, "omar")
    assert omar.email == "omar@example.org"
    assert 'value="omar@example.org"' in text(admin_client.get("/admin/users"))
    refused = admin_client.post(f"/admin/users/{omar.id}/email", data={"email": "not-an-email"})
    assert refused.status_code == 400 and "is not an email address" in text(refused)
    assert admin_client.post(f"/admin/users/{omar.id}/email",
                             data={"email": "o.b@example.org"}).status_code == 303
    assert user_named(app, "omar").email == "o.b@example.org"
    assert admin_client.post(f"/admin/users/{omar.id}/email", data={"email": ""}).status_code \
        == 303
    assert user_named(app, "omar").email is None
    changes = [(action, detail) for action, _, detail in events(app) if action == "user.update"]
    assert changes[0][1] == {"before": {"email": "omar@example.org"},
                             "after": {"email": "o.b@example.org"}}
    html = text(admin_client.get("/admin/"))
    assert "ada edited user omar: email from o.b@example.org to none" in html


def test_a_deactivated_user_is_signed_out_cannot_sign_in_and_can_be_reactivated(
        app, admin_client):
    maria = add_user(app, "maria")
    maria_browser = app.test_client()
    assert login(maria_browser, "maria", PASSWORD).status_code == 302

    response = admin_client.post(f"/admin/users/{maria}/deactivate", data=CONFIRM)
    assert response.status_code == 303
    assert "Deactivated maria" in text(admin_client.get("/admin/users"))
    assert not user_named(app, "maria").active
    # Her open session ends at her next request, and she cannot sign in again.
    assert maria_browser.get("/queue/").headers["Location"].startswith("/login")
    assert login(maria_browser, "maria", PASSWORD).status_code == 401

    assert admin_client.post(f"/admin/users/{maria}/activate").status_code == 303
    assert user_named(app, "maria").active
    assert login(maria_browser, "maria", PASSWORD).status_code == 302
    assert [action for action, _, _ in events(app)] == ["user.deactivate", "user.activate"]


def test_a_deactivated_user_s_api_token_is_refused(app, admin_client):
    with app.app_context():
        maria = make_user("maria")
        _, raw = tokens.create(maria, "nightly")
        db.session.commit()
        maria_id = maria.id
    script = app.test_client()
    bearer = {"Authorization": f"Bearer {raw}"}
    assert script.get("/api/v1/queue", headers=bearer).status_code == 200
    admin_client.post(f"/admin/users/{maria_id}/deactivate", data=CONFIRM)
    refused = script.get("/api/v1/queue", headers=bearer)
    assert refused.status_code == 401 and "disabled" in refused.get_json()["message"]


def test_an_admin_cannot_deactivate_themselves(app, admin_client, admin):
    response = admin_client.post(f"/admin/users/{admin}/deactivate", data=CONFIRM)
    assert response.status_code == 400
    assert "cannot deactivate your own account" in text(response)
    assert user_named(app, "ada").active and events(app) == []


def test_the_last_active_admin_cannot_be_demoted(app, admin_client, admin):
    response = admin_client.post(f"/admin/users/{admin}/role", data={"role": "moderator"})
    assert response.status_code == 409
    assert "ada is the last active admin" in text(response)
    assert user_named(app, "ada").is_admin and events(app) == []

    # With a second admin, one of them may step down.
    add_user(app, "bea", role=Role.ADMIN)
    assert admin_client.post(f"/admin/users/{admin}/role",
                             data={"role": "moderator"}).status_code == 303
    assert not user_named(app, "ada").is_admin


def test_the_rules_refuse_removing_the_last_active_admin_in_any_way(ctx):
    ada = make_user("ada", role=Role.ADMIN)
    bea = make_user("bea", role=Role.ADMIN)
    bea.active = False  # an inactive admin does not count
    maria = make_user("maria")
    db.session.commit()
    with pytest.raises(accounts.LastAdminError, match="last active admin"):
        accounts.set_active(maria, ada, False)
    db.session.rollback()
    with pytest.raises(accounts.LastAdminError):
        accounts.change_role(maria, ada, Role.MODERATOR)
    db.session.rollback()
    assert ada.active and ada.is_admin
    # Demoting or deactivating the inactive admin, or a moderator, is fine.
    assert accounts.change_role(ada, bea, Role.MODERATOR)
    assert accounts.set_active(ada, maria, False)


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app):
    with app.app_context():
        ada_id = make_user("ada", role=Role.ADMIN).id
        bea_id = make_user("bea", role=Role.ADMIN).id
        db.session.commit()
    first_flushed, first_may_commit = threading.Event(), threading.Event()
    outcomes = {}

    def demote(actor_id, target_id, hold_before_commit):
        with app.app_context():
            try:
                actor, target = db.session.get(User, actor_id), db.session.get(User, target_id)
                accounts.change_role(actor, target, Role.MODERATOR)
                if hold_before_commit:
                    first_flushed.set()
                    first_may_commit.wait(10)
                db.session.commit()
                outcomes[actor_id] = "demoted"
            except accounts.LastAdminError:
                db.session.rollback()
                outcomes[actor_id] = "refused"
            finally:
                db.session.remove()

    # Ada's change is flushed but not committed when Bea's starts: Bea's must wait for it and
    # then see that she is the only admin left.
    first = threading.Thread(target=demote, args=(ada_id, bea_id, True))
    first.start()
    assert first_flushed.wait(10)
    second = threading.Thread(target=demote, args=(bea_id, ada_id, False))
    second.start()
    time.sleep(0.3)
    first_may_commit.set()
    first.join(15)
    second.join(15)
    assert outcomes == {ada_id: "demoted", bea_id: "refused"}
    assert user_named(app, "ada").is_admin and not user_named(app, "bea").is_admin


def test_an_unknown_user_is_a_404(app, admin_client):
    responses = [admin_client.post(f"/admin/users/999999/{action}")
                 for action in ("deactivate", "activate", "reset-password")]
    responses.append(admin_client.post("/admin/users/999999/role", data={"role": "admin"}))
    for response in responses:
        assert response.status_code == 404
        assert "There is no such user." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(AdminEvent.id))).scalar_one() == 0


# Re-authentication


def test_an_old_sign_in_must_confirm_the_password_before_a_deactivation(app, admin_client):
    maria = add_user(app, "maria")
    with admin_client.session_transaction() as session:
        session[SESSION_KEY] = time.time() - 3600

    response = admin_client.post(f"/admin/users/{maria}/deactivate",
                                 headers={"Referer": "http://localhost/admin/users"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/confirm?next=")
    assert user_named(app, "maria").active and events(app) == []

    assert admin_client.post(response.headers["Location"],
                             data={"password": "not it at all"}).status_code == 401
    confirmed = admin_client.post(response.headers["Location"], data={"password": PASSWORD})
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/admin/users"

    again = admin_client.post(f"/admin/users/{maria}/deactivate", data=CONFIRM)
    assert again.status_code == 303 and again.headers["Location"] == "/admin/users"
    assert not user_named(app, "maria").active
    assert [action for action, _, _ in events(app)] == ["user.deactivate"]


@pytest.mark.parametrize("app_config", [{"MODERATION_REAUTH_SECONDS": 0}])
def test_every_user_change_asks_for_the_password_when_the_sign_in_is_old(
        app, admin_client, admin, app_config):
    time.sleep(0.01)  # older than 0 seconds
    posts = [("/admin/users", {"username": "omar", "role": "moderator"}),
             (f"/admin/users/{admin}/role", {"role": "moderator"}),
             (f"/admin/users/{admin}/deactivate", {}),
             (f"/admin/users/{admin}/activate", {}),
             (f"/admin/users/{admin}/reset-password", {})]
    for url, data in posts:
        response = admin_client.post(url, data=data)
        assert response.status_code == 303, url
        assert response.headers["Location"].startswith("/confirm"), url
    assert user_named(app, "omar") is None and events(app) == []


# CSRF


def test_user_changes_need_the_form_s_csrf_token(app, admin_client):
    maria = add_user(app, "maria")
    app.config["WTF_CSRF_ENABLED"] = True
    for url in (f"/admin/users/{maria}/deactivate", f"/admin/users/{maria}/reset-password"):
        assert admin_client.post(url).status_code == 400
    assert admin_client.post("/admin/users", data={"username": "omar"}).status_code == 400
    maria_row = user_named(app, "maria")
    assert maria_row.active and not maria_row.must_change_password and events(app) == []
