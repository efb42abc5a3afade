"""An admin adds a newsroom's article by hand and edits any article (a demo one without a CMS
key too): the same rules as the API, each refusal shown beside its field, every change in the
admin log, and each article's waiting comments one click from the queue."""

import re
import time

import pytest

from moderation.auth.reauth import SESSION_KEY
from moderation.extensions import db
from moderation.models import AdminEvent, Article, CommentState
from moderation.services import sites
from tests.factories import make_article, make_comment

NEW = {"headline": "Council approves a flood barrier",
       "canonical_url": "https://bugle.example/2024/05/flood-barrier",
       "section": "Local", "byline": "By Jo Smith", "published_at": "2024-05-01T09:00",
       "external_key": "", "site_id": "", "comments_open": "y"}


@pytest.fixture
def bugle(app) -> int:
    with app.app_context():
        site = sites.save(None, None, name="Daily Bugle", origins=[], allow_anonymous=True,
                          auto_register=False)
        db.session.commit()
        return site.id


def articles_in(app) -> list[Article]:
    with app.app_context():
        rows = db.session.execute(db.select(Article).order_by(Article.id)).scalars().all()
        db.session.expunge_all()
        return rows


def logged(app) -> list[tuple[str, dict]]:
    with app.app_context():
        rows = db.session.execute(db.select(AdminEvent).where(
            AdminEvent.action.startswith("article.")).order_by(AdminEvent.id)).scalars()
        return [(row.action, row.detail) for row in rows]


def field_errors(html: str, name: str) -> str:
    """The error text shown in the field block of input `name`."""
    match = re.search(r'<div class="field has-error">(?:(?!<div class="field).)*?name="'
                      + name + r'".*?</div>', html, re.S)
    assert match, f"no error beside {name}"
    return " ".join(re.findall(r'<p class="error">(.*?)</p>', match.group(0)))


def test_an_admin_adds_an_article_without_a_key_to_a_site(app, admin_client, bugle):
    form = admin_client.get("/admin/articles/new").get_data(as_text=True)
    assert f'<option value="{bugle}">Daily Bugle</option>' in form
    added = admin_client.post("/admin/articles/new", data={
        **NEW, "site_id": str(bugle), "comments_open": ""})
    assert added.status_code == 303
    [article] = articles_in(app)
    assert added.headers["Location"] == f"/admin/articles#article-{article.id}"
    assert (article.headline, article.site_id, article.external_key) == (
        NEW["headline"], bugle, None)
    assert article.published_at.isoformat() == "2024-05-01T09:00:00"
    assert not article.comments_open and article.slug == "council-approves-a-flood-barrier"
    assert [action for action, _ in logged(app)] == ["article.create"]

    page = admin_client.get("/admin/articles").get_data(as_text=True)
    assert "Added “Council approves a flood barrier”." in page
    row = page.split(f'id="article-{article.id}"')[1].split("</tr>")[0]
    assert "no key" in row and NEW["canonical_url"] in row


def test_a_key_in_use_is_refused_beside_the_key_field(app, admin_client):
    with app.app_context():
        make_article(headline="The original", external_key="2024/05/flood")
        db.session.commit()
    refused = admin_client.post("/admin/articles/new", data={**NEW, "external_key":
                                                             "2024/05/flood"})
    assert refused.status_code == 400
    assert "Another article already has the key 2024/05/flood (“The original”)" in \
        field_errors(refused.get_data(as_text=True), "external_key")
    assert [row.headline for row in articles_in(app)] == ["The original"]
    assert logged(app) == []


@pytest.mark.parametrize("changes, name, message", [
    ({"headline": ""}, "headline", "Give the article its headline."),
    ({"canonical_url": "bugle.example/story"}, "canonical_url", "full http(s) URL"),
    ({"published_at": "yesterday"}, "published_at", "The published date"),
    ({"external_key": "has space"}, "external_key", "An article key is 1 to 200"),
    ({"section": "x" * 81}, "section", "The section is at most 80 characters."),
    ({"site_id": "999"}, "site_id", "Not a valid choice"),
])
def test_a_bad_field_is_shown_beside_it_and_nothing_is_stored(app, admin_client, changes,
                                                              name, message):
    refused = admin_client.post("/admin/articles/new", data={**NEW, **changes})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert message in field_errors(html, name)
    assert 'value="https://bugle.example' in html or "canonical_url" in changes  # kept typed
    assert articles_in(app) == [] and logged(app) == []


