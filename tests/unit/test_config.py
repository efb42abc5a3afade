"""Settings come from defaults, then instance/config.py, then the environment."""

from moderation.config import from_environment, normalise_database_url


def test_environment_overrides_are_typed():
    overrides = from_environment({
        "MODERATION_WORKER_BATCH": "8",
        "MODERATION_SCORER": "embedded",
        "MODERATION_DETOXIFY_CHECKPOINT": "/models/1234",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "SESSION_COOKIE_SECURE": "true",
        "UNRELATED": "ignored",
    })
    assert overrides == {
        "MODERATION_WORKER_BATCH": 8,
        "MODERATION_SCORER": "embedded",
        "MODERATION_DETOXIFY_CHECKPOINT": "/models/1234",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "SESSION_COOKIE_SECURE": True,
    }


def test_database_urls_from_hosting_providers_use_psycopg_3():
    assert normalise_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert from_environment({"DATABASE_URL": "postgres://h/db"})["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://h/db")


def test_secure_cookies_switch_sets_both_cookie_flags():
    from moderation import create_app
    from tests.conftest import base_config

    app = create_app(base_config("sqlite://", MODERATION_SECURE_COOKIES=True))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
