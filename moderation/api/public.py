"""The readers' side of the JSON API under /api/v1/public: what any page may call without an
account. For now: reporting a published comment, as the article page's form does.

No cookie identifies the caller and nothing here acts for a signed-in user, so there is no CSRF
to guard against beyond the JSON content type (a cross-site form cannot send one without a
CORS preflight, which this answers with no allowance)."""

from flask import Blueprint, request

from moderation.api import schema
from moderation.api.schema import ApiError
from moderation.extensions import csrf, db, limiter
from moderation.services import reports, submit

bp = Blueprint("public_api", __name__, url_prefix="/api/v1/public")
csrf.exempt(bp)


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error.response()


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
