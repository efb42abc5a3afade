"""Names in one normal form, with nothing invisible in them, and readers who pose as staff
marked on the moderator's card."""

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState, User
from tests.factories import make_article


@pytest.fixture
def story(app):
    with app.app_context():
        make_article(slug="story")
        db.session.commit()


def post(client, name, body="A fair point about the bridge."):
    return client.post("/articles/story/comments", data={"author_name": name, "body": body})


def names_stored(app):
    with app.app_context():
        return list(db.session.execute(db.select(Comment.author_name)).scalars())


@pytest.mark.parametrize("name", ["ad\u200bmin", "\u202emoderator", "mod\u2066erator",
                                  "ma\u200dria", "\ufeffeditor"])
def test_invisible_and_direction_characters_in_a_name_are_refused(app, client, story, name):
    response = post(client, name)
    assert response.status_code == 400
    assert "invisible or text-direction character" in response.get_data(as_text=True)
    assert names_stored(app) == []


def test_names_are_stored_in_their_normal_form(app, client, story):
    assert post(client, "  Ｊｏ　Ｒｅａｄｅｒ ").status_code in (302, 303)
    assert names_stored(app) == ["Jo Reader"]


def test_a_reader_posing_as_staff_is_marked_on_the_card(app, client, story, moderator,
                                                        moderator_client):
    for name in ("ＭＡＲ1Ａ", "Ad.min", "Pat"):
        post(client, name, body=f"Comment from {name} about the council vote.")
    with app.app_context():
        db.session.execute(db.update(Comment).values(state=CommentState.QUEUED, risk=0.5))
        db.session.commit()
    page = moderator_client.get("/queue/").get_data(as_text=True)
    assert "looks like staff: “maria”" in page
    assert "looks like staff: “admin”" in page
    assert page.count('class="lookalike"') == 2


def test_staff_usernames_are_normalised_and_refuse_hidden_characters(app, admin_client):
    hidden = admin_client.post("/admin/users", data={"username": "ad\u200bmin2",
                                                     "role": "moderator"})
    assert hidden.status_code == 400
    assert "invisible or text-direction character" in hidden.get_data(as_text=True)
    twin = admin_client.post("/admin/users", data={"username": "ａｄａ", "role": "moderator"})
    assert twin.status_code == 400 and "already a user called" in twin.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 1
