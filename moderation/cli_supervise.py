"""`flask supervise`: the production web server and scoring workers together (make run)."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from moderation import supervisor


@click.command("supervise")
@with_appcontext
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"),
              show_default="127.0.0.1 or $HOST")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 5000)),
              show_default="5000 or $PORT")
@click.option("--web-processes", type=int, default=supervisor.default_processes,
              show_default="CPU cores, at least 2", help="gunicorn worker processes.")
@click.option("--threads", type=int, default=8, show_default=True,
              help="Threads per web process (gthread).")
@click.option("--workers", type=click.IntRange(0, 64), default=1, show_default=True,
              help="Scoring worker processes (0: run them elsewhere).")
@click.option("--stop-with-parent", is_flag=True,
              help="Stop everything when the process that started this one exits (make run).")
def supervise(host: str, port: int, web_processes: int, threads: int, workers: int,
              stop_with_parent: bool) -> None:
    """Serve with gunicorn and run scoring workers as separate processes, supervised: logs
    interleaved with a prefix, a crashed worker restarted, Ctrl-C stops everything."""
    if web_processes < 1 or threads < 1:
        raise click.BadParameter("needs at least one web process and one thread")
    if workers:
        from moderation.worker_settings import setting_problems

        problems = setting_problems(current_app.config)
        if problems:  # each worker would stop at once, and be restarted, over and over
            raise click.ClickException("the scoring workers cannot start: " + " ".join(problems))
    click.echo(f"Serving on http://{host}:{port} with {web_processes} web processes × "
               f"{threads} threads and {workers} scoring worker{'s' if workers != 1 else ''} "
               "(Ctrl-C stops them all)")
    runner = supervisor.build(host, port, processes=web_processes, threads=threads,
                              workers=workers, stop_with_parent=stop_with_parent)
    sys.exit(runner.run())
