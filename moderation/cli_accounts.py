"""Account commands for whoever runs the server: the way back in for a staff member who lost
both their authenticator and their recovery codes."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from moderation.extensions import db


@click.command("reset-two-step")
@with_appcontext
@click.argument("username")
def reset_two_step(username: str) -> None:
    """Turn off USERNAME's two-step sign-in and end their sessions (they set it up again at
    their next sign-in if their role requires it)."""
    from moderation.services import security_log, sessions, two_step
    from moderation.services.users import find_user

    user = find_user(username)
    if user is None:
        raise click.ClickException(f"There is no user called {username!r}.")
    if not user.has_totp:
        raise click.ClickException(f"{user.username} does not use two-step sign-in.")
    two_step.disable(user)
    ended = sessions.end_all(user, "two-step sign-in reset from the command line")
    security_log.record("totp.disabled", user, by="command line", sessions_ended=ended)
    db.session.commit()
    click.echo(f"Two-step sign-in is off for {user.username}; {ended} session"
               f"{'s' if ended != 1 else ''} ended.")
