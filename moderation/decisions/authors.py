"""Authors and sanctions: the sanctions page, an author's page, and making or lifting a
sanction. Matching and refusing live in services/sanctions."""

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from moderation.decisions.author_forms import (
    KIND_LABELS,
    MATCH_LABELS,
    SanctionFilterForm,
    SanctionForm,
)
from moderation.extensions import db
from moderation.models import Comment
from moderation.services import author_profile, sanctions
from moderation.services.users import moderator_required

bp = Blueprint("authors", __name__, url_prefix="/authors")
AUTHOR_KEY = re.compile(r"[0-9a-f]{64}")
DONE = {"hold": "Held", "suspend": "Suspended", "ban": "Banned"}


@bp.get("/")
@moderator_required
def index():
    form = SanctionFilterForm(request.args)
    if not form.validate():
        return render_template("authors/index.html", form=form, rows=[],
                               error=form.error_message(), status_of=sanctions.status_of), 400
    rows = sanctions.browse(form.kind.data or None, form.status.data or "active",
                            form.name.data or None)
    return render_template("authors/index.html", form=form, rows=rows, error=None,
                           status_of=sanctions.status_of, lift_form=FlaskForm())


@bp.get("/<key>")
@moderator_required
def author(key):
    if not AUTHOR_KEY.fullmatch(key):
        abort(404, "No such author.")
    found = author_profile.profile(key) or abort(404, "No such author.")
    return render_template("authors/author.html", profile=found, status_of=sanctions.status_of,
                           form=SanctionForm(), lift_form=FlaskForm(), kinds=KIND_LABELS,
                           matches=MATCH_LABELS, comment=found.comments[0],
                           available=sanctions.available_keys(found.comments[0]))


@bp.post("/comments/<id:comment_id>/sanction")
@moderator_required
def sanction(comment_id):
    """Hold, suspend or ban this comment's author on the chosen keys."""
    comment = db.session.get(Comment, comment_id) or abort(404, "No such comment.")
    form = SanctionForm()
    back = url_for("authors.author", key=comment.author_key) if comment.author_key else \
        url_for("decisions.comment_history", comment_id=comment_id)
    if not form.validate_on_submit():
        flash(form.error_message() or "That sanction could not be read.", "error")
        return redirect(back, code=303)
    try:
        made = sanctions.create(comment, current_user, form.kind.data, form.match.data,
                                days=form.days.data, reason=form.reason.data)
    except sanctions.SanctionError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back, code=303)
    db.session.commit()
    until = f" until {made.expires_at:%d %B %Y, %H:%M} UTC" if made.expires_at else ""
    flash(f"{DONE[made.kind]} {made.author_name}{until}, matched on "
          f"{', '.join(form.match.data)}.", "success")
    return redirect(back, code=303)


@bp.post("/sanctions/<id:sanction_id>/lift")
@moderator_required
def lift(sanction_id):
    if not FlaskForm().validate_on_submit():
        abort(400, "That request could not be read: reload the page and try again.")
    try:
        lifted = sanctions.lift(sanction_id, current_user)
    except LookupError:
        abort(404, "No such sanction.")
    except sanctions.SanctionError as error:
        db.session.rollback()
        flash(str(error), "info")
    else:
        db.session.commit()
        flash(f"Lifted the {lifted.kind} on {lifted.author_name}.", "success")
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/authors/") else url_for("authors.index"),
                    code=303)
