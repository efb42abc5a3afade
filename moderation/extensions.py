"""Flask extensions, created unbound and bound to the app in create_app()."""

import time

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic can alter them later (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: only the routes that take posts from the public are limited.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def limit_decorated_routes_only(app) -> None:
    """Flask-Limiter checks every request before its view for default, application and
    blueprint limits, which this app does not set (each limited route carries its own
    decorator, which checks by itself); that pass cost a twentieth of a comment post. Kept
    when an instance sets RATELIMIT_DEFAULT or RATELIMIT_APPLICATION."""
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks
                if getattr(hook, "__func__", None) is not Limiter._check_request_limit]


# A pooled server connection unused this long is checked with a round trip before use.
PING_AFTER_IDLE_SECONDS = 2.0


def configure_engine(engine: Engine) -> None:
    """A database server (PostgreSQL): a connection is pinged before use only when it sat
    idle in the pool (a restarted server or a dropped link shows up as exactly that), not on
    every request as pool_pre_ping does: under load that ping was one statement in six of a
    comment post. SQLite: WAL so readers never block the worker's writes, a busy timeout
    instead of instant 'database is locked', and foreign keys enforced as on PostgreSQL
    (a file has no connection to lose: no ping at all)."""
    if engine.dialect.name != "sqlite":
        if not getattr(engine.pool, "_pre_ping", False):
            _ping_when_idle(engine)
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _new(_dbapi_connection, record):
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("returned_at", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            ping(dbapi_connection)
        except Exception as error:
            # The server restarted or the link dropped: every pooled connection is as stale,
            # so the pool drops them all and this checkout opens a fresh one.
            raise exc.InvalidatePoolError(f"the pooled connection is gone: {error}") from error


def ping(dbapi_connection) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()
    dbapi_connection.rollback()  # no transaction left open by the ping
