"""Sanctions stick to the author, not the display name: a ban on an email refuses the author
under any name, a suspension says until when, a hold on an address queues every comment."""

from moderation.extensions import db
from moderation.models import Comment, CommentState, Sanction
from moderation.worker import Worker
from tests.factories import make_article, make_comment


def posted(app, slug="story", name="Skeptic", email="", body="A calm remark.",
           address="203.0.113.5"):
    client = app.test_client()
    return client.post(f"/articles/{slug}/comments",
                       data={"author_name": name, "author_email": email, "body": body},
                       environ_base={"REMOTE_ADDR": address})


def first_comment(app, **fields) -> int:
    with app.app_context():
        make_article(slug="story")
        db.session.commit()
    assert posted(app, **fields).status_code == 303
    with app.app_context():
        return db.session.execute(db.select(Comment.id)).scalar_one()


def comments_stored(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Comment.id))).scalar_one()


def test_a_ban_on_the_email_refuses_the_author_under_a_new_name(app, moderator_client):
    comment_id = first_comment(app, email="skeptic@example.org")
    made = moderator_client.post(f"/api/v1/comments/{comment_id}/sanctions", json={
        "kind": "ban", "match": ["email"], "reason": "threats"})
    assert made.status_code == 201 and made.get_json()["match"] == ["email"]

    again = posted(app, name="Skeptic2", email="Skeptic@Example.org", address="198.51.100.7")
    assert again.status_code == 403
    assert "You can no longer comment on this site." in again.get_data(as_text=True)
    assert comments_stored(app) == 1
    # Someone else, from elsewhere, is not caught by it.
    assert posted(app, name="Neighbour", email="other@example.org",
                  address="198.51.100.8").status_code == 303

    lifted = moderator_client.post(f"/api/v1/sanctions/{made.get_json()['id']}/lift")
    assert lifted.status_code == 200
    assert posted(app, name="Skeptic3", email="skeptic@example.org").status_code == 303


def test_a_suspension_says_until_when(app, moderator_client):
    comment_id = first_comment(app)
    made = moderator_client.post(f"/api/v1/comments/{comment_id}/sanctions", json={
        "kind": "suspend", "match": ["address"], "days": 7})
    assert made.status_code == 201
    refused = posted(app, name="Someone New")
    assert refused.status_code == 403
    assert "You cannot comment until" in refused.get_data(as_text=True)
    assert comments_stored(app) == 1


def test_a_hold_on_the_address_queues_every_comment_whatever_its_score(app, moderator_client):
    comment_id = first_comment(app)
    moderator_client.post(f"/api/v1/comments/{comment_id}/sanctions", json={
        "kind": "hold", "match": ["address"]})
    assert posted(app, name="Renamed", body="Lovely weather today.").status_code == 303
    Worker(app).run_once()
    with app.app_context():
        newest = db.session.execute(
            db.select(Comment).order_by(Comment.id.desc())).scalars().first()
        assert newest.author_name == "Renamed" and newest.state is CommentState.QUEUED


def test_bad_sanctions_are_refused_clearly(app, moderator_client):
    comment_id = first_comment(app)  # no email given
    cases = [
        ({"kind": "exile", "match": ["name"]}, 422, "Choose one of: hold, suspend, ban."),
        ({"kind": "ban", "match": []}, 422, "Match the author on at least one of"),
        ({"kind": "ban", "match": ["email"]}, 422, "This comment has no email to match on."),
        ({"kind": "suspend", "match": ["name"]}, 422, "A suspension lasts 1 to 3650 days"),
        ({"kind": "ban", "match": "name"}, 400, "match must be a list"),
        ({"kind": "ban", "match": ["name"], "days": "7"}, 400, "days must be a whole number"),
    ]
    for body, status, message in cases:
        response = moderator_client.post(f"/api/v1/comments/{comment_id}/sanctions", json=body)
        assert response.status_code == status, body
        assert message in response.get_json()["message"], body
    assert moderator_client.get("/api/v1/sanctions").get_json()["sanctions"] == []
    assert moderator_client.post("/api/v1/sanctions/999/lift").status_code == 404


def test_readers_cannot_sanction(app, client):
    with app.app_context():
        comment = make_comment(make_article(), "x")
        db.session.commit()
        comment_id = comment.id
    refused = client.post(f"/api/v1/comments/{comment_id}/sanctions",
                          json={"kind": "ban", "match": ["name"]})
    assert refused.status_code == 401 and "Sign in" in refused.get_json()["message"]
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Sanction.id))).scalar_one() == 0


def sanction_form(client, comment_id, **fields):
    return client.post(f"/authors/comments/{comment_id}/sanction", data=fields)


