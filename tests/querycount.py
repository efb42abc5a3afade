"""How many SQL statements one request runs: for the tests that pin a page's cost."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from moderation.extensions import db


def statements_during_get(app, client, url: str):
    """(statements the app's engine ran for GET `url`, the response)."""
    with app.app_context():
        engine = db.engine
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count, response


@contextmanager
def counting():
    """Every statement any engine runs inside the block, upper-cased with its whitespace
    folded (every engine: the rate-limit store may have its own)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        seen.append(" ".join(statement.split()).upper())

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)
