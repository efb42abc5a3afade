"""The readers' side of the JSON API under /api/v1/public: what any page may call without an
account. Reading an article's published comments and many articles' comment counts (cached,
and readable cross-origin by the sites' own pages), and reporting a published comment, as the
article page's form does. See docs/public-api.md.

No cookie identifies the caller and nothing here acts for a signed-in user, so there is no CSRF
to guard against beyond the JSON content type (a cross-site form cannot send one without a
CORS preflight, which this answers with no allowance)."""

from flask import Blueprint, current_app, request, send_from_directory

from moderation.api import public_http, public_schema, schema
from moderation.api.schema import ApiError
from moderation.extensions import csrf, db, limiter
from moderation.services import public_comments, reports, submit
from moderation.services.public_comments import PublicReadError

bp = Blueprint("public_api", __name__, url_prefix="/api/v1/public")
csrf.exempt(bp)
# The reads a site's pages call cross-origin; the report POST stays same-origin only.
READS = frozenset({"public_api.comments", "public_api.counts"})
COMMENTS_MAX_AGE = 30
COUNTS_MAX_AGE = 60
SCRIPT_MAX_AGE = 3600

# /count.js sits at the root, where a site's pages load it from.
script_bp = Blueprint("public_script", __name__)


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error.response()


@bp.before_request
def answer_preflight():
    if request.method == "OPTIONS" and request.endpoint in READS:
        return public_http.preflight()
    return None


@bp.after_request
def cross_origin(response):
    if request.endpoint in READS and request.method != "OPTIONS":
        public_http.add_cors(response)  # errors too, so a page can read the message
    return response


def _bad_request(error: PublicReadError):
    return ApiError(400, str(error), field=error.field)


@bp.get("/articles/<path:key>/comments")
def comments(key):
    """Published comments, newest (or oldest) first, `limit` at a time, `next_cursor` on."""
    args = schema.query_args(("cursor", "limit", "order"))
    limit = schema.whole_number(args.get("limit"), field="limit", low=1,
                                high=public_comments.MAX_LIMIT,
                                default=public_comments.DEFAULT_LIMIT)
    article = public_comments.find_article(key)
    if article is None:
        raise ApiError(404, "There is no article with that key (the CMS registers an article "
                            "before its comments can be read).")
    try:
        page = public_comments.page(article, order=args.get("order"), cursor=args.get("cursor"),
                                    limit=limit)
    except PublicReadError as error:
        raise _bad_request(error) from None
    return public_http.cacheable(public_schema.page(page), max_age=COMMENTS_MAX_AGE)


@bp.get("/counts")
def counts():
    """{"counts": {key: published comments}} for up to 100 keys; unknown keys count 0."""
    schema._only(request.args, ("keys",))
    try:
        keys = public_comments.parse_keys(request.args.getlist("keys"))
    except PublicReadError as error:
        raise _bad_request(error) from None
    return public_http.cacheable({"counts": public_comments.counts(keys)},
                                 max_age=COUNTS_MAX_AGE)


@script_bp.get("/count.js")
def count_script():
    """Fills a page's [data-comments-for] elements with their counts (one request)."""
    return send_from_directory(current_app.static_folder, "count.js", max_age=SCRIPT_MAX_AGE)


@bp.post("/comments/<id:comment_id>/reports")
@limiter.limit(reports.rate_limit, key_func=lambda: request.remote_addr or "unknown")
def report(comment_id):
    """{"reason": one of REASONS, "note"?}: 201 when taken, 409 when this reader reported it
    already, 410 when it is not published (any more)."""
    if not request.is_json:
        raise ApiError(415, "Send the report as JSON (Content-Type: application/json).")
    body = schema.json_object()
    schema._only(body, ("reason", "note"))
    reason = schema._text(body, "reason", max_chars=40)
    note = schema._text(body, "note", max_chars=reports.MAX_NOTE * 2)
    comment = submit.comment_by_id(comment_id)
    if comment is None or comment.import_id is not None:
        raise ApiError(404, "We could not find that comment.")
    try:
        reports.report(comment, reports.reader_key(request.remote_addr), reason, note,
                       hide_at=reports.hide_at())
    except reports.AlreadyReported as already:
        db.session.rollback()
        raise ApiError(409, str(already)) from None
    except reports.ReportError as error:
        db.session.rollback()
        if error.field is None:  # the comment is not published (any more)
            raise ApiError(410, str(error)) from None
        raise ApiError(400, str(error), field=error.field, reasons=list(reports.REASONS)) \
            from None
    db.session.commit()
    return {"status": "received", "message": "Thank you. A moderator will look at it; if enough "
                                             "readers report it, it is hidden until then."}, 201
