"""A real server for the browser: the app on a SQLite file, the scoring worker with the real
embedded model, and werkzeug serving on 127.0.0.1 in a thread. No pytest in here, so
docs/make_screenshots.py can use it too."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from moderation import create_app
from moderation.extensions import db
from moderation.worker import start_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def browser_app(database_path: Path, **overrides) -> Flask:
    """The app as a person meets it: CSRF on and the real packaged model scoring."""
    from tests.conftest import base_config

    config = {
        "MODERATION_SCORER_OBJECT": None,
        "MODERATION_SCORER": "embedded",
        "WTF_CSRF_ENABLED": True,
        "MODERATION_WORKER_POLL_SECONDS": 0.2,
    }
    config.update(overrides)
    return create_app(base_config(f"sqlite:///{database_path}", **config))


@dataclass
class Served:
    base_url: str
    app: Flask


@contextmanager
def serve(app: Flask, *, worker: bool = True) -> Iterator[Served]:
    """Serve `app` (and run a scoring worker beside it) until the block ends."""
    worker_thread = stop = None
    if worker:
        worker_thread, stop = start_thread(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        if stop is not None:
            stop.set()
            worker_thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0, what: str = "it") -> None:
    """Poll `condition` (setup only: assertions about pages use Playwright's expect)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def all_scored(app: Flask) -> bool:
    """True once the worker has scored every comment in the database."""
    from moderation.models import Comment

    with app.app_context():
        try:
            waiting = db.session.execute(
                db.select(db.func.count()).select_from(Comment).where(Comment.scored_at.is_(None))
            ).scalar_one()
        finally:
            db.session.remove()
    return waiting == 0
