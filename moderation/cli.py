"""Flask commands: `flask --app wsgi <command> --help` for each."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from moderation.extensions import db
from moderation.models import Role, utcnow
from moderation.services.pipeline import MAX_BATCH


def register(app: Flask) -> None:
    from moderation.cli_accounts import reset_two_step
    from moderation.cli_articles import article_cli
    from moderation.cli_model import model_cli
    from moderation.cli_policy import policy_cli
    from moderation.cli_quality import quality
    from moderation.cli_queue import queue_counts_command
    from moderation.cli_supervise import supervise

    for command in (create_user, seed_demo, worker, score, rescore, serve, import_decisions,
                    evaluate, quality, policy_cli, model_cli, reset_two_step, supervise,
                    queue_counts_command, article_cli):
        app.cli.add_command(command)


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in Role]), default="moderator",
              show_default=True, help="What the account may do.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of a prompt.")
def create_user(username: str, role: str, password_stdin: bool) -> None:
    """Create a moderator or admin account."""
    from moderation.services.users import UserError
    from moderation.services.users import create_user as create

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create(username, password, Role(role))
    except UserError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.username!r}.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Add demo articles and comments, the default policy, and an admin and a moderator.

    Safe to run again: existing articles and accounts are left alone. Passwords come from
    MODERATION_ADMIN_PASSWORD and MODERATION_MODERATOR_PASSWORD, else are generated and
    printed once."""
    from moderation.services.demo import seed
    from moderation.services.users import UserError

    try:
        result = seed(
            utcnow(),
            admin_password=os.environ.get("MODERATION_ADMIN_PASSWORD"),
            moderator_password=os.environ.get("MODERATION_MODERATOR_PASSWORD"),
        )
    except UserError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Demo: {result.articles_created} new articles, "
               f"{result.comments_created} new comments to score.")
    for account in result.accounts:
        who = f"  {account.role:9} {account.username!r}"
        if account.generated_password:
            click.secho(f"{who} password: {account.generated_password}   (shown only now)",
                        fg="yellow")
        elif account.created:
            click.echo(f"{who} created with the password from "
                       f"MODERATION_{account.username.upper()}_PASSWORD")
        else:
            click.echo(f"{who} already exists (password unchanged)")


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Process one batch and exit.")
@click.option("--batches", type=int, default=None, help="Stop after this many batches.")
def worker(once: bool, batches: int | None) -> None:
    """Score and band new comments until stopped (Ctrl-C or SIGTERM). Run as many as you like."""
    from moderation.worker import Worker, settle_process
    from moderation.worker_settings import setting_problems

    app = current_app._get_current_object()
    problems = setting_problems(app.config)
    if problems:
        raise click.ClickException("the worker cannot start: " + " ".join(problems))
    manners = settle_process(app)
    scoring_worker = Worker(app)
    click.echo(f"worker {scoring_worker.id}: {scoring_worker.reason}; {manners}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        scoring_worker.run(stop, max_batches=1 if once else batches)
    except KeyboardInterrupt:
        stop.set()
    click.echo(f"worker stopped; banded {scoring_worker.scored_total} comments")


def _read_texts(texts: tuple[str, ...], file) -> list[str]:
    collected = list(texts)
    if file is not None:
        collected.extend(line.rstrip("\r\n") for line in file if line.strip())
    return collected


@click.command("score")
@with_appcontext
@click.argument("texts", nargs=-1)
@click.option("--file", "file", type=click.File("r", encoding="utf-8"),
              help="Read one text per line from PATH ('-' for standard input).")
def score(texts: tuple[str, ...], file) -> None:
    """Score texts as the worker would; print one JSON object per line.

    The configured scorer with the admins' example sentences, the active site model, then the
    word lists and the active policy. Results are printed as each batch finishes, so a long
    file streams."""
    from moderation.scoring import ScorerError
    from moderation.services import examples, site_models, words
    from moderation.services.scorer import scorer_choice

    collected = _read_texts(texts, file)
    if not collected:
        raise click.UsageError("Give texts as arguments or --file PATH.")
    choice = scorer_choice()
    click.echo(f"scorer: {choice.scorer.identity.name} ({choice.reason})", err=True)
    policy = _policy_for_scoring()
    word_lists = _quietly(words.matcher, None)
    batches = [collected[start:start + 64] for start in range(0, len(collected), 64)]
    with click.progressbar(batches, label="Scoring", file=sys.stderr,
                           hidden=len(batches) == 1) as progress:
        for batch in progress:
            try:
                _quietly(lambda: examples.sync(choice.scorer), False)
                results = choice.scorer.score(batch)
            except ScorerError as error:
                raise click.ClickException(str(error)) from None
            results, site_model_id = _quietly(
                lambda results=results: site_models.finish(results, choice.scorer.identity),
                (results, None))
            site_version = _quietly(lambda: site_models.active().version, None) \
                if site_model_id else None
            for text, scored in zip(batch, results, strict=True):
                click.echo(json.dumps(_score_line(text, scored, policy, choice.scorer.identity,
                                                  word_lists, site_version)))


def _quietly(step, fallback):
    """A database step of `flask score`; on a database not migrated yet, the fallback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return step()
    except SQLAlchemyError:
        db.session.rollback()
        return fallback


def _policy_for_scoring():
    """The active policy; on a database not migrated yet, the defaults (and a word why)."""
    from moderation.services import policy as policies

    return policies.active_or_defaults(
        lambda: click.echo("no database yet (run `flask --app wsgi db upgrade`): banding with "
                           "the default thresholds", err=True))


def _score_line(text, scored, policy, identity, word_lists=None, site_version=None) -> dict:
    from moderation.services import policy as policies
    from moderation.services import words

    band, words_note = policies.band(scored.labels, policy), None
    if word_lists is not None:
        band, words_note = words.adjust_band(band, text, using=word_lists)
    return {
        "text": text,
        "labels": {label: round(value, 6) for label, value in scored.labels.items()},
        "risk": round(policies.risk(scored.labels, policy), 6),
        "band": band.value,
        "words": words_note,
        "close_to": {label: match.text for label, match in scored.matches.items()},
        "policy_version": policy.version,
        "scorer": identity.name,
        "scorer_version": identity.version,
        "site_model_version": site_version,
    }


@click.command("rescore")
@with_appcontext
@click.option("--article", "article_slug", help="Only comments on the article with this slug.")
@click.option("--state", "states", multiple=True,
              type=click.Choice(["pending", "queued", "held", "approved", "rejected"]),
              help="Only comments in this state (repeatable).")
@click.option("--since", type=click.DateTime(), help="Only comments posted at or after this time.")
@click.option("--unscored", is_flag=True, help="Only comments that have no score yet.")
@click.option("--limit", type=int, help="At most this many comments.")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=64,
              show_default=True)
@click.option("--reband/--no-reband", default=True, show_default=True,
              help="Band comments nobody has decided yet under the active policy.")
def rescore(article_slug, states, since: datetime | None, unscored, limit, batch_size, reband):
    """Score existing comments again with the configured scorer (all, or a filter)."""
    from moderation.scoring import ScorerError
    from moderation.services.rescore import RescoreFilter, matching_ids

    ids = matching_ids(RescoreFilter(article_slug, tuple(states), since, unscored, limit))
    db.session.rollback()  # no transaction stays open while the model loads
    if not ids:
        click.echo("No comments match.")
        return
    try:
        outcome = _score_with_progress(ids, "Rescoring", batch_size=batch_size, reband=reband)
    except ScorerError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Rescored {outcome.scored} comments; {outcome.moved} moved to a new band"
               + (f"; {outcome.skipped} skipped (a worker held them)" if outcome.skipped else "")
               + ".")


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 5000)),
              show_default="5000 or $PORT")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Run a scoring worker thread beside the web server.")
def serve(host: str, port: int, with_worker: bool) -> None:
    """Serve the site and a scoring worker in one process (for one machine; see README)."""
    from werkzeug.serving import WSGIRequestHandler, run_simple

    from moderation.worker import start_thread

    class QuietHandler(WSGIRequestHandler):
        def version_string(self) -> str:  # no "Werkzeug/3.x Python/3.11" banner
            return "moderation"

    app = current_app._get_current_object()
    stop = None
    if with_worker:
        _, stop = start_thread(app)
    click.echo(f"Serving on http://{host}:{port}  (Ctrl-C stops the server and the worker)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False,
                   request_handler=QuietHandler)
    finally:
        if stop is not None:
            stop.set()


DELIMITERS = {"tab": "\t", "\\t": "\t", "\t": "\t", ",": ",", "comma": ","}


def _delimiter(ctx, param, value: str | None) -> str | None:
    if value is None:
        return None
    found = DELIMITERS.get(value.lower())
    if found is None:
        raise click.BadParameter(f"{value!r}: use TAB or ','.")
    return found


_delimiter_option = click.option(
    "--delimiter", callback=_delimiter, metavar="TAB|,",
    help="Column separator. Default: tab for .tsv files or a header split by tabs, else comma.")


@click.command("import-decisions")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", required=True, metavar="ADMIN_USERNAME",
              help="The admin the imported decisions are recorded as.")
@_delimiter_option
@click.option("--no-score", is_flag=True,
              help="Do not score now; the scoring worker scores them later.")
def import_decisions(file: Path, username: str, delimiter: str | None, no_score: bool) -> None:
    """Import another tool's past decisions from a CSV or TSV file, then score them.

    Columns by header name: text, decision (approved/rejected and synonyms), and optionally
    article (a slug) and date (ISO 8601). Every row is checked first: one bad row and nothing
    is imported. The comments keep their decided state; scoring only stores their scores."""
    from moderation.services import importer
    from moderation.services.users import find_user

    user = find_user(username)
    if user is None or not user.is_admin or not user.active:
        raise click.ClickException(f"{username!r} is not an active admin's username.")
    try:
        with file.open("rb") as handle:
            result = importer.import_decisions(handle, file.name, user, delimiter=delimiter)
    except importer.ImportRejected as rejected:
        db.session.rollback()
        raise click.ClickException(
            "Nothing was imported:\n" + "\n".join(rejected.errors)) from None
    batch_id, ids, note = result.batch.id, result.comment_ids, result.archive_note
    db.session.commit()
    click.echo(f"Imported {len(ids):,} decisions ({result.approved:,} approved, "
               f"{result.rejected:,} rejected) as import #{batch_id}.")
    if note:
        click.echo(note)
    if no_score:
        click.echo("The scoring worker will score them.")
        return
    _score_imported(ids)


def _score_with_progress(ids: list[int], label: str, *, batch_size: int, reband: bool):
    """Score these comments with the configured scorer, a progress bar on stderr (stdout stays
    for results). ScorerError when the model cannot load or score."""
    from moderation.rescoring import rescore as run_rescore
    from moderation.services.scorer import scorer_choice

    choice = scorer_choice()
    click.echo(f"{label} {len(ids)} comments with {choice.scorer.identity.name}", err=True)
    choice.scorer.load()
    with click.progressbar(length=len(ids), label=label, file=sys.stderr) as bar:
        return run_rescore(
            ids, choice.scorer, batch_size=batch_size, reband=reband,
            lease_seconds=float(current_app.config["MODERATION_LEASE_SECONDS"]),
            on_batch=bar.update,
        )


def _score_imported(ids: list[int]) -> None:
    """The rescoring machinery without re-banding: scores are stored, decided states kept."""
    from moderation.scoring import ScorerError

    try:
        outcome = _score_with_progress(ids, "Scoring", batch_size=64, reband=False)
    except ScorerError as error:
        raise click.ClickException(f"The import is saved, but scoring failed ({error}); the "
                                   "scoring worker will score them later.") from None
    click.echo(f"Scored {outcome.scored:,} imported comments"
               + (f"; {outcome.skipped:,} left to the worker (a worker held them)"
                  if outcome.skipped else "") + ".")


@click.command("evaluate")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-column", required=True, help="The column holding the texts.")
@click.option("--label-column", required=True, help="The column holding the labels.")
@click.option("--positive", required=True,
              help="The label value that counts as positive, e.g. OFF (compared without case).")
@_delimiter_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N labelled rows.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
def evaluate(file: Path, text_column: str, label_column: str, positive: str,
             delimiter: str | None, as_json: bool, limit: int | None, batch_size: int) -> None:
    """Score a labelled CSV/TSV with the configured scorer and report how well it separates
    the positives: ROC-AUC and average precision per label, and the active policy's reject
    band as a classifier (confusion matrix, precision, recall, F1, queue share)."""
    from moderation.scoring import ScorerError
    from moderation.services import evaluate as evaluation
    from moderation.services.scorer import scorer_choice

    try:
        rows = evaluation.read_labelled(file, text_column=text_column, label_column=label_column,
                                        positive=positive, delimiter=delimiter, limit=limit)
    except evaluation.EvaluateError as error:
        raise click.ClickException(str(error)) from None
    policy = _policy_for_scoring()
    choice = scorer_choice()
    click.echo(f"scorer: {choice.scorer.identity.name} ({choice.reason})", err=True)
    try:
        choice.scorer.load()
        with click.progressbar(length=len(rows.texts), label="Scoring", file=sys.stderr) as bar:
            scored = evaluation.score_texts(choice.scorer, rows.texts, batch_size=batch_size,
                                            on_batch=bar.update)
    except ScorerError as error:
        raise click.ClickException(str(error)) from None
    result = evaluation.evaluate(rows, scored, positive=positive,
                                 identity=choice.scorer.identity, policy=policy)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
    else:
        _print_evaluation(result, file.name)


def _number(value: float | None, why: str = "") -> str:
    if value is None:
        return "n/a" + (f" ({why})" if why else "")
    return f"{value:.3f}"


def _share(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,}" + (f" ({part / whole:.1%})" if whole else "")


def _print_evaluation(result, filename: str) -> None:
    bands, policy_name = result.bands, f"policy v{result.policy_version or '(default)'}"
    click.echo(f"{filename}: {result.rows:,} rows, {result.positives:,} positive "
               f"({result.positive_value!r})" + (f", {result.skipped:,} skipped (no text or "
                                                 "label)" if result.skipped else "") + ".")
    if not result.positives:
        click.echo(f"No row is labelled {result.positive_value!r}; values seen: "
                   f"{', '.join(result.labels_seen)}.")
    click.echo(f"Scorer: {result.scorer.name} {result.scorer.version}")
    click.echo("")
    click.echo(f"{'Score':<22}{'ROC-AUC':>9}  {'Avg precision':>13}")
    for name, found in [*result.labels.items(), (f"risk ({policy_name})", result.risk)]:
        if found.reason:
            click.echo(f"{name:<22}{'n/a':>9}  {'n/a':>13}  {found.reason}")
        else:
            click.echo(f"{name:<22}{found.roc_auc:>9.3f}  {found.average_precision:>13.3f}")
    click.echo("")
    click.echo(f"{policy_name}, reject band (action: {result.reject_action}) against "
               f"{result.positive_value!r}:")
    click.echo(f"{'':<16}{'positive':>10}{'negative':>10}")
    click.echo(f"{'reject band':<16}{bands.true_positives:>10,}{bands.false_positives:>10,}")
    click.echo(f"{'other bands':<16}{bands.false_negatives:>10,}{bands.true_negatives:>10,}")
    click.echo(f"Precision {_number(bands.precision, 'nothing in the reject band')}   "
               f"Recall {_number(bands.recall, 'no positives')}   "
               f"F1 {_number(bands.f1)}")
    click.echo(f"Left for moderators (queue band): {_share(bands.queued, bands.rows)}")
    click.echo(f"Positives auto-approved: {_share(bands.approved_positives, bands.positives)}")
