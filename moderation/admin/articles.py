"""Admin: articles. Add one by hand, edit its details (headline, address, key, site...), open
or close comments and turn pre-moderation on or off. The rules are services/articles'."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation.admin.base import bp
from moderation.admin.forms_articles import ArticleForm
from moderation.admin.forms_users import ArticleSettingsForm
from moderation.extensions import db
from moderation.models import Article
from moderation.services import articles as service


def _page(errors=(), status=200):
    return render_template("admin/articles.html", rows=service.overview(),
                           errors=errors), status


def _article_or_404(article_id: int) -> Article:
    return service.get_article(article_id) or abort(404, "There is no such article.")


def _form_page(form: ArticleForm, article: Article | None = None, status: int = 200):
    return render_template("admin/article_form.html", form=form, article=article), status


@bp.get("/articles")
def articles():
    return _page()


@bp.route("/articles/new", methods=["GET", "POST"])
def new_article():
    form = ArticleForm()
    if not form.validate_on_submit():
        return _form_page(form, status=400 if form.is_submitted() else 200)
    try:
        article = service.create(current_user, form.values(), key=form.external_key.data)
    except service.ArticleError as error:
        db.session.rollback()
        form.refuse(error.field, str(error))
        return _form_page(form, status=400)
    db.session.commit()
    flash(f"Added “{article.headline}”.", "success")
    return redirect(url_for("admin.articles", _anchor=f"article-{article.id}"), code=303)


@bp.route("/articles/<id:article_id>/edit", methods=["GET", "POST"])
def edit_article(article_id):
    article = _article_or_404(article_id)
    if request.method == "GET":
        return _form_page(ArticleForm.of(article), article)
    form = ArticleForm()
    if not form.validate_on_submit():
        return _form_page(form, article, status=400)
    try:
        changed = service.update(current_user, article, form.values(),
                                 key=form.external_key.data)
    except service.ArticleError as error:
        db.session.rollback()
        form.refuse(error.field, str(error))
        return _form_page(form, article, status=400)
    db.session.commit()
    if changed:
        flash(f"Saved the changes to “{article.headline}”.", "success")
    else:
        flash(f"“{article.headline}” already said all that: nothing changed.", "info")
    return redirect(url_for("admin.articles", _anchor=f"article-{article.id}"), code=303)


@bp.post("/articles/<id:article_id>/settings")
def article_settings(article_id):
    article = _article_or_404(article_id)
    form = ArticleSettingsForm()
    if not form.validate_on_submit():
        return _page(errors=["This form has expired. Reload the page and try again; nothing "
                             "was changed."], status=400)
    was_open, was_premoderated = article.comments_open, article.premoderate
    changed = service.update_settings(
        current_user, article, comments_open=form.comments_open.data,
        premoderate=form.premoderate.data)
    db.session.commit()
    if not changed:
        flash(f"“{article.headline}” was already so: nothing to change.", "info")
    for message in _settings_news(article, was_open, was_premoderated):
        flash(message, "success")
    return redirect(url_for("admin.articles"), code=303)


def _settings_news(article: Article, was_open: bool, was_premoderated: bool) -> list[str]:
    """What changed, in words an editor would use."""
    title = f"“{article.headline}”"
    news = []
    if article.comments_open != was_open:
        news.append(f"Comments on {title} are now {'open' if article.comments_open else 'closed'}.")
    if article.premoderate != was_premoderated:
        news.append(f"Every new comment on {title} now waits for a moderator."
                    if article.premoderate else
                    f"Comments on {title} no longer all wait for a moderator: their scores "
                    "decide again.")
    return news
