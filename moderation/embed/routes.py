"""The comments embed: /embed.js for the news site's page, and the iframe it builds. The
iframe is server-rendered (it works without JavaScript) and may be framed only by the site's
own origins; everything else keeps frame-ancestors 'none'."""

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from limits import parse_many

from moderation import post_limits, security
from moderation.embed.forms import CARRIED, EmbedCommentForm
from moderation.extensions import csrf, db, limiter
from moderation.services import embed, embed_tokens, sso, submit
from moderation.services.sites import normal_origin

bp = Blueprint("embed", __name__)


@bp.after_request
def let_the_site_frame_it(response):
    site = g.get("embed_site")
    if site is not None:
        response.headers.update(security.framed_by(embed.frame_ancestors(site)))
    return response


@bp.get("/embed.js")
def script():
    response = send_from_directory(current_app.static_folder, "embed.js",
                                   mimetype="text/javascript", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _carried(values) -> dict[str, str]:
    # One bound for all: the longest is the sign-in token, which sso accepts up to this.
    return {name: values.get(name, "")[:sso.MAX_TOKEN_CHARS] for name in CARRIED
            if values.get(name)}


def _admit_registration(origin: str | None):
    """What a new article registered from a page must pass: a browser's frame load, and the
    per-address limit on registrations (only new articles count against it)."""
    def admit():
        embed.check_frame_load(origin, fetch_dest=request.headers.get("Sec-Fetch-Dest"),
                               fetch_site=request.headers.get("Sec-Fetch-Site"),
                               fetch_mode=request.headers.get("Sec-Fetch-Mode"),
                               referer=request.headers.get("Referer"))
        if not limiter.enabled:
            return
        address = request.remote_addr or "unknown"
        for item in parse_many(current_app.config["MODERATION_AUTO_REGISTER_LIMIT"]):
            if not limiter.limiter.hit(item, "embed-auto-register", address):
                raise embed.EmbedError("Too many new articles have been registered from this "
                                       "address; try again later, or ask the newsroom to "
                                       "register the article.", 429)
    return admit


def _site_and_article(values, *, register: bool):
    origin = values.get("origin")
    try:
        g.embed_site = site = embed.site_for(origin)
        article, created = embed.article_for(
            site, values.get("key", ""), values.get("url") if register else None,
            values.get("title"), admit=_admit_registration(origin) if register else None)
    except embed.EmbedError as error:
        abort(error.status, str(error))
    if created:
        db.session.commit()
    return site, article


def _reader(site, token: str | None):
    """(the signed-in reader or None, the error that refused their token or None)."""
    if not token:
        return None, None
    try:
        return sso.verify(site, token), None
    except sso.SSOError as error:
        return None, error


def _render(site, article, form, reader, *, status=200, message=None, sso_error=None):
    args = _carried(request.values)
    order = request.args.get("order", "newest")
    after = request.args.get("after", type=int)
    page = embed.published_page(article, order=order,
                                after=after if after and 0 < after < 2**31 else None)
    mine = embed.readers_own(article, request.args.get("mine"))
    if form is not None:
        form.form_token.data = embed_tokens.form_token(article.id, site.id)
        for name, value in args.items():
            getattr(form, name).data = value
    return render_template(
        "embed/comments.html", site=site, article=article, page=page, form=form,
        reader=reader, args=args, mine=mine, mine_state=mine and embed.public_state(mine),
        theme=embed.theme_for(site, args.get("theme")),
        font=embed.font_for(site, args.get("font")),
        parent_origin=normal_origin(request.values.get("origin")),
        message=message, sso_error=sso_error, may_post=reader is not None
        or (site.allow_anonymous and sso_error is None)), status


def _form(reader):
    form = EmbedCommentForm()
    return form.for_signed_in_reader() if reader is not None else form


@bp.get("/embed/comments")
def comments():
    site, article = _site_and_article(request.args, register=True)
    reader, sso_error = _reader(site, request.args.get("sso"))
    status = sso_error.status if sso_error else 200
    form = _form(reader) if article.comments_open else None
    return _render(site, article, form, reader, status=status, sso_error=sso_error)


@bp.post("/embed/comments")
@csrf.exempt  # no session cookie in a third-party iframe: a signed form token instead
def post_comment():
    if not embed_tokens.from_own_origin(request.headers.get("Origin"),
                                        request.headers.get("Sec-Fetch-Site"), request.host_url):
        abort(403, "Comments can only be posted from the comment form itself.")
    site, article = _site_and_article(request.form, register=False)
    try:
        submit.ensure_open(article)
    except submit.CommentsClosed as closed:
        abort(403, str(closed))
    reader = _signed_in_or_refuse(site, request.form.get("sso"))
    form = _form(reader)
    try:
        embed_tokens.check_form_token(form.form_token.data, article.id, site.id)
    except embed_tokens.FormTokenError as error:
        return _render(site, article, form, reader, status=400, message=str(error))
    if not form.validate():
        limit = post_limits.count_refused_form()
        return post_limits.with_headers(
            make_response(_render(site, article, form, reader, status=400)), limit)
    return _store(site, article, form, reader)


def _signed_in_or_refuse(site, token: str | None):
    reader, error = _reader(site, token)
    if error is not None:
        abort(error.status, f"{error} Nothing was saved.")
    if reader is None and not site.allow_anonymous:
        abort(403, f"{site.name} asks readers to sign in to comment. Sign in on the site and "
                   "reload the page; nothing was saved.")
    return reader


def _store(site, article, form, reader):
    name = reader.name if reader else form.author_name.data
    email = reader.email if reader else form.author_email.data
    ip_hash = submit.hash_ip(request.remote_addr, current_app.config["SECRET_KEY"])
    reader_id = reader.reader_id if reader else None
    limit = post_limits.count_or_refuse()  # in the transaction that stores the comment
    try:
        posted = submit.submit_comment(article, author_name=name, author_email=email,
                                       body=form.body.data, ip_hash=ip_hash,
                                       reader_id=reader_id)
    except submit.ArticleGone as gone:
        post_limits.refuse(404, str(gone))
    except (submit.Refused, submit.CommentsClosed) as refused:  # banned; closed meanwhile
        post_limits.refuse(403, str(refused))  # nothing is stored
    db.session.commit()
    return post_limits.with_headers(
        redirect(url_for("embed.comments", **_carried(request.form),
                         mine=posted.public_token, _anchor="your-comment"), code=303), limit)


@bp.get("/embed/comments/<token>/state")
def comment_state(token):
    comment = submit.comment_by_token(token[:64])
    if comment is None:
        return jsonify({"error": "Not found", "message": "We could not find that comment."}), 404
    return jsonify({"state": embed.public_state(comment)})
