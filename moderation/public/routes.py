"""Article pages, the comment form and a comment's own status page."""

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_limiter import RateLimitExceeded

from moderation import errors, post_limits
from moderation.extensions import db, limiter
from moderation.public.forms import CommentForm, ReportForm
from moderation.services import reports, review_time, submit

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    return render_template(
        "public/index.html", articles=submit.list_articles(), counts=submit.published_counts()
    )


def _render_article(article, form, status=200, refusal=None):
    before = request.args.get("before", type=int)
    page = submit.published_comments(
        article, before=before if before and 0 < before < 2**31 else None)
    return render_template("public/article.html", article=article, page=page,
                           comments=page.comments, form=form, refusal=refusal,
                           sign_in=submit.sign_in_needed(article),
                           review_wait=review_time.typical_wait()), status


@bp.errorhandler(RateLimitExceeded)
@bp.errorhandler(post_limits.PostingTooOften)
def too_many(error):
    """Posting too often keeps what the reader typed: the article's form again, with the
    text and why it was not taken. Other limits get the ordinary page."""
    found = (submit.article_by_slug(request.view_args.get("slug", ""))
             if request.endpoint == "public.post_comment" and request.view_args else None)
    if found is None or errors.wants_json():  # the page's script keeps the text itself
        return errors.http_error_response(error)
    page = make_response(_render_article(found, CommentForm(), 429,
                                         refusal=errors.MESSAGES[429]))
    return errors.with_extra_headers(page, error)


@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico whatever the page says; every modern one reads SVG.
    return send_from_directory(current_app.static_folder, "favicon.svg",
                               mimetype="image/svg+xml", max_age=86400)


@bp.get("/articles/<slug>")
def article(slug):
    found = submit.article_by_slug(slug) or abort(404, "There is no article at this address.")
    return _render_article(found, CommentForm())


@bp.post("/articles/<slug>/comments")
def post_comment(slug):
    found = submit.article_for_post(slug) or abort(404, "There is no article at this address.")
    try:
        submit.ensure_open(found)  # before reading the form: a closed article is a 403
    except submit.CommentsClosed as closed:
        abort(403, str(closed))
    sign_in = submit.sign_in_needed(found)
    if sign_in:
        abort(403, f"{sign_in} Nothing was saved.")
    if request.content_length and not request.form:
        # Werkzeug drops a urlencoded body that is not valid UTF-8 as a whole.
        abort(400, "We could not read that post: it is not text (UTF-8 form data). "
                   "Nothing was saved.")
    form = CommentForm()
    if not form.validate_on_submit():
        return _invalid(found, form)
    ip_hash = submit.hash_ip(request.remote_addr, current_app.config["SECRET_KEY"])
    limit = post_limits.count_or_refuse()  # in the transaction that stores the comment
    try:
        posted = submit.submit_comment(found, author_name=form.author_name.data,
                                       author_email=form.author_email.data,
                                       body=form.body.data, ip_hash=ip_hash)
    except submit.ArticleGone as gone:
        post_limits.refuse(404, str(gone))
    except (submit.Refused, submit.CommentsClosed) as refused:  # banned; closed meanwhile
        post_limits.refuse(403, str(refused))  # nothing is stored
    db.session.commit()
    status_url = url_for("public.comment_status", token=posted.public_token)
    if errors.wants_json():
        # The article page's script stays on the article and follows state_url.
        response = jsonify({"token": posted.public_token, "state": "pending",
                            "state_url": url_for("public.comment_state",
                                                 token=posted.public_token),
                            "status_url": status_url})
        return post_limits.with_headers(response, limit), 201
    return post_limits.with_headers(redirect(status_url, code=303), limit)


def _invalid(found, form):
    limit = post_limits.count_refused_form()
    if errors.wants_json():
        response = jsonify({"error": errors.TITLES[400], "fields": form.errors,
                            "message": "Please check the marked fields; nothing was saved."})
        return post_limits.with_headers(response, limit), 400
    article = submit.article_by_slug(found.slug) or abort(404, "This article is gone.")
    return post_limits.with_headers(make_response(_render_article(article, form, 400)), limit)


@bp.get("/comments/<token>")
def comment_status(token):
    comment = submit.comment_by_token(token) or abort(404, "We could not find that comment.")
    return render_template("public/comment_status.html", comment=comment,
                           taken_down=submit.was_taken_down(comment),
                           review_wait=review_time.typical_wait())


@bp.get("/comments/<token>/state")
def comment_state(token):
    """What the article page's script polls after a post: the state and what to tell the
    reader, never the text or a moderator's reasons."""
    comment = submit.comment_by_token(token[:64])
    if comment is None:
        return jsonify({"error": errors.TITLES[404],
                        "message": "We could not find that comment."}), 404
    state, message = submit.reader_progress(comment)
    answer = {"state": state, "message": message,
              "status_url": url_for("public.comment_status", token=comment.public_token)}
    if state == "published":
        answer["comment_url"] = url_for("public.article", slug=comment.article.slug,
                                        _anchor=f"comment-{comment.id}")
    return jsonify(answer)


def _published(comment_id: int):
    comment = submit.comment_by_id(comment_id)
    if comment is None or comment.import_id is not None:
        abort(404, "We could not find that comment.")
    return comment


def _render_report(comment, form, status=200, message=None):
    return render_template("public/report.html", comment=comment, form=form,
                           message=message), status


@bp.get("/comments/<id:comment_id>/report")
def report_form(comment_id):
    comment = _published(comment_id)
    if not comment.is_published:
        return _render_report(comment, None, 410, "This comment is no longer published.")
    return _render_report(comment, ReportForm())


@bp.post("/comments/<id:comment_id>/report")
@limiter.limit(reports.rate_limit, key_func=lambda: request.remote_addr or "unknown")
def report_comment(comment_id):
    comment = _published(comment_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return _render_report(comment, form, 400)
    try:
        reports.report(comment, reports.reader_key(request.remote_addr), form.reason.data,
                       form.note.data, hide_at=reports.hide_at())
    except reports.AlreadyReported as already:
        db.session.rollback()
        return _render_report(comment, None, 409, str(already))
    except reports.ReportError as error:
        db.session.rollback()
        if not comment.is_published:
            return _render_report(comment, None, 410, str(error))
        form.reason.errors = [*form.reason.errors, str(error)]
        return _render_report(comment, form, 400)
    db.session.commit()
    return _render_report(comment, None, 200, "Thank you. A moderator will look at it; if "
                                              "enough readers report it, it is hidden until then.")
