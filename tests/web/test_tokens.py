"""A moderator makes an API token for a script, sees it once, and can revoke it; only its hash
is kept."""

import hashlib
import re
from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import ApiToken, CommentState, User, utcnow
from moderation.services import tokens
from tests.conftest import login
from tests.factories import PASSWORD, make_article, make_comment, make_user

TOKEN = re.compile(r"mod_[A-Za-z0-9_-]{43}")


def token_rows(app) -> list[ApiToken]:
    with app.app_context():
        rows = db.session.execute(db.select(ApiToken).order_by(ApiToken.id)).scalars().all()
        db.session.expunge_all()
        return rows


def table_row(page: str, token_id: int) -> str:
    return page.split(f'id="token-{token_id}"')[1].split("</tr>")[0]


def created_token(response) -> str:
    [raw] = TOKEN.findall(response.get_data(as_text=True))
    return raw


# The rules


def test_a_token_is_stored_only_as_its_hash_and_a_short_prefix(ctx):
    user = make_user("maria")
    token, raw = tokens.create(user, "  nightly script  ")
    db.session.commit()
    assert TOKEN.fullmatch(raw)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:8] and token.name == "nightly script"
    row = db.session.execute(db.text("SELECT * FROM api_tokens")).mappings().one()
    assert raw not in [str(value) for value in row.values()]
    _, other = tokens.create(user, "another")
    assert other != raw


def test_verify_knows_only_live_tokens_of_active_users(ctx):
    maria = make_user("maria")
    token, raw = tokens.create(maria, "script")
    db.session.commit()
    assert tokens.verify(raw) is token
    for wrong in (None, "", raw[:-1], raw + "x", raw[4:], "Bearer " + raw, 42):
        assert tokens.verify(wrong) is None
    maria.active = False
    assert tokens.verify(raw) is None
    maria.active = True
    tokens.revoke(token.id, maria)
    assert tokens.verify(raw) is None


def test_verify_marks_the_token_used_about_once_a_minute(ctx):
    token, raw = tokens.create(make_user("maria"), "script")
    assert token.last_used_at is None
    tokens.verify(raw)
    first = token.last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=5)
    tokens.verify(raw)
    assert token.last_used_at == first
    token.last_used_at = first - timedelta(minutes=2)
    tokens.verify(raw)
    assert token.last_used_at > first - timedelta(minutes=2)


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_a_token_needs_a_name_of_1_to_80_characters(ctx, name):
    with pytest.raises(tokens.TokenError, match="1 to 80"):
        tokens.create(make_user("maria"), name)


def test_only_the_owner_can_revoke_and_revoking_twice_keeps_the_first_time(ctx):
    maria, omar = make_user("maria"), make_user("omar")
    token, _ = tokens.create(maria, "script")
    with pytest.raises(tokens.TokenError):
        tokens.revoke(token.id, omar)
    assert token.active
    first = tokens.revoke(token.id, maria).revoked_at
    assert tokens.revoke(token.id, maria).revoked_at == first
    with pytest.raises(tokens.TokenError):
        tokens.revoke(999999, maria)


def test_list_for_shows_only_the_user_s_own_newest_first(ctx):
    maria, omar = make_user("maria"), make_user("omar")
    old, _ = tokens.create(maria, "old")
    old.created_at -= timedelta(days=1)
    new, _ = tokens.create(maria, "new")
    tokens.create(omar, "omar's")
    assert [token.name for token in tokens.list_for(maria)] == ["new", "old"]


# The page


