"""The moderators' workspace: the filtered queue, riskiest first, and every decision on it
(approve, reject, bulk, undo, hold an author) as a POST that comes back to the same filters."""

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from moderation import wordmatch
from moderation.extensions import db
from moderation.queue.forms import (
    MATCHING_LIMIT,
    REASON_CHOICES,
    BulkForm,
    DecisionForm,
    HoldForm,
    QueueActionForm,
    QueueFilterForm,
    filter_form_from_next,
    queue_path,
)
from moderation.services import authors, reports, sanctions, waiting, words
from moderation.services import decide as decisions
from moderation.services import queue as queues
from moderation.services.scorer import produced_labels
from moderation.services.users import moderator_required

bp = Blueprint("queue", __name__, url_prefix="/queue")

PAGE_SIZE = 50
RECENT_PER_AUTHOR = 3
# The last decision made without JavaScript, offered for undo on the next page view.
UNDO_KEY = "queue_undo"
AUTHOR_KEY = re.compile(r"[0-9a-f]{64}")
# One line per card, or the whole card: chosen by ?density= (no JavaScript) or the toggle,
# remembered in this cookie either way.
DENSITY_COOKIE = "queue_density"
DENSITIES = ("comfortable", "compact")


def _density() -> str:
    asked = request.args.get("density") or request.cookies.get(DENSITY_COOKIE)
    return asked if asked in DENSITIES else DENSITIES[0]


def _render(filters: QueueFilterForm, status: int = 200, *, cursor: str | None = None,
            undo: dict | None = None, card_error: dict | None = None):
    page, error, filtered = None, None, None
    try:
        queue_filter = filters.to_filter()
        page = queues.page(queue_filter, cursor=cursor,
                           limit=current_app.config.get("MODERATION_QUEUE_PAGE_SIZE", PAGE_SIZE))
        filtered = queues.filtered_counts(queue_filter)
    except queues.QueueError as problem:
        error, status = str(problem), 400
    comments = page.comments if page else []
    if card_error and card_error["id"] not in {comment.id for comment in comments}:
        # Its card is not on this page: say it at the top instead.
        flash(card_error["message"], "error")
    produced = produced_labels()
    filters.mark_labels(produced)
    # Everything about the page's authors in three queries, whatever the page's length.
    keys = {comment.author_key for comment in comments if comment.author_key}
    held = authors.held_keys(keys)
    arguments = filters.arguments() if page else {}
    return render_template(
        "queue/index.html",
        page=page,
        comments=comments,
        filters=filters,
        arguments=arguments,
        error=error,
        here=url_for("queue.index", **arguments, **({"cursor": cursor} if cursor else {})),
        counts=queues.state_counts(),
        filtered_counts=filtered,
        articles=queues.articles_waiting(),
        density=_density(),
        card_error=card_error,
        histories=authors.histories(keys),
        held=held,
        lookalikes=authors.staff_lookalikes(comments),
        why_waiting=waiting.reasons(comments, held, sanctions.for_comments(comments)),
        recent=authors.recent_by_author(keys, limit=RECENT_PER_AUTHOR + 1),
        recent_limit=RECENT_PER_AUTHOR,
        label_scores=lambda score: queues.label_scores(score, produced),
        close_matches=queues.close_matches,
        report_summaries=reports.summaries([comment.id for comment in comments]),
        report_reasons=reports.REASONS,
        # Banned and suspect words in each card's text, marked where they are.
        word_hits=words.matches_for(comments),
        word_pieces=wordmatch.pieces,
        word_summary=wordmatch.summary,
        reasons=REASON_CHOICES,
        undo=undo,
        matching_limit=MATCHING_LIMIT,
    ), status


def _refuse(form: QueueActionForm, status: int, message: str):
    """Nothing was saved: say why, on the queue the moderator came from."""
    db.session.rollback()
    flash(message, "error")
    return _render(filter_form_from_next(form.next.data), status)


def _refuse_on_card(form: DecisionForm, comment, status: int, message: str,
                    field: str | None):
    """Nothing was saved: say why on the comment's own card, beside the field to fix, with
    what the moderator chose and typed still there."""
    db.session.rollback()
    card_error = {"id": comment.id, "message": message, "field": field,
                  "action": form.action.data, "reason": form.reason.data or "",
                  "note": form.note.data or ""}
    return _render(filter_form_from_next(form.next.data), status, card_error=card_error)


def _form_problem(form: QueueActionForm, fallback: str) -> str:
    return "; ".join(message for messages in form.errors.values() for message in messages
                     ) or fallback


def _back(form: QueueActionForm):
    return redirect(queue_path(form.next.data) or url_for("queue.index"), code=303)


def _comment(comment_id: int):
    return decisions.comment_for_decision(comment_id) or abort(404, "No such comment.")


@bp.get("/")
@moderator_required
def index():
    body, status = _render(QueueFilterForm(request.args),
                           cursor=request.args.get("cursor") or None,
                           undo=session.pop(UNDO_KEY, None))
    response = make_response(body, status)
    if request.args.get("density") in DENSITIES:
        response.set_cookie(DENSITY_COOKIE, request.args["density"], max_age=365 * 86400,
                            path=bp.url_prefix + "/", samesite="Lax",
                            secure=request.is_secure)
    return response