def test_a_ban_made_from_the_comment_page_refuses_the_renamed_author_and_lifts(
        app, moderator_client):
    comment_id = first_comment(app, email="skeptic@example.org")
    page = moderator_client.get(f"/decisions/comments/{comment_id}").get_data(as_text=True)
    assert "Hold, suspend or ban the author" in page and 'name="match" value="email"' in page

    made = sanction_form(moderator_client, comment_id, kind="ban", match=["email"],
                         reason="threats")
    assert made.status_code == 303
    followed = moderator_client.get(made.headers["Location"]).get_data(as_text=True)
    assert "Banned Skeptic, matched on email." in followed

    refused = posted(app, name="Skeptic2", email="skeptic@example.org", address="198.51.100.9")
    assert refused.status_code == 403 and comments_stored(app) == 1

    listing = moderator_client.get("/authors/?kind=ban").get_data(as_text=True)
    assert "Skeptic" in listing and "threats" in listing and ">email<" in listing
    with app.app_context():
        [sanction_id] = db.session.execute(db.select(Sanction.id)).scalars().all()
    lifted = moderator_client.post(f"/authors/sanctions/{sanction_id}/lift",
                                   data={"next": "/authors/?status=all"})
    assert lifted.status_code == 303 and lifted.headers["Location"] == "/authors/?status=all"
    assert "lifted" in moderator_client.get("/authors/?status=lifted").get_data(as_text=True)
    assert "No active sanction" in moderator_client.get("/authors/").get_data(as_text=True)
    assert posted(app, name="Skeptic2", email="skeptic@example.org").status_code == 303
    # Both ends are in the decision log, by whom.
    log = moderator_client.get("/decisions/").get_data(as_text=True)
    assert "ban made" in log and "ban lifted" in log and "maria" in log


def test_the_form_refuses_a_suspension_without_days_and_stores_nothing(app, moderator_client):
    comment_id = first_comment(app)
    answer = sanction_form(moderator_client, comment_id, kind="suspend", match=["name"])
    assert answer.status_code == 303
    assert "A suspension lasts 1 to 3650 days" in moderator_client.get(
        answer.headers["Location"]).get_data(as_text=True)
    nothing = sanction_form(moderator_client, comment_id, kind="ban")
    assert "Choose at least one of name, email or address" in moderator_client.get(
        nothing.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Sanction.id))).scalar_one() == 0


def test_a_held_address_says_why_on_the_card_and_the_author_page_shows_the_other_name(
        app, moderator_client):
    comment_id = first_comment(app)
    assert sanction_form(moderator_client, comment_id, kind="hold",
                         match=["address"]).status_code == 303
    assert posted(app, name="Skeptic2", body="Lovely weather today.").status_code == 303
    Worker(app).run_once()
    queue = moderator_client.get("/queue/?order=newest").get_data(as_text=True)
    assert "same address as “Skeptic”" in queue

    with app.app_context():
        first = db.session.get(Comment, comment_id)
        key = first.author_key
    page = moderator_client.get(f"/authors/{key}").get_data(as_text=True)
    assert "Skeptic2" in page and "same address" in page  # the other name, found by address
    assert "hold: same address as “Skeptic”" in page  # what holds them now
    assert moderator_client.get("/authors/" + "0" * 64).status_code == 404
    assert moderator_client.get("/authors/not-a-key").status_code == 404


def test_the_sanctions_pages_are_for_moderators_and_bad_filters_get_a_message(
        app, moderator_client):
    stranger = app.test_client()
    for answer in (stranger.get("/authors/"), stranger.post("/authors/sanctions/1/lift")):
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    bad = moderator_client.get("/authors/?status=forever")
    assert bad.status_code == 400 and "Unknown status." in bad.get_data(as_text=True)


def test_text_that_is_not_text_is_refused_and_the_list_filters(app, moderator_client):
    comment_id = first_comment(app)
    for body in ({"kind": "ban", "match": ["name"], "reason": "\ud800"},
                 {"kind": "ban\ud800", "match": ["name"]}):
        answer = moderator_client.post(f"/api/v1/comments/{comment_id}/sanctions", json=body)
        assert answer.status_code == 400 and "not text" in answer.get_json()["message"]
    made = moderator_client.post(f"/api/v1/comments/{comment_id}/sanctions",
                                 json={"kind": "hold", "match": ["name"]}).get_json()
    moderator_client.post(f"/api/v1/sanctions/{made['id']}/lift")
    assert moderator_client.get("/api/v1/sanctions").get_json()["sanctions"] == []
    [lifted] = moderator_client.get("/api/v1/sanctions?status=lifted").get_json()["sanctions"]
    assert lifted["id"] == made["id"] and lifted["lifted_at"]
    bad = moderator_client.get("/api/v1/sanctions?status=forever")
    assert bad.status_code == 400 and bad.get_json()["field"] == "status"
    # The web form's reason goes through the same check.
    form = sanction_form(moderator_client, comment_id, kind="ban", match=["name"],
                         reason="odd \x01")
    assert "not text" in moderator_client.get(form.headers["Location"]).get_data(as_text=True)
