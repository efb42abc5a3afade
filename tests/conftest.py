"""Fixtures: an app per test on a fresh database, SQLite and PostgreSQL alike."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from moderation import create_app  # noqa: E402
from moderation.extensions import db  # noqa: E402
from tests.fakes import FakeScorer  # noqa: E402
from tests.pg import PostgresServer, admin_execute, find_bin_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OLID = SHARED / "data" / "olid" / "olid-training-v1.0.tsv"
BACKENDS = ("sqlite", "postgresql")
_database_numbers = itertools.count(1)


def base_config(database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "MODERATION_SCORER_OBJECT": FakeScorer(),
        "MODERATION_WORKER_POLL_SECONDS": 0.05,
        "MODERATION_RETRY_BASE_SECONDS": 30,
        "MODERATION_SCORE_TIMEOUT_SECONDS": 5,
        "MODERATION_POST_LIMIT": "1000 per minute",
        "MODERATION_LOGIN_LIMIT": "1000 per minute",
        # Two-step sign-in has its own tests (test_two_step.py); elsewhere admins sign in
        # with a password, as they would where the setting is off.
        "MODERATION_ADMIN_TOTP_REQUIRED": False,
    }
    config.update(overrides)
    return config


def migrate(database_url: str) -> None:
    import flask_migrate

    app = create_app(base_config(database_url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def composite():
    """The offline composite scorer with the real packaged models, loaded once (~5 s)."""
    from moderation.scoring import CompositeScorer

    scorer = CompositeScorer()
    scorer.load()
    return scorer


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = find_bin_dir()
    if bin_dir is None:
        yield None
        return
    server = PostgresServer(bin_dir)
    server.start()
    try:
        admin_execute(server, "CREATE DATABASE moderation_template")
        migrate(server.url("moderation_template"))
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "moderation.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_server")
    if server is None:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql "
                    "(make test installs them)")
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin_execute(server, f"CREATE DATABASE {name} TEMPLATE moderation_template")
    yield server.url(name)
    admin_execute(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# scrypt at N=2^16 costs ~0.35 s a hash here, and most web tests hash twice (make the user,
# sign in): minutes of CI spent on key stretching. Tests use N=2^10 through the same code;
# the ones marked real_password_hashing (the production cost itself) keep N=2^16.
FAST_PASSWORD_METHOD = "scrypt:1024:8:1"


@pytest.fixture(autouse=True)
def fast_password_hashing(request, monkeypatch):
    if request.node.get_closest_marker("real_password_hashing"):
        return
    from moderation.models import users as user_models
    from moderation.services import users as user_services

    monkeypatch.setattr(user_models, "PASSWORD_METHOD", FAST_PASSWORD_METHOD)
    monkeypatch.setattr(user_services, "_DUMMY_HASH", None)


@pytest.fixture
def app_config():
    """Override per test module: a dict merged into the app's config."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    """No app context is pushed here: each request gets its own, as in production, so a test
    cannot pass by reading what a view flushed but never committed."""
    app = create_app(base_config(database_url, **app_config))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for service-level tests that talk to the database directly."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def scorer(app) -> FakeScorer:
    return app.config["MODERATION_SCORER_OBJECT"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def login(client, username: str, password: str):
    return client.post("/login", data={"username": username, "password": password})


def _staff(app, username: str, role_name: str) -> int:
    from moderation.models import Role
    from tests.factories import make_user

    with app.app_context():
        user = make_user(username, role=Role(role_name))
        db.session.commit()
        return user.id


def _signed_in(client, username: str):
    from tests.factories import PASSWORD

    response = login(client, username, PASSWORD)
    assert response.status_code == 302, response.data
    return client


@pytest.fixture
def moderator(app) -> int:
    return _staff(app, "maria", "moderator")


@pytest.fixture
def moderator_client(client, moderator):
    return _signed_in(client, "maria")


@pytest.fixture
def admin(app) -> int:
    return _staff(app, "ada", "admin")


@pytest.fixture
def admin_client(client, admin):
    return _signed_in(client, "ada")