def test_the_token_page_needs_a_sign_in(client):
    for response in (client.get("/account/tokens"),
                     client.post("/account/tokens", data={"name": "x"})):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_new_token_is_shown_once_and_then_only_its_prefix(app, moderator_client):
    page = moderator_client.get("/account/tokens")
    assert page.status_code == 200 and "You have no API tokens yet" in page.get_data(
        as_text=True)

    created = moderator_client.post("/account/tokens", data={"name": "nightly script"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    raw = created_token(created)
    assert "shown only this once" in created.get_data(as_text=True)
    [row] = token_rows(app)
    assert row.name == "nightly script"
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()

    later = moderator_client.get("/account/tokens").get_data(as_text=True)
    assert raw not in later and TOKEN.search(later) is None
    row_html = table_row(later, row.id)
    assert f"{row.prefix}…" in row_html and "nightly script" in row_html
    assert "never" in row_html and "Revoke" in row_html


def test_the_token_works_on_the_api_and_its_use_shows_on_the_page(app, moderator_client):
    raw = created_token(moderator_client.post("/account/tokens", data={"name": "script"}))
    script = app.test_client()  # no session: the token alone
    response = script.get("/api/v1/queue", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200 and "items" in response.get_json()
    [row] = token_rows(app)
    row_html = table_row(moderator_client.get("/account/tokens").get_data(as_text=True), row.id)
    assert row_html.count("just now") == 2 and "never" not in row_html  # created, last used


@pytest.mark.parametrize("name, message", [
    ("", "Give the token a name"),
    ("   ", "Give the token a name"),
    ("x" * 81, "Field cannot be longer than 80 characters"),
    ("bad\x01name", "not text"),
])
def test_a_bad_name_is_a_400_and_makes_nothing(app, moderator_client, name, message):
    response = moderator_client.post("/account/tokens", data={"name": name})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert token_rows(app) == []


def test_revoking_stops_the_token_at_once(app, moderator_client):
    raw = created_token(moderator_client.post("/account/tokens", data={"name": "script"}))
    [row] = token_rows(app)
    response = moderator_client.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"] == "/account/tokens"
    page = moderator_client.get("/account/tokens").get_data(as_text=True)
    assert "Revoked the token “script”" in page and "revoked just now" in page
    refused = app.test_client().get("/api/v1/queue",
                                    headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401 and "revoked" in refused.get_json()["message"]


def test_nobody_can_revoke_someone_else_s_token(app, moderator_client):
    with app.app_context():
        omar = make_user("omar")
        _, raw = tokens.create(omar, "omar's script")
        db.session.commit()
        omar_token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    assert moderator_client.post(f"/account/tokens/{omar_token_id}/revoke").status_code == 404
    assert moderator_client.post("/account/tokens/999999/revoke").status_code == 404
    assert "omar's script" not in moderator_client.get("/account/tokens").get_data(as_text=True)
    [row] = token_rows(app)
    assert row.active
    works = app.test_client().get("/api/v1/queue", headers={"Authorization": f"Bearer {raw}"})
    assert works.status_code == 200


def test_tokens_act_as_their_owner(app, client):
    with app.app_context():
        article = make_article(slug="story")
        comment_id = make_comment(article, "waiting", state=CommentState.QUEUED).id
        user = make_user("omar")
        _, raw = tokens.create(user, "script")
        db.session.commit()
    response = client.post(f"/api/v1/comments/{comment_id}/decision",
                           json={"action": "approve"},
                           headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.get_json()["decision"]["by"] == "omar"


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True


def test_making_and_revoking_tokens_need_the_form_s_csrf_token(app, csrf_on):
    client = app.test_client()
    with app.app_context():
        make_user("maria")
        db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    login_response = client.post("/login", data={"username": "maria", "password": PASSWORD,
                                                 "csrf_token": csrf})
    assert login_response.status_code == 302
    fresh = client.get("/account/tokens").get_data(as_text=True)
    assert csrf not in fresh  # a new session after sign-in: nothing from before carries over
    csrf = fresh.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/account/tokens", data={"name": "script"}).status_code == 400
    assert token_rows(app) == []
    created = client.post("/account/tokens", data={"name": "script", "csrf_token": csrf})
    assert created.status_code == 201
    [row] = token_rows(app)
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 400
    assert token_rows(app)[0].active
    revoked = client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303 and not token_rows(app)[0].active


def test_a_disabled_moderator_s_tokens_stop_working(app, moderator_client, moderator):
    raw = created_token(moderator_client.post("/account/tokens", data={"name": "script"}))
    with app.app_context():
        db.session.get(User, moderator).active = False
        db.session.commit()
    refused = app.test_client().get("/api/v1/queue", headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401


def test_the_page_lists_tokens_newest_first(app, client, moderator):
    login(client, "maria", PASSWORD)
    client.post("/account/tokens", data={"name": "first-token"})
    client.post("/account/tokens", data={"name": "second-token"})
    page = client.get("/account/tokens").get_data(as_text=True)
    assert page.index("second-token") < page.index("first-token")


def test_each_fact_has_its_own_column_and_revoke_sits_apart_from_the_status(app,
                                                                           moderator_client):
    moderator_client.post("/account/tokens", data={"name": "nightly script", "days": "30"})
    [row] = token_rows(app)
    page = moderator_client.get("/account/tokens").get_data(as_text=True)
    headers = re.findall(r'<th scope="col">(.*?)</th>', page[page.index('class="tokens"'):])
    assert headers[:7] == ["Name", "Starts with", "Created", "Last used", "Expires", "May do",
                           "Status"]
    row_html = table_row(page, row.id)
    status = re.search(r'<td class="status">(.*?)</td>', row_html, re.S).group(1)
    assert " ".join(status.split()).startswith("active, expires on ")
    assert "Revoke" not in status
    assert "Revoke" in re.search(r'<td class="revoke">(.*?)</td>', row_html, re.S).group(1)
