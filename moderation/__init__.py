"""The moderation app: create_app() builds it from defaults, instance config and environment."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = os.environ.get("MODERATION_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    from moderation.jsonsafe import Provider

    app.json = Provider(app)
    _configure(app, test_config)
    proxies = int(app.config.get("MODERATION_TRUSTED_PROXIES", 0))
    if proxies:
        # Behind nginx & co. the client address (used for the posting limit and the IP hash)
        # is in X-Forwarded-For; trust exactly as many hops as there are proxies.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each of its plugins at INFO on every start: noise in every log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from moderation import extensions

    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app, extensions.db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True
    )
    with app.app_context():
        extensions.configure_engine(extensions.db.engine)
    extensions.login_manager.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.limit_decorated_routes_only(app)

    from moderation import (
        account,
        admin,
        api,
        auth,
        cli,
        compression,
        decisions,
        embed,
        errors,
        health,
        public,
        queue,
        security,
    )
    from moderation.services.scorer import init_scorer

    init_scorer(app)
    security.register(app)  # before the blueprints: it adds the <id:...> URL converter
    compression.register(app)  # gzip the body; hooks that only set headers may run after
    app.register_blueprint(public.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.public_bp)
    app.register_blueprint(api.public_script_bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(decisions.bp)
    app.register_blueprint(decisions.authors_bp)
    app.register_blueprint(admin.bp)
    errors.register(app)
    cli.register(app)
    _register_template_helpers(app)
    return app


def _configure(app: Flask, test_config: dict | None) -> None:
    from moderation.config import DEFAULTS, from_environment

    app.config.from_mapping(DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        f"sqlite:///{Path(app.instance_path) / 'moderation.sqlite3'}"
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_mapping(from_environment())
    else:
        app.config.from_mapping(test_config)
    if app.config.get("MODERATION_SQLITE_WRITE_GATE"):
        from moderation.sqlite_gate import engine_options

        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if app.config.get("RATELIMIT_STORAGE_URI") == "database://":
        # Counters in the app's own database: limits hold across all web processes.
        import moderation.ratelimit_store  # noqa: F401  (registers the database:// scheme)

        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
            "url": app.config["SQLALCHEMY_DATABASE_URI"],
            "write_gate": bool(app.config.get("MODERATION_SQLITE_WRITE_GATE"))}
    if app.config.get("MODERATION_SECURE_COOKIES"):
        # Served over HTTPS: Secure cookies, and the __Host- prefix, with which the browser
        # refuses a cookie set by a subdomain or over plain HTTP (no cookie tossing).
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
        app.config["SESSION_COOKIE_DOMAIN"] = None
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set: put it in instance/config.py (make run writes one) "
            "or in the SECRET_KEY environment variable."
        )


def _register_template_helpers(app: Flask) -> None:
    from moderation.models import LABELS
    from moderation.timefmt import ago

    app.jinja_env.globals["LABELS"] = LABELS
    app.jinja_env.filters["ago"] = ago
