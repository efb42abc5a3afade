"""Rate-limit counters in the app's own database, so limits hold across every web process
(`make run` runs several) without Redis. RATELIMIT_STORAGE_URI = "database://" (the default)
selects it; "redis://…" or "memory://" still work as Flask-Limiter documents.

Fixed windows: one row per limit key with its count and when its window ends, bumped by a
single upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING) on SQLite and PostgreSQL alike."""

from __future__ import annotations

import functools
import random
import threading
import time

import flask
import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite

from moderation.models.limits import rate_limits as table

SWEEP_CHANCE = 0.01  # now and then an increment also deletes windows long over
_engines: dict[str, sa.Engine] = {}  # one per database, however many apps are made
_engines_lock = threading.Lock()


def _engine(url: str, write_gate: bool = True) -> sa.Engine:
    with _engines_lock:
        if url not in _engines:
            from moderation.sqlite_gate import engine_options

            engine = sa.create_engine(url, pool_pre_ping=True,
                                      **(engine_options(url, {}) if write_gate else {}))
            if engine.dialect.name == "sqlite":
                from moderation.extensions import configure_engine

                configure_engine(engine)
            _engines[url] = engine
        return _engines[url]


def _remember(key: str, count: int, expires_at: float) -> None:
    """Keep what this request's increment returned: the rate-limit headers then read it back
    instead of asking the database twice more (Flask-Limiter asks for the count and the
    window's end after every hit)."""
    if flask.has_request_context():
        _windows()[key] = (int(count), float(expires_at))


def _seen(key: str) -> tuple[int, float] | None:
    return _windows().get(key) if flask.has_request_context() else None


def _windows() -> dict[str, tuple[int, float]]:
    # In the request's WSGI environ: it lives exactly as long as the request (an app context,
    # and so flask.g, can outlive one).
    return flask.request.environ.setdefault("moderation.rate_windows", {})


def _upsert(insert):
    """The hit, built once (it runs on every limited request): a new window starts at the
    first hit after the old one ended."""
    amount, now = sa.bindparam("amount", type_=sa.Integer), sa.bindparam("now", type_=sa.Float)
    over = table.c.expires_at <= now
    statement = insert(table).values(key=sa.bindparam("key"), count=amount,
                                     expires_at=sa.bindparam("expires", type_=sa.Float))
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"count": sa.case((over, amount), else_=table.c.count + amount),
              "expires_at": sa.case((over, statement.excluded.expires_at),
                                    else_=table.c.expires_at)},
    ).returning(table.c.count, table.c.expires_at)


@functools.cache
def _upsert_many(windows: int) -> sa.TextClause:
    """The hit for several windows at once, one row each. Plain SQL that SQLite (3.35+) and
    PostgreSQL both read: SQLAlchemy does not cache a multi-row INSERT construct, and
    compiling it on every post cost ten times what running it does."""
    rows = ", ".join(f"(:key_{n}, 1, :expires_{n})" for n in range(windows))
    return sa.text(
        f'INSERT INTO rate_limits ("key", count, expires_at) VALUES {rows} '
        'ON CONFLICT ("key") DO UPDATE SET '
        "count = CASE WHEN rate_limits.expires_at <= :now THEN excluded.count "
        "ELSE rate_limits.count + excluded.count END, "
        "expires_at = CASE WHEN rate_limits.expires_at <= :now THEN excluded.expires_at "
        "ELSE rate_limits.expires_at END "
        'RETURNING "key", count, expires_at')


def hit_many(connection: sa.Connection, windows: dict[str, int]) -> dict[str, tuple[int, float]]:
    """One hit counted in each window ({key: seconds it lasts}) in a single statement on the
    caller's connection and transaction: a comment post counts its limits in the transaction
    that stores it (one round trip, no second connection). Returns {key: (count, window end)}.

    Rows are written in key order, so two posts counting the same windows at once queue
    behind one another and never deadlock."""
    now = time.time()
    if random.random() < SWEEP_CHANCE:
        # Its own short transaction on another connection, before the caller's first write:
        # inside the post's transaction it would lengthen SQLite's write lock, and on
        # PostgreSQL wait on (or deadlock with) another post's row.
        with connection.engine.begin() as sweeping:
            sweeping.execute(sa.delete(table).where(table.c.expires_at < now - 3600))
    keys = sorted(windows)
    parameters: dict[str, object] = {"now": now}
    for n, key in enumerate(keys):
        parameters.update({f"key_{n}": key, f"expires_{n}": now + windows[key]})
    rows = connection.execute(_upsert_many(len(keys)), parameters)
    return {key: (int(count), float(expires_at)) for key, count, expires_at in rows}


class DatabaseStorage(Storage):
    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        url = options.get("url")
        if not url:
            raise ValueError("database:// rate limits need the database URL (set by the app)")
        self.engine = _engine(str(url), bool(options.get("write_gate", True)))
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        self._upsert = _upsert(insert)

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.engine.begin() as connection:
            count, expires_at = connection.execute(self._upsert, {
                "key": key, "amount": amount, "now": now, "expires": now + expiry}).one()
        _remember(key, count, expires_at)
        if random.random() < SWEEP_CHANCE:  # its own short transaction, after ours
            with self.engine.begin() as connection:
                connection.execute(sa.delete(table).where(table.c.expires_at < now - 3600))
        return int(count)

    def get(self, key: str) -> int:
        seen = _seen(key)
        if seen is not None:
            return seen[0] if seen[1] > time.time() else 0
        with self.engine.connect() as connection:
            count = connection.execute(
                sa.select(table.c.count).where(table.c.key == key,
                                               table.c.expires_at > time.time())
            ).scalar_one_or_none()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        seen = _seen(key)
        if seen is not None:
            return max(seen[1], time.time())
        with self.engine.connect() as connection:
            expires = connection.execute(
                sa.select(table.c.expires_at).where(table.c.key == key)).scalar_one_or_none()
        now = time.time()
        return max(float(expires), now) if expires is not None else now

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.select(1))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        if flask.has_request_context():
            _windows().clear()
        with self.engine.begin() as connection:
            return connection.execute(sa.delete(table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.delete(table).where(table.c.key == key))
        if flask.has_request_context():
            _windows().pop(key, None)
