"""Admin: the semantic examples the offline scorer compares comments with, and the site
models learned from moderators' decisions (routes added to the admin blueprint)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation.admin.base import bp
from moderation.admin.forms_learning import ExampleForm, RemoveExampleForm, SiteModelForm
from moderation.auth.reauth import sensitive
from moderation.extensions import db
from moderation.scoring.examples import Example
from moderation.services import example_replay, site_models
from moderation.services import examples as example_lists
from moderation.services.scorer import scorer_choice


def _examples_page(form: ExampleForm | None = None, status: int = 200):
    label = request.args.get("label")
    shown = label if label in example_lists.LIST_LABELS else None
    by_label = example_lists.by_label()
    scorer = scorer_choice().scorer
    return render_template(
        "admin/examples.html", form=form or ExampleForm(formdata=None),
        remove_form=RemoveExampleForm(), by_label=by_label, shown=shown,
        removed=example_lists.removed(), uses_examples=hasattr(scorer, "set_examples"),
        scorer_name=scorer.identity.name, proposals=example_lists.proposals(),
    ), status


@bp.get("/examples")
def examples():
    return _examples_page()


@bp.post("/examples")
@sensitive
def add_example():
    form = ExampleForm()
    if not form.validate_on_submit():
        return _examples_page(form, 400)
    try:
        row = example_lists.add(current_user, form.label.data, form.text.data,
                                form.kind.data != "lookalike", form.note.data)
    except example_lists.ExampleError as error:
        db.session.rollback()
        form.text.errors = [*form.text.errors, str(error)]
        return _examples_page(form, 400)
    db.session.commit()
    kind = "harmful example" if row.harmful else "harmless look-alike"
    flash(f"Proposed a {kind} for {row.label.replace('_', ' ')}. See what it would change, "
          "then put it in use.", "success")
    return redirect(url_for("admin.example_proposal", proposal_id=row.id), code=303)


def _replay_page(title: str, result, *, proposal=None, removal=None):
    scorer = scorer_choice().scorer
    return render_template(
        "admin/example_replay.html", title=title, replay=result, proposal=proposal,
        state=example_lists.proposal_state(proposal) if proposal else None, removal=removal,
        moved=example_replay.moved_comments(result) if result.ready else [],
        uses_examples=hasattr(scorer, "set_examples"), scorer_name=scorer.identity.name,
        form=SiteModelForm(), remove_form=RemoveExampleForm())


@bp.get("/examples/proposals/<id:proposal_id>")
def example_proposal(proposal_id: int):
    row = example_lists.proposal(proposal_id)
    if row is None:
        abort(404, "No such proposal.")
    result = example_replay.replay(add=[example_lists.as_example(row)])
    return _replay_page("Proposed example", result, proposal=row)


@bp.get("/examples/replay-removal")
def example_removal_replay():
    form = RemoveExampleForm(request.args, meta={"csrf": False})
    if not form.validate():
        abort(400, "Say which example: its label, kind and text.")
    example = Example(form.label.data, form.text.data, form.kind.data == "harmful")
    if example not in example_lists.active():
        abort(404, "That example is not in use.")
    return _replay_page("Removing an example", example_replay.replay(remove=[example]),
                        removal=example)


@bp.post("/examples/proposals/<id:proposal_id>/accept")
@sensitive
def accept_proposal(proposal_id: int):
    return _decide_proposal(proposal_id, "accept")


@bp.post("/examples/proposals/<id:proposal_id>/discard")
@sensitive
def discard_proposal(proposal_id: int):
    return _decide_proposal(proposal_id, "discard")


def _decide_proposal(proposal_id: int, verdict: str):
    if not SiteModelForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again; nothing was changed.")
    change = example_lists.accept if verdict == "accept" else example_lists.discard
    try:
        row = change(current_user, proposal_id)
    except LookupError:
        abort(404, "No such proposal.")
    except example_lists.ExampleError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin.examples"), code=303)
    db.session.commit()
    if verdict == "accept":
        flash("In use: workers compare new comments with it from their next batch; "
              "`flask --app wsgi rescore` applies it to comments already scored.", "success")
    else:
        flash("Discarded the proposal.", "success")
    return redirect(url_for("admin.examples", label=row.label), code=303)


@bp.post("/examples/remove")
@sensitive
def remove_example():
    form = RemoveExampleForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired or was incomplete. Reload the page and try again; "
                   "nothing was changed.")
    try:
        example_lists.remove(current_user, form.label.data, form.text.data,
                             form.kind.data == "harmful")
    except example_lists.ExampleError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _examples_page(status=409)
    db.session.commit()
    flash("Removed the example; the change is in the list below.", "success")
    return redirect(url_for("admin.examples", label=form.label.data), code=303)


@bp.get("/models")
def models():
    scorer = scorer_choice().scorer
    name = scorer.identity.name
    found = site_models.models()
    return render_template("admin/models.html", models=found, active=site_models.active(),
                           form=SiteModelForm(), scorer_name=name,
                           refusals={m.id: site_models.can_activate(m, name) for m in found})


@bp.post("/models/<id:version>/activate")
@sensitive
def activate_model(version: int):
    if not SiteModelForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again; nothing was changed.")
    try:
        model = site_models.activate(version, actor=current_user,
                                     base_scorer=scorer_choice().scorer.identity.name)
    except LookupError:
        abort(404, f"There is no site model version {version}.")
    except site_models.TrainingError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin.models"), code=303)
    db.session.commit()
    flash(f"Activated {model.label}: workers add its score from their next batch.", "success")
    return redirect(url_for("admin.models"), code=303)


@bp.post("/models/rollback")
@sensitive
def rollback_model():
    if not SiteModelForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again; nothing was changed.")
    try:
        previous = site_models.rollback(actor=current_user)
    except site_models.TrainingError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin.models"), code=303)
    db.session.commit()
    flash(f"Rolled back to {previous.label}." if previous
          else "Rolled back: no site model is active now.", "success")
    return redirect(url_for("admin.models"), code=303)
