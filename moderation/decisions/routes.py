"""The decision log: who decided what, when and why."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
)

from moderation.decisions.forms import DecisionFilterForm
from moderation.models import utcnow
from moderation.services import audit
from moderation.services.users import moderator_required

bp = Blueprint("decisions", __name__, url_prefix="/decisions")


def _render_index(form, status=200, **extra):
    return render_template("decisions/index.html", form=form,
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
    return _render_index(form, page=found, excerpt=audit.excerpt, action_of=audit.action_of)


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


@bp.get("/comments/<id:comment_id>")
@moderator_required
def comment_history(comment_id):
    history = audit.comment_history(comment_id) or abort(404, "No such comment.")
    return render_template("decisions/comment.html", history=history)