@bp.post("/<id:comment_id>/decision")
@moderator_required
def decision(comment_id):
    comment = _comment(comment_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _refuse_on_card(form, comment, 400,
                               _form_problem(form, "That decision could not be read."),
                               form.problem_field)
    try:
        decisions.decide(comment, current_user, form.action.data,
                         reason=form.reason.data or None, note=form.note.data)
    except decisions.StateConflict as conflict:
        return _refuse(form, 409, conflict.describe())
    except decisions.DecisionError as error:
        return _refuse_on_card(form, comment, 400, str(error), error.field)
    db.session.commit()
    verb = {"approve": "Approved", "reject": "Rejected", "remove": "Removed"}[form.action.data]
    flash(f"{verb} the comment by {comment.author_name}.", "success")
    session[UNDO_KEY] = {"id": comment.id, "author": comment.author_name}
    return _back(form)


@bp.post("/<id:comment_id>/dismiss-reports")
@moderator_required
def dismiss_reports(comment_id):
    comment = _comment(comment_id)
    form = QueueActionForm()
    if not form.validate_on_submit():
        return _refuse(form, 400, "This form has expired. Reload the page; nothing was changed.")
    try:
        reports.dismiss(comment, current_user)
    except decisions.StateConflict as conflict:
        return _refuse(form, 409, conflict.describe())
    except reports.ReportError as error:
        return _refuse(form, 409, str(error))
    db.session.commit()
    flash(f"Dismissed the reports on the comment by {comment.author_name}; it stays up.",
          "success")
    return _back(form)


@bp.post("/<id:comment_id>/undo")
@moderator_required
def undo(comment_id):
    comment = _comment(comment_id)
    form = QueueActionForm()
    if not form.validate_on_submit():
        return _refuse(form, 400, _form_problem(form, "That undo could not be read."))
    try:
        decisions.undo(comment, current_user,
                       window_seconds=float(current_app.config["MODERATION_UNDO_SECONDS"]))
    except decisions.StateConflict as conflict:
        return _refuse(form, 409, conflict.describe())
    except decisions.DecisionError as error:
        return _refuse(form, 422, str(error))
    db.session.commit()
    flash(f"Undone: the comment by {comment.author_name} is back in the queue.", "success")
    return _back(form)


@bp.post("/bulk")
@moderator_required
def bulk():
    form = BulkForm()
    if not form.validate_on_submit():
        return _refuse(form, 400, _form_problem(form, "That bulk decision could not be read."))
    ids = form.ids.data
    if form.scope == "matching":
        try:
            ids = queues.matching_ids(QueueFilterForm(request.form).to_filter(), MATCHING_LIMIT)
        except queues.QueueError as problem:
            return _refuse(form, 400, str(problem))
    try:
        result = decisions.bulk_decide(ids, current_user, form.action,
                                       reason=form.reason.data or None, note=form.note.data)
    except decisions.DecisionError as error:
        return _refuse(form, 400, str(error))
    db.session.commit()
    flash(bulk_summary(form.action, result), "success" if result.decided else "info")
    return _back(form)


@bp.post("/<id:comment_id>/hold")
@moderator_required
def hold(comment_id):
    comment = _comment(comment_id)
    form = HoldForm()
    if not form.validate_on_submit():
        return _refuse(form, 400, _form_problem(form, "That hold could not be read."))
    try:
        authors.hold(comment, current_user, form.reason.data)
    except authors.HoldError as error:
        return _refuse(form, 409, str(error))
    db.session.commit()
    flash(f"Held {comment.author_name}: their new comments will wait for a moderator.",
          "success")
    return _back(form)


@bp.post("/authors/<key>/lift")
@moderator_required
def lift(key):
    if not AUTHOR_KEY.fullmatch(key):
        abort(404, "No such author.")
    form = QueueActionForm()
    if not form.validate_on_submit():
        return _refuse(form, 400, _form_problem(form, "That request could not be read."))
    try:
        record = authors.lift(key, current_user)
    except authors.HoldError as error:
        return _refuse(form, 409, str(error))
    db.session.commit()
    flash(f"Lifted the hold on {record.author_name}.", "success")
    return _back(form)


_DECIDER = re.compile(r" by (.+?) at \d{4}-\d\d-\d\d ")


def bulk_summary(action: str, result: decisions.BulkResult) -> str:
    """"Rejected 12; 1 already decided by omar." """
    parts = [f"{'Approved' if action == 'approve' else 'Rejected'} {len(result.decided)}"]
    if result.conflicts:
        # BulkResult gives each conflict as a sentence; the names are read back out of it.
        deciders = sorted({match.group(1) for text in result.conflicts.values()
                           if (match := _DECIDER.search(text))})
        parts.append(f"{len(result.conflicts)} already decided"
                     + (f" by {', '.join(deciders)}" if deciders else ""))
    if result.missing:
        parts.append(f"{len(result.missing)} no longer there")
    return "; ".join(parts) + "."
