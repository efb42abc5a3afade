"""A newsroom's CMS keeps its articles in sync through the API with a publisher token: PUT by
its own key (created once, then changed or left alone), read back one or a page at a time.
Moderators may read; only admins (and their publisher tokens) write; a publisher token reaches
nothing but articles."""

from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import AdminEvent, ApiToken, Article, CommentState, Role, User, utcnow
from moderation.services import sites, tokens
from tests.factories import make_article, make_comment, make_user

KEY = "2024/05/flood-barrier"
STORY = {"headline": "Council approves a flood barrier",
         "canonical_url": "https://bugle.example/2024/05/flood-barrier",
         "section": "Local", "byline": "By Jo Smith",
         "published_at": "2024-05-01T09:00:00+02:00"}


def make_token(app, username: str, role: Role, scope: str = "full") -> str:
    with app.app_context():
        user = db.session.execute(
            db.select(User).where(User.username == username)).scalar_one_or_none() \
            or make_user(username, role=role)
        _, raw = tokens.create(user, f"{scope} token", scope=scope)
        db.session.commit()
    return raw


@pytest.fixture
def publisher(app) -> dict:
    return {"Authorization": f"Bearer {make_token(app, 'cms-admin', Role.ADMIN, 'publisher')}"}


@pytest.fixture
def admin_token(app) -> dict:
    return {"Authorization": f"Bearer {make_token(app, 'ada', Role.ADMIN)}"}


@pytest.fixture
def moderator_token(app) -> dict:
    return {"Authorization": f"Bearer {make_token(app, 'maria', Role.MODERATOR)}"}


def put(client, key, body, headers):
    return client.put(f"/api/v1/articles/{key}", json=body, headers=headers)


def stored(app) -> tuple[list[Article], list[str]]:
    with app.app_context():
        rows = db.session.execute(db.select(Article).order_by(Article.id)).scalars().all()
        actions = db.session.execute(
            db.select(AdminEvent.action).order_by(AdminEvent.id)).scalars().all()
        db.session.expunge_all()
        return rows, actions


