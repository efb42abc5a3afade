"""Admin: import past decisions from another tool (routes added to the admin blueprint)."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from moderation.admin.base import bp
from moderation.admin.forms_imports import ImportForm
from moderation.errors import MESSAGES, TITLES
from moderation.extensions import db
from moderation.services import importer

UPLOAD_ENDPOINT = "admin.import_upload"


def _max_bytes() -> int:
    return int(current_app.config["MODERATION_IMPORT_MAX_BYTES"])


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.0f} MB"
    return f"{count / 1024:.0f} KB" if count >= 1024 else f"{count:,} bytes"


def _too_big() -> str:
    return (f"That file is larger than {_size(_max_bytes())}, the most one "
            "import takes. Split it into smaller files and import them one by one; "
            "nothing was imported.")


def _page(form=None, errors=None, status=200):
    return render_template(
        "admin/imports.html",
        form=form if form is not None else ImportForm(formdata=None),
        errors=errors or [],
        batches=importer.batch_summaries(),
        max_size=_size(_max_bytes()),
        max_rows=importer.MAX_ROWS,
        archive_slug=importer.ARCHIVE_SLUG,
    ), status


@bp.get("/imports")
def imports():
    return _page()


@bp.post("/imports")
def import_upload():
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    upload = form.file.data
    data = upload.stream.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        return _page(form, errors=[_too_big()], status=413)
    try:
        result = importer.import_decisions(data, upload.filename, current_user)
    except importer.ImportRejected as rejected:
        db.session.rollback()
        return _page(form, errors=rejected.errors, status=400)
    db.session.commit()
    flash(f"{result.rows:,} decision{'s' if result.rows != 1 else ''} imported; the scoring "
          "worker will score them.", "success")
    if result.archive_note:
        flash(result.archive_note, "info")
    return redirect(url_for("admin.imports"), code=303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    # Raised while the body is read (by the CSRF check or the form), before any view runs;
    # the site-wide message talks about comments, which is wrong for an import.
    if request.endpoint == UPLOAD_ENDPOINT and current_user.is_authenticated \
            and current_user.is_admin:
        return _page(errors=[_too_big()], status=413)
    return render_template("errors/error.html", code=413, title=TITLES[413],
                           message=MESSAGES[413]), 413
