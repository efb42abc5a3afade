"""Input no person types still gets a precise 4xx, never a 500, on SQLite and PostgreSQL
(which refuses NUL characters outright)."""

import io

import pytest

from moderation.extensions import db
from moderation.models import Comment
from tests.conftest import login
from tests.factories import PASSWORD, make_article, make_comment


@pytest.fixture
def story(app):
    with app.app_context():
        article = make_article(slug="story")
        comment_id = make_comment(article, "waiting").id
        db.session.commit()
    return comment_id


def stored(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(Comment)).scalar()


@pytest.mark.parametrize("path", ["/articles/a%00b", "/comments/a%00b", "/?q=%00"])
def test_nul_characters_in_addresses_are_400(client, story, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "not text" in response.get_data(as_text=True)


def test_a_file_instead_of_a_comment_is_400(app, client, story):
    response = client.post("/articles/story/comments", content_type="multipart/form-data",
                           data={"author_name": "Jo",
                                 "body": (io.BytesIO(b"\x89PNG\r\n\x1a\n"), "x.png")})
    assert response.status_code == 400
    assert "does not accept file uploads" in response.get_data(as_text=True)
    assert stored(app) == 1


def test_a_nul_in_the_login_form_is_a_field_error(client, moderator):
    response = client.post("/login", data={"username": "maria\x00", "password": "x"})
    assert response.status_code == 400
    assert "not text" in response.get_data(as_text=True)


def test_an_id_past_the_column_range_is_404(client, moderator, story):
    login(client, "maria", PASSWORD)
    response = client.post("/queue/99999999999999999999999/decision", data={"action": "approve"})
    assert response.status_code == 404


def test_a_nul_in_a_decision_note_is_400(app, client, moderator, story):
    login(client, "maria", PASSWORD)
    response = client.post(f"/queue/{story}/decision",
                           data={"action": "reject", "reason": "other", "note": "a\x00b"})
    assert response.status_code == 400


@pytest.mark.parametrize("body", [
    {"json": {"author_name": "Jo", "body": "hi"}},
    {"json": [1, 2]},
    {"json": 123},
    {"json": {"author_name": None, "body": {"x": 1}}},
    {"data": "{not json", "content_type": "application/json"},
    {"data": "just words", "content_type": "text/plain"},
])
def test_anything_but_a_web_form_is_415(app, client, story, body):
    response = client.post("/articles/story/comments", **body)
    assert response.status_code == 415
    assert "Post this as a web form" in response.get_data(as_text=True)
    assert stored(app) == 1


def test_json_to_the_login_and_decision_forms_is_415(client, moderator, story):
    assert client.post("/login", json={"username": 1, "password": 2}).status_code == 415
    login(client, "maria", PASSWORD)
    assert client.post(f"/queue/{story}/decision", json={"action": 1}).status_code == 415


def test_an_unknown_method_is_405_with_a_message(client, story):
    response = client.delete("/articles/story")
    assert response.status_code == 405
    assert "does not accept this kind of request" in response.get_data(as_text=True)
