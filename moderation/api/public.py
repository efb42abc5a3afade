"""The readers' side of the JSON API under /api/v1/public: what any page may call without an
account. For now: reporting a published comment, as the article page's form does.

No cookie identifies the caller and nothing here acts for a signed-in user, so there is no CSRF
to guard against beyond the JSON content type (a cross-site form cannot send one without a
CORS preflight, which this answers with no allowance)."""

from flask import Blueprint, current_app, request

from moderation.api import schema
from moderation.api.schema import ApiError
from moderation.extensions import csrf, db, limiter
from moderation.services import reports, submit
from moderation.validators import _JUNK

bp = Blueprint("public_api", __name__, url_prefix="/api/v1/public")
csrf.exempt(bp)


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error.response()


def _report_limit() -> str:
    return current_app.config["MODERATION_REPORT_LIMIT"]


@bp.post("/comments/<id:comment_id>/reports")
@limiter.limit(_report_limit, key_func=lambda: request.remote_addr or "unknown")
def report(comment_id):
    """{"reason": one of REASONS, "note"?}: 201 when taken, 409 when this reader reported it
    already, 410 when it is not published (any more)."""
    if not request.is_json:
        raise ApiError(415, "Send the report as JSON (Content-Type: application/json).")
    body = schema.json_object()
    schema._only(body, ("reason", "note"))
    for key in ("reason", "note"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ApiError(400, f"{key} must be text.", field=key)
    comment = submit.comment_by_id(comment_id)
    if comment is None or comment.import_id is not None:
        raise ApiError(404, "We could not find that comment.")
    try:
        reports.check(body.get("reason"), body.get("note"))
    except reports.ReportError as error:
        raise ApiError(400, str(error), field="reason" if "Choose" in str(error) else "note",
                       reasons=list(reports.REASONS)) from None
    if body.get("note") and _JUNK.search(body["note"]):
        raise ApiError(400, "The note contains characters that are not text.", field="note")
    secret = current_app.config["SECRET_KEY"]
    key = reports.reporter_key("ip:" + submit.hash_ip(request.remote_addr, secret), secret)
    try:
        reports.report(comment, key, body.get("reason"), body.get("note"),
                       hide_at=int(current_app.config["MODERATION_REPORTS_TO_HIDE"]))
    except reports.AlreadyReported as already:
        db.session.rollback()
        raise ApiError(409, str(already)) from None
    except reports.ReportError as error:
        db.session.rollback()
        raise ApiError(410, str(error)) from None
    db.session.commit()
    return {"status": "received", "message": "Thank you. A moderator will look at it; if enough "
                                             "readers report it, it is hidden until then."}, 201
