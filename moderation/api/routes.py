"""JSON API under /api/v1: the queue, one comment, decisions (one, undo, bulk) and author
holds. Views parse with schema.py, call one service, commit or roll back, and answer JSON."""

from flask import Blueprint, current_app
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import selectinload

from moderation.api import auth, schema
from moderation.api.schema import ApiError
from moderation.extensions import csrf, db
from moderation.models import Comment, Decision, Score
from moderation.services import authors, reports, sanctions
from moderation.services import decide as decisions
from moderation.services import queue as queues

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Token requests carry no CSRF token; auth.authenticate checks it for session requests.
csrf.exempt(bp)
bp.before_request(auth.authenticate)


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error.response()


@bp.errorhandler(CSRFError)
def csrf_error(error):
    return ApiError(400, "The CSRF token is missing or invalid: send it in the X-CSRFToken "
                         "header, or use an API token. Nothing was saved.").response()


def _undo_seconds() -> float:
    return float(current_app.config["MODERATION_UNDO_SECONDS"])


def _comment(comment_id: int) -> Comment:
    comment = decisions.comment_for_decision(comment_id)
    if comment is None:
        raise ApiError(404, f"There is no comment {comment_id}.")
    return comment


@bp.get("/queue")
def queue():
    args = schema.query_args(schema.QUEUE_KEYS)
    queue_filter = schema.queue_filter(args)
    limit = schema.whole_number(args.get("limit"), field="limit", low=1,
                                high=queues.MAX_PAGE, default=50)
    cursor = schema.cursor(args.get("cursor"))
    try:
        result = queues.page(queue_filter, limit=limit, cursor=cursor)
    except queues.QueueError:
        raise ApiError(400, "That page link is broken or belongs to another order: start "
                            "from the first page.", field="cursor") from None
    return {"items": schema.items(result.comments), "next_cursor": result.next_cursor,
            "counts": queues.state_counts()}


@bp.get("/comments/<id:comment_id>")
def comment(comment_id):
    found = db.session.execute(
        db.select(Comment).where(Comment.id == comment_id).options(
            selectinload(Comment.article),
            selectinload(Comment.current_score).selectinload(Score.site_model),
            selectinload(Comment.policy),
            selectinload(Comment.decisions).options(selectinload(Decision.actor),
                                                    selectinload(Decision.policy)))
    ).scalar_one_or_none()
    if found is None:
        raise ApiError(404, f"There is no comment {comment_id}.")
    recent = (authors.recent_comments(found.author_key, exclude_id=found.id)
              if found.author_key else [])
    last = decisions.undoable(found, _undo_seconds())
    user = auth.api_user()
    may_undo = last is not None and (last.actor_id == user.id or user.is_admin)
    return schema.detail(found, recent, may_undo)


@bp.post("/comments/<id:comment_id>/decision")
def decision(comment_id):
    wanted = schema.decision_request(schema.json_object())
    target = _comment(comment_id)
    user = auth.api_user()
    try:
        if wanted.action == decisions.UNDO:
            record = decisions.undo(target, user, window_seconds=_undo_seconds())
        else:
            record = decisions.decide(target, user, wanted.action, reason=wanted.reason,
                                      note=wanted.note)
    except decisions.StateConflict as conflict:
        db.session.rollback()
        raise ApiError(409, conflict.describe(), state=conflict.state.value) from None
    except decisions.DecisionError as error:
        # The request is well formed but makes no sense for this comment now.
        db.session.rollback()
        raise ApiError(422, str(error), field=error.field) from None
    db.session.commit()
    return {"comment": schema.items([target])[0], "decision": schema.decision(record)}


@bp.get("/comments/<id:comment_id>/reports")
def comment_reports(comment_id):
    """Every report on the comment, open and settled (reporters appear only as a hash)."""
    target = _comment(comment_id)
    return {"comment_id": target.id, "open": target.report_count,
            "weight": target.report_weight,
            "reports": [schema.report(row) for row in reports.all_reports(target.id)]}


