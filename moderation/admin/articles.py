"""Admin: articles. Open or close comments and turn pre-moderation on or off, per article."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.admin.base import bp
from moderation.admin.forms_users import ArticleSettingsForm
from moderation.extensions import db
from moderation.services.articles import get_article, overview, update_settings


def _page(errors=(), status=200):
    return render_template("admin/articles.html", rows=overview(),
                           errors=errors), status


@bp.get("/articles")
def articles():
    return _page()


@bp.post("/articles/<id:article_id>/settings")
def article_settings(article_id):
    article = get_article(article_id) or abort(404, "There is no such article.")
    form = ArticleSettingsForm()
    if not form.validate_on_submit():
        return _page(errors=["This form has expired. Reload the page and try again; nothing "
                             "was changed."], status=400)
    changed = update_settings(
        current_user, article, comments_open=form.comments_open.data,
        premoderate=form.premoderate.data)
    db.session.commit()
    if not changed:
        flash(f"“{article.headline}”: nothing to change.", "info")
    else:
        state = "open" if article.comments_open else "closed"
        review = ("every comment waits for a moderator" if article.premoderate
                  else "comments are published by the policy")
        flash(f"“{article.headline}”: comments {state}; {review}.", "success")
    return redirect(url_for("admin.articles"), code=303)
