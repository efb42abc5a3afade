"""The decision log: who decided what, when and why."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from moderation.decisions.author_forms import KIND_LABELS, MATCH_LABELS, SanctionForm
from moderation.decisions.forms import DecisionFilterForm
from moderation.extensions import db
from moderation.models import utcnow
from moderation.queue.forms import REASON_CHOICES, DecisionForm
from moderation.services import audit, sanctions, submit
from moderation.services import decide as decisions
from moderation.services.users import moderator_required

bp = Blueprint("decisions", __name__, url_prefix="/decisions")


def _render_index(form, status=200, **extra):
    recent = sanctions.events(limit=10, moderator=form.moderator.data or None) \
        if not form.errors else []
    return render_template("decisions/index.html", form=form, sanction_events=recent,
                           reasons=REASON_CHOICES,
                           moderators=audit.moderator_names(), **extra), status


@bp.get("/")
@moderator_required
def index():
    form = DecisionFilterForm(request.args)
    try:
        if not form.validate():
            raise audit.AuditError(form.error_message())
        found = audit.page(form.to_filter(), before=form.before.data, limit=int(
            current_app.config.get("MODERATION_DECISIONS_PER_PAGE", audit.PAGE_SIZE)))
    except audit.AuditError as error:
        return _render_index(form, 400, error=str(error))
    return _render_index(form, page=found, excerpt=audit.excerpt, action_of=audit.action_of,
                         summary=audit.summary, later=audit.later,
                         policy_version=audit.policy_version)


@bp.get("/export.csv")
@moderator_required
def export():
    form = DecisionFilterForm(request.args)
    try:
        if not form.validate():
            raise audit.AuditError(form.error_message())
        rows = audit.export_rows(form.to_filter())
    except audit.AuditError as error:
        return _render_index(form, 400, error=str(error))
    filename = f"decisions-{utcnow():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(audit.csv_lines(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _render_comment(comment_id: int, status: int = 200, error: str | None = None):
    history = audit.comment_history(comment_id) or abort(404, "No such comment.")
    window = float(current_app.config["MODERATION_UNDO_SECONDS"])
    last = decisions.undoable(history.comment, window)
    before, after = submit.neighbours(history.comment)
    return render_template(
        "decisions/comment.html", history=history, error=error, form=DecisionForm(),
        before=before, after=after, new_sanction=SanctionForm(), kinds=KIND_LABELS,
        matches=MATCH_LABELS, available=sanctions.available_keys(history.comment),
        sanctioned=sanctions.for_comments([history.comment]).get(history.comment.id),
        reasons=REASON_CHOICES, may_undo=last is not None and decisions.may_undo(
            last, current_user),
        taken_down=submit.was_taken_down(history.comment)), status


@bp.get("/comments/<id:comment_id>")
@moderator_required
def comment_history(comment_id):
    return _render_comment(comment_id)


@bp.post("/comments/<id:comment_id>/decision")
@moderator_required
def comment_decision(comment_id):
    """Approve, reject, remove (take down a published comment) or undo, from its own page."""
    comment = decisions.comment_for_decision(comment_id) or abort(404, "No such comment.")
    form = DecisionForm()
    if not form.validate_on_submit():
        problems = "; ".join(m for messages in form.errors.values() for m in messages)
        return _render_comment(comment_id, 400, problems or "That decision could not be read.")
    try:
        if form.action.data == decisions.UNDO:
            decisions.undo(comment, current_user,
                           window_seconds=float(current_app.config["MODERATION_UNDO_SECONDS"]))
        else:
            decisions.decide(comment, current_user, form.action.data,
                             reason=form.reason.data or None, note=form.note.data)
    except decisions.StateConflict as conflict:
        db.session.rollback()
        return _render_comment(comment_id, 409, conflict.describe())
    except decisions.DecisionError as error:
        db.session.rollback()
        return _render_comment(comment_id, 400, str(error))
    db.session.commit()
    done = {"approve": "Approved", "reject": "Rejected", "remove": "Removed from the article",
            decisions.UNDO: "Undone"}[form.action.data]
    flash(f"{done}.", "success")
    return redirect(url_for("decisions.comment_history", comment_id=comment_id), code=303)