@bp.post("/comments/<id:comment_id>/reports/dismiss")
def dismiss_reports(comment_id):
    schema.json_object(required=False)
    target = _comment(comment_id)
    try:
        record = reports.dismiss(target, auth.api_user())
    except decisions.StateConflict as conflict:
        db.session.rollback()
        raise ApiError(409, conflict.describe(), state=conflict.state.value) from None
    except reports.ReportError as error:
        db.session.rollback()
        raise ApiError(422, str(error)) from None
    db.session.commit()
    return {"comment": schema.items([target])[0], "decision": schema.decision(record)}


@bp.post("/comments/<id:comment_id>/sanctions")
def sanction_author(comment_id):
    """Hold, suspend or ban the author of this comment, matched on the chosen keys."""
    wanted = schema.sanction_request(schema.json_object())
    target = _comment(comment_id)
    try:
        made = sanctions.create(target, auth.api_user(), wanted.kind, wanted.match,
                                days=wanted.days, reason=wanted.reason)
    except sanctions.SanctionError as error:
        db.session.rollback()
        raise ApiError(422, str(error)) from None
    db.session.commit()
    return schema.sanction(made), 201


@bp.get("/sanctions")
def list_sanctions():
    """The active sanctions, newest first; ?status=active|expired|lifted|all, ?kind=."""
    args = schema.query_args(("status", "kind"))
    status = args.get("status") or "active"
    kind = args.get("kind") or None
    if status not in sanctions.STATUSES:
        raise ApiError(400, f"status is one of: {', '.join(sanctions.STATUSES)}.", field="status")
    if kind is not None and kind not in sanctions.KINDS:
        raise ApiError(400, f"kind is one of: {', '.join(sanctions.KINDS)}.", field="kind")
    return {"sanctions": [schema.sanction(row)
                          for row in sanctions.browse(kind, status, limit=500)]}


@bp.post("/sanctions/<id:sanction_id>/lift")
def lift_sanction(sanction_id):
    schema.json_object(required=False)
    try:
        lifted = sanctions.lift(sanction_id, auth.api_user())
    except LookupError:
        raise ApiError(404, "No such sanction.") from None
    except sanctions.SanctionError as error:
        db.session.rollback()
        raise ApiError(409, str(error)) from None
    db.session.commit()
    return schema.sanction(lifted)


@bp.post("/decisions/bulk")
def bulk():
    wanted = schema.bulk_request(schema.json_object())
    ids = wanted.ids
    if ids is None:
        ids = queues.matching_ids(wanted.queue_filter, wanted.limit)
    try:
        result = decisions.bulk_decide(ids, auth.api_user(), wanted.decision.action,
                                       reason=wanted.decision.reason,
                                       note=wanted.decision.note)
    except decisions.DecisionError as error:
        db.session.rollback()
        raise ApiError(422, str(error)) from None
    db.session.commit()
    return {"decided": result.decided,
            "conflicts": {str(key): message for key, message in result.conflicts.items()},
            "missing": result.missing}


def _latest_by(key: str) -> Comment:
    found = authors.recent_comments(key, limit=1)
    if not found:
        raise ApiError(404, "No comment has this author key.")
    return found[0]


def _author_response(latest: Comment):
    return {"author": schema.author(latest, schema.AuthorFacts.of([latest]))}


@bp.post("/authors/<key>/hold")
def hold_author(key):
    reason = schema.hold_reason(schema.json_object(required=False))
    latest = _latest_by(key)
    try:
        authors.hold(latest, auth.api_user(), reason)
    except authors.HoldError as error:
        db.session.rollback()
        raise ApiError(409, str(error), held=True) from None
    db.session.commit()
    return _author_response(latest)


@bp.post("/authors/<key>/lift")
def lift_author(key):
    schema.json_object(required=False)  # nothing to read, but a body sent must be JSON
    latest = _latest_by(key)
    try:
        authors.lift(key, auth.api_user())
    except authors.HoldError as error:
        db.session.rollback()
        raise ApiError(409, str(error), held=False) from None
    db.session.commit()
    return _author_response(latest)
