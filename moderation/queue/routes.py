"""The moderators' queue: riskiest first, approve or reject with a POST."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.extensions import db
from moderation.queue.forms import DecisionForm
from moderation.services import decide as decisions
from moderation.services import queue as queues
from moderation.services.users import moderator_required

bp = Blueprint("queue", __name__, url_prefix="/queue")


def _render(status=200, **extra):
    return render_template(
        "queue/index.html",
        comments=queues.queue_page(),
        counts=queues.state_counts(),
        form=DecisionForm(),
        label_scores=queues.label_scores,
        **extra,
    ), status


@bp.get("/")
@moderator_required
def index():
    return _render()


@bp.post("/<id:comment_id>/decision")
@moderator_required
def decision(comment_id):
    comment = decisions.comment_for_decision(comment_id) or abort(404, "No such comment.")
    form = DecisionForm()
    if not form.validate_on_submit():
        errors = "; ".join(message for messages in form.errors.values() for message in messages)
        flash(errors or "That decision could not be read.", "error")
        return _render(400)
    try:
        decisions.decide(comment, current_user, form.action.data,
                         reason=form.reason.data or None, note=form.note.data)
    except decisions.StateConflict as conflict:
        db.session.rollback()
        flash(conflict.describe(), "error")
        return _render(409)
    except decisions.DecisionError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render(400)
    db.session.commit()
    verb = "Approved" if form.action.data == "approve" else "Rejected"
    flash(f"{verb} the comment by {comment.author_name}.", "success")
    return redirect(url_for("queue.index"), code=303)
