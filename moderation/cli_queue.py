"""`flask queue-counts`: the queue's band counts, checked against the comments or rebuilt."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from moderation.extensions import db


@click.command("queue-counts")
@with_appcontext
@click.option("--check", is_flag=True,
              help="Also count the comments themselves and say whether the kept counts agree "
                   "(exit status 1 if not). Reads every waiting comment: slow on big sites.")
@click.option("--recount", is_flag=True,
              help="Rebuild the kept counts from the comments (a repair: database triggers "
                   "keep them right, unless a migration or a hand edit removed them).")
def queue_counts_command(check: bool, recount: bool) -> None:
    """Show how many comments wait in each band of the moderation queue."""
    from moderation.services import queue_counts

    if recount:
        kept = queue_counts.recount()
        db.session.commit()
        click.echo("Rebuilt the queue counts from the comments.")
    else:
        kept = queue_counts.read()
    counted = queue_counts.direct() if check else None
    for band in queue_counts.BANDS:
        line = f"{band:>9}  {kept[band]:>9,}"
        if counted is not None and counted[band] != kept[band]:
            line += f"  (counted: {counted[band]:,})"
        click.echo(line)
    if counted is not None:
        if counted != kept:
            raise click.ClickException(
                "The kept counts disagree with the comments: run `flask queue-counts "
                "--recount`, and check that the comments table still has its count triggers.")
        click.echo("The kept counts agree with the comments.")