def test_an_admin_edits_a_demo_article_and_links_it_to_the_cms(app, admin_client):
    with app.app_context():
        article = make_article(slug="demo", headline="Old headline", section="Town")
        db.session.commit()
        article_id = article.id
    form = admin_client.get(f"/admin/articles/{article_id}/edit").get_data(as_text=True)
    assert 'value="Old headline"' in form and 'value="Town"' in form

    saved = admin_client.post(f"/admin/articles/{article_id}/edit", data={
        **NEW, "headline": "New headline", "section": "Town", "external_key": "cms-41",
        "premoderate": "y"})
    assert saved.status_code == 303
    [row] = articles_in(app)
    assert (row.headline, row.external_key, row.slug, row.premoderate) == (
        "New headline", "cms-41", "demo", True)
    [(action, detail)] = logged(app)
    assert action == "article.update"
    assert detail["before"]["key"] is None and detail["after"]["key"] == "cms-41"
    assert "Saved the changes to “New headline”." in admin_client.get(
        "/admin/articles").get_data(as_text=True)


def test_saving_an_article_unchanged_changes_and_logs_nothing(app, admin_client):
    with app.app_context():
        article = make_article(headline="Steady", external_key="steady")
        article.published_at = article.published_at.replace(microsecond=123456)
        db.session.commit()
        article_id, published = article.id, article.published_at
    form = admin_client.get(f"/admin/articles/{article_id}/edit").get_data(as_text=True)
    values = {re.search(r'name="(\w+)"', tag).group(1): re.search(r'value="([^"]*)"', tag)
              .group(1) for tag in re.findall(r'<input[^>]* type="text"[^>]*>', form)}
    assert values["published_at"].endswith(".123456")
    values.update(comments_open="y", site_id="")
    saved = admin_client.post(f"/admin/articles/{article_id}/edit", data=values)
    assert saved.status_code == 303
    assert logged(app) == [] and articles_in(app)[0].published_at == published
    assert "nothing changed" in admin_client.get("/admin/articles").get_data(as_text=True)


def test_closing_comments_on_the_edit_page_refuses_readers(app, admin_client):
    with app.app_context():
        article_id = make_article(slug="closing", headline="Closing").id
        db.session.commit()
    data = {**NEW, "headline": "Closing", "comments_open": ""}
    assert admin_client.post(f"/admin/articles/{article_id}/edit", data=data).status_code == 303
    refused = app.test_client().post("/articles/closing/comments", data={
        "author_name": "Jo", "author_email": "", "body": "Hello there."})
    assert refused.status_code == 403


def test_the_waiting_count_opens_the_queue_for_that_article(app, admin_client):
    with app.app_context():
        mine = make_article(slug="mine", headline="Mine")
        other = make_article(slug="other", headline="Other")
        make_comment(mine, "A remark waiting on mine", state=CommentState.QUEUED, risk=0.5,
                     author_name="Ana")
        make_comment(other, "A remark waiting elsewhere", state=CommentState.QUEUED,
                     risk=0.5, author_name="Ben")
        db.session.commit()
        mine_id = mine.id
    page = admin_client.get("/admin/articles").get_data(as_text=True)
    row = page.split(f'id="article-{mine_id}"')[1].split("</tr>")[0]
    [link] = re.findall(r'class="count waiting"><a href="([^"]+)"', row)
    queue = admin_client.get(link)
    assert queue.status_code == 200
    html = queue.get_data(as_text=True)
    assert "A remark waiting on mine" in html and "A remark waiting elsewhere" not in html


def test_an_old_sign_in_is_asked_for_the_password_before_anything_is_added(app,
                                                                            admin_client):
    with admin_client.session_transaction() as session:
        session[SESSION_KEY] = time.time() - 24 * 3600
    response = admin_client.post("/admin/articles/new", data=NEW)
    assert response.status_code == 303 and response.headers["Location"].startswith("/confirm")
    assert articles_in(app) == []


def test_moderators_cannot_add_or_edit_articles(app, moderator_client):
    with app.app_context():
        article_id = make_article(headline="Untouched").id
        db.session.commit()
    assert moderator_client.get("/admin/articles/new").status_code == 403
    assert moderator_client.post(f"/admin/articles/{article_id}/edit",
                                 data={**NEW, "headline": "Touched"}).status_code == 403
    assert [row.headline for row in articles_in(app)] == ["Untouched"]


def test_editing_an_unknown_article_is_a_404(admin_client):
    assert admin_client.get("/admin/articles/999999/edit").status_code == 404
