"""`flask model ...`: train a site model on the site's decisions, see its evidence, activate
it, roll it back; cross-validate the recipe without storing anything; and export the Detoxify
checkpoint to ONNX ahead of the workers."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from moderation.extensions import db

model_cli = AppGroup("model", help="Site models learned from moderators' decisions, and the "
                                   "Detoxify ONNX export.")


def _admin(username: str | None):
    from moderation.services.users import find_user

    if username is None:
        return None
    user = find_user(username)
    if user is None or not user.is_admin or not user.active:
        raise click.ClickException(f"{username!r} is not an active admin's username.")
    return user


def _base_scorer() -> str:
    from moderation.services.scorer import scorer_choice

    return scorer_choice().scorer.identity.name


def _describe(model) -> str:
    ev = model.evidence
    from moderation.services import site_models

    refusal = site_models.more_work_for_nothing(model)
    status = ("active" if model.active else "refused: not better than the base"
              if not model.beats_base else "refused: more queued, no more precise"
              if refusal else "can be activated")
    who = model.trained_by.username if model.trained_by else "the worker"
    lines = [
        f"{'*' if model.active else ' '} {model.label}  trained {model.trained_at:%Y-%m-%d %H:%M} "
        f"by {who} on {model.base_scorer}: {status}",
        f"    trained on {ev['trained_on']:,} decisions, held out the newest "
        f"{ev['held_out']:,} ({ev['held_out_rejected']:,} rejected)",
        f"    held-out ROC-AUC: base {ev['base_auc']:.3f}, with site model {ev['site_auc']:.3f}"
        + (f", active v{ev['active_version']} {ev['active_auc']:.3f}"
           if ev.get("active_auc") is not None else ""),
    ]
    for name, key in (("base", "base_at_thresholds"), ("with site model", "site_at_thresholds")):
        report = ev[key]
        lines.append(
            f"    reject band at policy v{ev['policy_version']} thresholds, {name}: precision "
            f"{_num(report['precision'])}, recall {_num(report['recall'])}, queued "
            f"{report['queued_share']:.1%}, rejected ones published {report['rejected_published']}"
            + (f", approved ones held back {report['approved_held_back']:.1%}"
               if report.get("approved_held_back") is not None else ""))
    if ev.get("deployed_auc") is not None:
        lines.append(f"    ROC-AUC of the risk the queue would sort by with it: "
                     f"{ev['deployed_auc']:.3f}")
    return "\n".join(lines)


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@model_cli.command("train")
@click.option("--user", "username", help="The admin training it (recorded); default: none.")
@click.option("--activate/--no-activate", default=False, show_default=True,
              help="Also activate it, when it beats the base scorer (and the active site "
                   "model) on the held-out decisions and may be activated. By default a new "
                   "model is only trained: read its evidence, then `flask model activate`.")
@click.option("--note", default="", help="Why it was trained (shown in the list).")
def train(username: str | None, activate: bool, note: str) -> None:
    """Fit a site model on the older 80% of the decisions; evaluate it on the newest 20%."""
    from moderation.services import site_models

    actor = _admin(username)
    base = _base_scorer()
    click.echo(f"Training on decisions scored by {base}…", err=True)
    try:
        model = site_models.train(base, actor=actor, note=note)
    except site_models.TrainingError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(_describe(model))
    refusal = site_models.can_activate(model, base)
    if activate and site_models.better_than_active(model) and refusal is None:
        site_models.activate(model.version, actor=actor, base_scorer=base)
        click.echo(f"Activated {model.label}.")
    elif activate and refusal is None:
        click.echo(f"Not activated: {model.label} does not rank the held-out decisions better "
                   "than the active site model.")
    elif refusal is not None:
        click.echo(f"Not activated: {refusal}")
    else:
        click.echo(f"Not activated. To use it: flask --app wsgi model activate {model.version}")
    db.session.commit()


@model_cli.command("list")
def list_models() -> None:
    """Every site model, newest first, with its held-out evidence."""
    from moderation.services import site_models

    found = site_models.models()
    if not found:
        click.echo("No site models yet: `flask --app wsgi model train`.")
    for model in found:
        click.echo(_describe(model))
    db.session.rollback()


@model_cli.command("activate")
@click.argument("version", type=int)
@click.option("--user", "username", help="The admin activating it (recorded).")
def activate(version: int, username: str | None) -> None:
    """Make site model VERSION the one the workers use (only one that beat the base)."""
    from moderation.services import site_models

    actor = _admin(username)
    try:
        model = site_models.activate(version, actor=actor, base_scorer=_base_scorer())
    except (LookupError, site_models.TrainingError) as error:
        db.session.rollback()
        raise click.ClickException(str(error.args[0] if error.args else error)) from None
    db.session.commit()
    click.echo(f"Activated {model.label}; workers use it from their next batch.")


@model_cli.command("rollback")
@click.option("--user", "username", help="The admin rolling back (recorded).")
def rollback(username: str | None) -> None:
    """Go back to the site model the active one replaced (or to none)."""
    from moderation.services import site_models

    actor = _admin(username)
    try:
        previous = site_models.rollback(actor=actor)
    except site_models.TrainingError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Rolled back to {previous.label}." if previous
               else "Rolled back: no site model is active now.")


@model_cli.command("crossval")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def crossval(folds: int, as_json: bool) -> None:
    """Cross-validate the training recipe on every decision (k folds, nothing stored): how
    a site model compares with the base scorer on decisions it did not see."""
    from moderation.services import site_evidence

    base = _base_scorer()
    try:
        with click.progressbar(length=folds, label="Folds", file=sys.stderr) as bar:
            result = site_evidence.cross_validate(base, folds=folds, on_fold=bar.update)
    except site_evidence.TrainingError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session.rollback()
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"{result['decisions']:,} decisions ({result['rejected']:,} rejected), "
               f"{folds}-fold cross-validation, base scorer {base}:")
    click.echo(f"  ROC-AUC   base {result['base_auc']:.3f} ± {result['base_auc_sd']:.3f}   "
               f"with site model {result['site_auc']:.3f} ± {result['site_auc_sd']:.3f}")
    click.echo(f"  reject band at policy v{result['policy_version']}: precision "
               f"{_num(result['base_precision'])} → {_num(result['site_precision'])}, recall "
               f"{_num(result['base_recall'])} → {_num(result['site_recall'])}")


@model_cli.command("export-onnx")
@click.option("--force", is_flag=True,
              help="Export again even when a matching export is already cached.")
def export_onnx(force: bool) -> None:
    """Export the Detoxify checkpoint to ONNX (attention fused, int8) now, so that the first
    worker started with MODERATION_DETOXIFY_RUNTIME=onnx does not spend minutes on it.

    The export goes beside the checkpoint (<checkpoint>.int8.onnx and a .json record), or to
    instance/onnx/ when that folder is read-only, and is reused until the checkpoint or the
    onnxruntime/onnx/torch/transformers versions change."""
    from moderation.scoring import ScorerError
    from moderation.services.scorer import build_choice

    choice = build_choice(current_app, scorer="detoxify", runtime="onnx")
    scorer = choice.scorer
    click.echo(choice.reason, err=True)
    click.echo("Loading the checkpoint through Detoxify…", err=True)
    scorer.progress = lambda message: click.echo(f"  {message}", err=True)
    try:
        path = scorer.export(force=force)
    except ScorerError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'Exported' if scorer.exported else 'Already exported, reused'}: {path}")
    click.echo(f"Scores from it are recorded as {scorer.identity.label}.")
    if current_app.config["MODERATION_DETOXIFY_RUNTIME"] != "onnx":
        click.echo("Workers score with it once MODERATION_DETOXIFY_RUNTIME=onnx.", err=True)


@model_cli.command("prepare")
def prepare() -> None:
    """Load the configured scorer once, so that what it caches is ready before the workers
    start: the composite's ONNX encoder (instance/cache/) and its example sentences'
    embeddings (the admins' own included). A worker started afterwards scores its first
    comment within a second instead of spending its first start on them. `make run` runs it."""
    import time

    from moderation.scoring import ScorerError
    from moderation.services import examples
    from moderation.services.scorer import scorer_choice

    choice = scorer_choice()
    click.echo(f"scorer: {choice.scorer.identity.name} ({choice.reason})", err=True)
    started = time.perf_counter()
    try:
        choice.scorer.load()
        examples.sync(choice.scorer)
        db.session.rollback()
        choice.scorer.score(["Thanks for the article."])
    except ScorerError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Ready: {choice.scorer.identity.label} loaded in "
               f"{time.perf_counter() - started:.1f} s.")
