"""An admin opens or closes comments on an article and turns pre-moderation on or off; readers
and the scoring worker feel it at once."""

import pytest
from sqlalchemy import event

from moderation.extensions import db
from moderation.models import AdminEvent, Article, Comment, CommentState
from moderation.worker import Worker
from tests.factories import make_article, make_comment


@pytest.fixture
def story(app) -> int:
    with app.app_context():
        article = make_article(slug="flood-barrier", headline="Council approves a flood barrier")
        db.session.commit()
        return article.id


def settings(client, article_id, *, comments_open, premoderate):
    data = {}
    if comments_open:
        data["comments_open"] = "y"
    if premoderate:
        data["premoderate"] = "y"
    return client.post(f"/admin/articles/{article_id}/settings", data=data)


def reader_posts(app, slug, body="Well reported, thanks."):
    return app.test_client().post(f"/articles/{slug}/comments", data={
        "author_name": "Jo Reader", "author_email": "", "body": body})


def article_events(app):
    with app.app_context():
        rows = db.session.execute(db.select(AdminEvent).order_by(AdminEvent.id)).scalars()
        return [(row.action, row.target, row.detail) for row in rows]


def comments_on(app, article_id) -> list[Comment]:
    with app.app_context():
        rows = db.session.execute(db.select(Comment).where(Comment.article_id == article_id)
                                  .order_by(Comment.id)).scalars().all()
        db.session.expunge_all()
        return rows


def test_the_list_shows_each_article_s_settings_and_counts_from_one_query(app, admin_client):
    with app.app_context():
        busy = make_article(headline="Busy story")
        for state in (CommentState.PENDING, CommentState.QUEUED, CommentState.HELD,
                      CommentState.APPROVED, CommentState.APPROVED, CommentState.REJECTED):
            make_comment(busy, state=state)
        quiet = make_article(headline="Quiet story", comments_open=False, premoderate=True)
        for _ in range(3):
            make_comment(make_article(), state=CommentState.APPROVED)
        db.session.commit()
        busy_id, quiet_id = busy.id, quiet.id
        engine = db.engine

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = admin_client.get("/admin/articles")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    busy_row = html.split(f'id="article-{busy_id}"')[1].split("</tr>")[0]
    assert 'class="count waiting"><a href="/queue/?article=story-' in busy_row
    assert '">3</a>' in busy_row and 'class="count published">2<' in busy_row
    assert "Busy story" in busy_row and "open" in busy_row
    quiet_row = html.split(f'id="article-{quiet_id}"')[1].split("</tr>")[0]
    assert "closed" in quiet_row and "pre-moderated" in quiet_row
    assert 'class="count waiting">0<' in quiet_row
    assert sum("FROM comments" in sql for sql in statements) == 1  # not one per article


def test_closing_an_article_refuses_readers_and_stores_nothing(app, admin_client, story):
    response = settings(admin_client, story, comments_open=False, premoderate=False)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/articles"
    assert "Comments on “Council approves a flood barrier” are now closed." in \
        admin_client.get("/admin/articles").get_data(as_text=True)
    assert article_events(app) == [(
        "article.settings", "article flood-barrier",
        {"before": {"comments_open": True, "premoderate": False},
         "after": {"comments_open": False, "premoderate": False},
         "headline": "Council approves a flood barrier"})]

    refused = reader_posts(app, "flood-barrier")
    assert refused.status_code == 403
    assert "Comments on “Council approves a flood barrier” are closed" in refused.get_data(
        as_text=True)
    assert comments_on(app, story) == []
    page = app.test_client().get("/articles/flood-barrier").get_data(as_text=True)
    assert "Comments on this article are closed" in page and "Post Comment</button>" not in page

    settings(admin_client, story, comments_open=True, premoderate=False)
    assert reader_posts(app, "flood-barrier").status_code == 303
    assert len(comments_on(app, story)) == 1


def test_pre_moderation_queues_a_harmless_comment_scored_afterwards(app, admin_client, story):
    with app.app_context():
        other = make_article(slug="other").id
        db.session.commit()
    assert settings(admin_client, story, comments_open=True,
                    premoderate=True).status_code == 303
    reader_posts(app, "flood-barrier", "Thanks, this was clear and useful.")
    reader_posts(app, "other", "Thanks, this was clear and useful.")

    assert Worker(app).run_once() == 2

    [waiting] = comments_on(app, story)
    [published] = comments_on(app, other)
    assert waiting.risk is not None and waiting.risk < 0.1  # scored harmless...
    assert waiting.state is CommentState.QUEUED  # ...and still waits for a moderator
    assert published.state is CommentState.APPROVED
    [(_, _, detail)] = article_events(app)
    assert detail["after"] == {"comments_open": True, "premoderate": True}


def test_saving_unchanged_settings_changes_and_logs_nothing(app, admin_client, story):
    response = settings(admin_client, story, comments_open=True, premoderate=False)
    assert response.status_code == 303
    assert "nothing to change" in admin_client.get("/admin/articles").get_data(as_text=True)
    assert article_events(app) == []


def test_an_unknown_article_is_a_404(app, admin_client):
    response = settings(admin_client, 999999, comments_open=False, premoderate=False)
    assert response.status_code == 404
    assert "There is no such article." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(AdminEvent.id))).scalar_one() == 0


def test_settings_need_the_form_s_csrf_token(app, admin_client, story):
    app.config["WTF_CSRF_ENABLED"] = True
    assert settings(admin_client, story, comments_open=False, premoderate=False).status_code == 400
    with app.app_context():
        assert db.session.get(Article, story).comments_open
    assert article_events(app) == []
