"""Pages cannot be framed or sniffed; the migrations build exactly the schema the models
describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from moderation.extensions import db


def test_every_page_sends_protective_headers(client):
    for path in ("/", "/login", "/healthz", "/no-such-page"):
        headers = client.get(path).headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_only_one_policy_can_be_active(app):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from moderation.models import Policy
    from moderation.services.policy import active_policy, default_thresholds

    with app.app_context():
        active_policy()
        db.session.add(Policy(version=2, thresholds=default_thresholds(), active=True, note=""))
        with pytest.raises(IntegrityError):
            db.session.commit()
