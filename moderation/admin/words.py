"""Admin: banned and suspect word lists (routes added to the admin blueprint)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation import wordmatch
from moderation.admin.base import bp
from moderation.admin.forms_words import RemoveWordForm, TryForm, WordForm
from moderation.extensions import db
from moderation.services import words as word_lists


def _page(form: WordForm | None = None, status: int = 200):
    trial = TryForm(request.args)
    sample = None
    if trial.text.data:
        if trial.validate():
            found = word_lists.find(trial.text.data)
            sample = {"matches": found, "pieces": wordmatch.pieces(trial.text.data, found),
                      "summary": wordmatch.summary(found)}
        elif status == 200:
            status = 400
    return render_template(
        "admin/words.html",
        form=form if form is not None else WordForm(formdata=None),
        remove_form=RemoveWordForm(),
        trial=trial,
        sample=sample,
        banned=word_lists.active_rules("banned"),
        suspect=word_lists.active_rules("suspect"),
        removed=word_lists.removed_rules(),
    ), status


@bp.get("/words")
def words():
    return _page()


@bp.post("/words")
def add_word():
    form = WordForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        pasted = word_lists.add_many(current_user, form.word.data, form.kind.data,
                                     form.note.data, inflect=form.inflect.data)
    except word_lists.WordError as error:
        db.session.rollback()
        form.word.errors = [*form.word.errors, str(error)]
        return _page(form, 400)
    db.session.commit()
    flash(word_lists.paste_summary(pasted, form.kind.data), "success")
    return redirect(url_for("admin.words"), code=303)


@bp.post("/words/<id:rule_id>/remove")
def remove_word(rule_id):
    if not RemoveWordForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again; nothing was changed.")
    try:
        rule = word_lists.remove(rule_id, current_user)
    except LookupError:
        abort(404, "No such word.")
    except word_lists.WordError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _page(status=409)
    db.session.commit()
    flash(f"Removed “{rule.word}” from the {rule.kind} words.", "success")
    return redirect(url_for("admin.words"), code=303)
