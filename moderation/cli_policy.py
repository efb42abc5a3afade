"""`flask policy ...`: the active policy and its versions from the command line, and
re-banding a large waiting queue with a progress bar (the web page does it in one request)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from moderation.extensions import db
from moderation.models import LABELS

policy_cli = AppGroup("policy", help="Show policy versions; re-band the waiting queue.")


@policy_cli.command("show")
@click.argument("version", type=int, required=False)
def show(version: int | None) -> None:
    """Print the thresholds of the active policy (or of VERSION)."""
    from moderation.services import policy as policies
    from moderation.services import policy_versions as versions

    policy = versions.by_version(version) if version is not None else policies.active_policy()
    if policy is None:
        raise click.ClickException(f"There is no policy version {version}.")
    state = "active" if policy.active else "inactive"
    click.echo(f"Policy version {policy.version} ({state}), reject band: "
               f"{'hold for review' if policy.reject_action == 'hold' else 'reject'}")
    click.echo(f"{'label':<18}{'on':<5}{'approve <':>10}{'reject >=':>11}")
    for label in LABELS:
        rule = policy.thresholds.get(label)
        if not rule:  # a label the version never mentions counts as off
            click.echo(f"{label:<18}{'off':<5}{'—':>10}{'—':>11}")
            continue
        click.echo(f"{label:<18}{'on' if rule.get('enabled', True) else 'off':<5}"
                   f"{rule['approve']:>10.2f}{rule['reject']:>11.2f}")
    db.session.rollback()


@policy_cli.command("versions")
def list_versions() -> None:
    """Every version, newest first, with who saved it, when, why and what changed."""
    from moderation.services import policy_versions as versions

    history = versions.history()
    if not history:
        click.echo("No policy versions yet (the first is made by `flask db upgrade`).")
        return
    for policy, changes in history:
        who = policy.created_by.username if policy.created_by else "system"
        marker = "*" if policy.active else " "
        click.echo(f"{marker} v{policy.version}  {policy.created_at:%Y-%m-%d %H:%M}  {who}: "
                   f"{policy.note}")
        for change in changes:
            click.echo(f"      {change.describe()}")
    db.session.rollback()


@policy_cli.command("reband")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
def reband(batch_size: int) -> None:
    """Move the scored comments waiting for a moderator into their band under the active
    policy, a batch per transaction. Each move is a decision by that policy version; comments
    a moderator decides meanwhile are left alone."""
    from moderation.services import policy as policies
    from moderation.services import policy_versions as versions
    from moderation.services import words

    policy = policies.active_policy()
    total = versions.waiting_count()
    click.echo(f"Re-banding {total} waiting comments under policy v{policy.version}", err=True)
    outcome = versions.RebandOutcome()
    word_lists = words.matcher()
    last_id: int | None = 0
    with click.progressbar(length=total, label="Re-banding", file=sys.stderr) as bar:
        while True:
            before = outcome.considered
            last_id = versions.reband_batch(policy, outcome, after_id=last_id,
                                            limit=batch_size, word_lists=word_lists)
            db.session.commit()
            if last_id is None:
                break
            bar.update(outcome.considered - before)
            if policies.active_policy().id != policy.id:
                # Someone saved or re-activated a version meanwhile: banding on under the old
                # one would undo theirs. What is done so far is committed and consistent.
                raise click.ClickException(
                    f"The active policy changed during the run (now v"
                    f"{policies.active_policy().version}); stopped after {outcome.considered} "
                    f"comments ({outcome.moved} moved). Run the command again.")
    click.echo(f"{outcome.moved} of {outcome.considered} comments changed state"
               + (f"; {outcome.conflicts} decided meanwhile and kept" if outcome.conflicts
                  else "") + ".")
