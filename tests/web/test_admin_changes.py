"""The admin page's "Recent admin changes" says in words what each admin changed, including
policy saves, re-activations and holds on authors, which used to be missing."""

from moderation.extensions import db
from moderation.models import CommentState
from tests.factories import make_article, make_comment
from tests.web.test_admin_policy import lowered_toxicity


def test_recent_admin_changes_are_written_in_words(app, admin_client):
    with app.app_context():
        article = make_article(slug="flood-barrier", headline="Council approves a flood barrier")
        comment = make_comment(article, author_name="Skeptic", state=CommentState.QUEUED)
        db.session.commit()
        article_id, comment_id = article.id, comment.id

    assert admin_client.post(f"/admin/articles/{article_id}/settings",
                             data={}).status_code in (302, 303)
    assert admin_client.post("/admin/policy", data=lowered_toxicity()).status_code == 303
    assert admin_client.post("/admin/policy/versions/1/activate",
                             data={"note": "back to the defaults"}).status_code in (302, 303)
    assert admin_client.post(f"/queue/{comment_id}/hold",
                             data={"reason": "spam"}).status_code in (302, 303)

    html = admin_client.get("/admin/").get_data(as_text=True)
    changes = html[html.index("Recent admin changes"):]
    assert "ada closed comments on “Council approves a flood barrier”" in changes
    assert "ada changed the toxicity reject threshold from 0.90 to 0.80 (policy v2)" in changes
    assert "ada re-activated policy v1 (saved as v3)" in changes
    assert "ada held every comment by “Skeptic”" in changes
    assert "article.settings" not in changes and "policy.save" not in changes
