"""Pooled PostgreSQL connections are pinged only after sitting idle: a busy server does not
pay a round trip per request, and a connection the server dropped is replaced before use."""

from __future__ import annotations

import pytest

from moderation import extensions
from moderation.extensions import db
from tests.factories import make_article
from tests.pg import admin_execute
from tests.querycount import counting

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def story(app):
    with app.app_context():
        make_article(slug="story")
        db.session.commit()


@pytest.fixture
def pings(monkeypatch) -> list:
    seen = []
    real = extensions.ping

    def counted(dbapi_connection):
        seen.append(dbapi_connection)
        real(dbapi_connection)

    monkeypatch.setattr(extensions, "ping", counted)
    return seen


def test_a_connection_in_steady_use_is_not_pinged(app, client, story, pings, monkeypatch):
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 3600.0)
    assert client.get("/articles/story").status_code == 200
    with counting() as statements:
        for _ in range(3):
            assert client.get("/articles/story").status_code == 200
    assert pings == [] and statements  # statements ran, on connections nobody pinged


def test_an_idle_connection_is_pinged_and_a_dropped_one_replaced(app, client, story, pings,
                                                                 postgres_server, monkeypatch):
    assert client.get("/articles/story").status_code == 200
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0.0)  # every one counts as idle
    assert client.get("/articles/story").status_code == 200
    assert len(pings) == 1
    with app.app_context():
        name = db.engine.url.database
    # The server drops every connection to this database (a restart, a failover, a proxy's
    # idle timeout): the next request still gets an answer, on a new connection.
    admin_execute(postgres_server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
    page = client.get("/articles/story")
    assert len(pings) >= 2  # the dead one was pinged (and dropped) before use
    assert page.status_code == 200
    assert "Post Comment" in page.get_data(as_text=True)