def assert_error(response, status, message, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert message in body["message"], body
    assert body.get("field") == field, body
    return body


def test_a_cms_creates_an_article_once_then_changes_only_what_it_sends(app, client, publisher):
    created = put(client, KEY, STORY, publisher)
    assert created.status_code == 201, created.get_json()
    article = created.get_json()
    assert article["key"] == KEY and article["headline"] == STORY["headline"]
    assert article["published_at"] == "2024-05-01T07:00:00Z"
    assert article["comments_open"] is True and article["page"].endswith("/articles/2024-05-"
                                                                          "flood-barrier")

    again = put(client, KEY, STORY, publisher)
    assert again.status_code == 200 and again.get_json() == article
    assert stored(app)[1] == ["article.create"]  # the repeat logged nothing

    closed = put(client, KEY, {"comments_open": False}, publisher)
    assert closed.status_code == 200
    assert closed.get_json() == {**article, "comments_open": False}
    [row], actions = stored(app)
    assert row.external_key == KEY and row.section == "Local" and not row.comments_open
    assert actions == ["article.create", "article.update"]

    read = client.get(f"/api/v1/articles/{KEY}", headers=publisher)
    assert read.status_code == 200 and read.get_json() == closed.get_json()


def test_an_admin_s_session_and_full_token_may_write_too(app, admin_client, admin_token):
    assert put(admin_client, "by-session", {"headline": "From the browser"}, {}) \
        .status_code == 201
    assert put(app.test_client(), "by-token", {"headline": "From a script"}, admin_token) \
        .status_code == 201
    assert [row.external_key for row in stored(app)[0]] == ["by-session", "by-token"]


def test_an_unknown_key_is_a_404_that_says_so(client, publisher):
    assert_error(client.get("/api/v1/articles/no/such/story", headers=publisher), 404,
                 "There is no article with the key 'no/such/story'")


@pytest.mark.parametrize("key, body, status, message, field", [
    (KEY, {"section": "Local"}, 400, "A new article needs a headline", "headline"),
    (KEY, {**STORY, "headline": 7}, 400, "The headline is text", "headline"),
    (KEY, {**STORY, "headline": "   "}, 400, "The headline cannot be empty", "headline"),
    (KEY, {**STORY, "body": "text"}, 400, "Unknown field 'body'", "body"),
    (KEY, {**STORY, "canonical_url": "javascript:alert(1)"}, 400, "full http(s) URL",
     "canonical_url"),
    (KEY, {**STORY, "published_at": "last Tuesday"}, 400, "The published date",
     "published_at"),
    (KEY, {**STORY, "comments_open": "yes"}, 400, "comments_open is true or false",
     "comments_open"),
    (KEY, {**STORY, "site_id": 999}, 400, "There is no such site", "site_id"),
    (KEY, {**STORY, "site_id": "1"}, 400, "There is no such site", "site_id"),
    (KEY, {**STORY, "site_id": 10**20}, 400, "There is no such site", "site_id"),
    (KEY, {**STORY, "site_id": -(10**20)}, 400, "There is no such site", "site_id"),
    ("has space", STORY, 400, "An article key is 1 to 200 letters", "key"),
    (KEY, [STORY], 400, "must be a JSON object", None),
])
def test_a_bad_article_is_refused_with_its_field_and_nothing_is_stored(
        app, client, publisher, key, body, status, message, field):
    assert_error(put(client, key, body, publisher), status, message, field)
    assert stored(app) == ([], [])


def test_a_body_that_is_not_json_is_refused_and_nothing_is_stored(app, client, publisher):
    as_form = client.put(f"/api/v1/articles/{KEY}", data={"headline": "x"}, headers=publisher)
    assert_error(as_form, 415, "Send the article as a JSON object")
    broken = client.put(f"/api/v1/articles/{KEY}", data="{headline:", headers=publisher,
                        content_type="application/json")
    assert_error(broken, 400, "not valid JSON")
    assert stored(app) == ([], [])


def test_a_moderator_may_read_articles_but_not_write_them(app, client, moderator_token):
    with app.app_context():
        make_article(slug="known", headline="Known", external_key="known")
        db.session.commit()
    assert client.get("/api/v1/articles/known", headers=moderator_token).status_code == 200
    assert client.get("/api/v1/articles", headers=moderator_token).status_code == 200
    assert_error(put(client, "known", {"headline": "Renamed"}, moderator_token), 403,
                 "Only admins (or their publisher tokens) may add or change articles")
    assert_error(put(client, "new", STORY, moderator_token), 403, "moderators may read")
    rows, actions = stored(app)
    assert [row.headline for row in rows] == ["Known"] and actions == []


def test_without_a_sign_in_or_token_nothing_is_read_or_written(app, client):
    assert client.get("/api/v1/articles").status_code == 401
    assert client.put(f"/api/v1/articles/{KEY}", json=STORY).status_code == 401
    assert stored(app) == ([], [])


def test_a_publisher_token_reaches_articles_and_nothing_else(app, client, publisher):
    with app.app_context():
        comment = make_comment(make_article(slug="other"), state=CommentState.QUEUED)
        db.session.commit()
        comment_id = comment.id
    for response in (client.get("/api/v1/queue", headers=publisher),
                     client.get(f"/api/v1/comments/{comment_id}", headers=publisher),
                     client.post(f"/api/v1/comments/{comment_id}/decision", headers=publisher,
                                 json={"action": "approve"})):
        assert_error(response, 403, "This token may only manage articles")
    with app.app_context():
        assert db.session.get(type(comment), comment_id).state is CommentState.QUEUED
    assert client.get("/api/v1/articles", headers=publisher).status_code == 200


def test_a_full_token_still_reaches_the_queue(client, admin_token, moderator_token):
    assert client.get("/api/v1/queue", headers=admin_token).status_code == 200
    assert client.get("/api/v1/queue", headers=moderator_token).status_code == 200


def test_a_publisher_token_of_a_demoted_admin_may_no_longer_write(app, client, publisher):
    with app.app_context():
        owner = db.session.execute(db.select(User).where(User.username == "cms-admin")) \
            .scalar_one()
        owner.role = Role.MODERATOR
        db.session.commit()
    assert_error(put(client, KEY, STORY, publisher), 403, "Only admins")
    assert stored(app) == ([], [])


# Reading page by page


@pytest.fixture
def newsroom(app) -> dict:
    """Seven articles, two on one site, two published at the same moment."""
    with app.app_context():
        bugle = sites.save(None, None, name="Bugle", origins=[], allow_anonymous=True,
                           auto_register=False)
        start = utcnow().replace(microsecond=0) - timedelta(days=10)
        for n in range(7):
            moment = start + timedelta(days=min(n, 5))  # 5 and 6 share a moment
            make_article(slug=f"a{n}", headline=f"Story {n}", external_key=f"k{n}",
                         published_at=moment, site_id=bugle.id if n in (1, 4) else None)
        db.session.commit()
        return {"site": bugle.id}


def walk(client, headers, query="") -> list[list[str]]:
    pages, cursor = [], None
    while True:
        url = f"/api/v1/articles?limit=2{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append([item["key"] for item in body["items"]])
        cursor = body["next_cursor"]
        if not cursor:
            return pages


def test_articles_come_newest_first_a_page_at_a_time(client, publisher, newsroom):
    pages = walk(client, publisher)
    assert pages == [["k6", "k5"], ["k4", "k3"], ["k2", "k1"], ["k0"]]
    assert walk(client, publisher, f"&site={newsroom['site']}") == [["k4", "k1"]]


@pytest.mark.parametrize("query, field, message", [
    ("limit=0", "limit", "limit must be a whole number from 1 to 200"),
    ("limit=500", "limit", "limit must be a whole number from 1 to 200"),
    ("cursor=bm90LWEtY3Vyc29y", "cursor", "That page link is broken"),
    ("site=bugle", "site", "site must be a whole number"),
    ("sort=old", "sort", "Unknown field 'sort'"),
])
def test_a_bad_page_request_says_which_parameter(client, publisher, newsroom, query, field,
                                                 message):
    assert_error(client.get(f"/api/v1/articles?{query}", headers=publisher), 400, message,
                 field)


# Making a publisher token


def test_an_admin_makes_a_publisher_token_that_the_page_labels(app, admin_client):
    page = admin_client.get("/account/tokens").get_data(as_text=True)
    assert 'name="scope"' in page
    made = admin_client.post("/account/tokens", data={"name": "CMS", "expires": "30",
                                                      "scope": "publisher"})
    assert made.status_code == 201
    with app.app_context():
        token = db.session.execute(db.select(ApiToken)).scalar_one()
        assert token.scope == "publisher"
        token_id, expires = token.id, token.expires_at
    row = made.get_data(as_text=True).split(f'id="token-{token_id}"')[1].split("</tr>")[0]
    assert "articles only (publisher)" in row
    assert f"active, expires on {expires.day} {expires:%B %Y}" in row


def test_a_moderator_cannot_make_a_publisher_token(app, moderator_client):
    assert 'name="scope"' not in moderator_client.get("/account/tokens").get_data(as_text=True)
    refused = moderator_client.post("/account/tokens", data={"name": "CMS", "scope":
                                                             "publisher"})
    assert refused.status_code == 400
    assert "Only admins make publisher tokens" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(ApiToken)).first() is None


def test_the_status_column_says_expired_and_revoked(app, moderator_client, moderator):
    with app.app_context():
        user = db.session.get(User, moderator)
        old, _ = tokens.create(user, "old script", days=1)
        old.expires_at = utcnow() - timedelta(hours=1)
        gone, _ = tokens.create(user, "gone script")
        tokens.revoke(gone.id, user)
        db.session.commit()
        old_id, gone_id = old.id, gone.id
    page = moderator_client.get("/account/tokens").get_data(as_text=True)

    def status(token_id):
        row = page.split(f'id="token-{token_id}"')[1].split("</tr>")[0]
        return " ".join(row.split('class="status">')[1].split("<")[0].split())

    assert status(old_id) == "expired"
    assert status(gone_id).startswith("revoked")
