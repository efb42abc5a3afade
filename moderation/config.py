"""Defaults. Overridden by instance/config.py, then by environment variables."""

import json
import os
from datetime import timedelta

DEFAULTS = {
    "SQLALCHEMY_DATABASE_URI": None,  # filled in create_app: SQLite in the instance folder
    # Pooled connections to a database server are pinged after sitting idle
    # (extensions.configure_engine); pool_pre_ping here would ping before every request.
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # SQLite file databases: writers queue at a gate and are woken the moment the last one
    # commits, instead of sleeping in SQLite's busy handler (moderation/sqlite_gate.py).
    "MODERATION_SQLITE_WRITE_GATE": True,
    # A comment is at most 5,000 characters; anything much bigger is not a comment.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Flask-Login's own remember cookie (derived from the secret key, never rotated) is not
    # used: "remember me" is a random, rotating, server-side token (services/sessions).
    "REMEMBER_COOKIE_NAME": "unused_flask_login_remember",
    "REMEMBER_COOKIE_DURATION": timedelta(days=14),
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 4 * 3600,
    # Rate-limit counters in the app's database, shared by every web process; "redis://…"
    # is faster where there is a Redis, "memory://" counts per process.
    "RATELIMIT_STORAGE_URI": "database://",
    # Explicit: Flask-Limiter's one limiter otherwise carries the last app's choice over.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,
    # Scoring
    "MODERATION_SCORER": "auto",  # auto | detoxify | composite | embedded
    "MODERATION_DETOXIFY_MODEL": "original",
    "MODERATION_DETOXIFY_CHECKPOINT": None,  # default: instance/detoxify/<model>.ckpt if present
    "MODERATION_DETOXIFY_HF_CONFIG": None,  # default: instance/detoxify/<model>/ if present
    # torch | onnx: ONNX Runtime on an int8 export, cached beside the checkpoint (or in
    # instance/onnx/ when that folder is read-only); `flask model export-onnx` makes it ahead.
    "MODERATION_DETOXIFY_RUNTIME": "torch",
    # The offline composite's sentence encoder on ONNX Runtime: int8 (about twice float32's
    # speed, what its heads are trained on) or float32.
    "MODERATION_ENCODER_PRECISION": "int8",
    "MODERATION_DEVICE": "cpu",
    "MODERATION_BATCH_SIZE": 16,
    # Pipeline
    "MODERATION_WORKER_BATCH": 32,
    "MODERATION_WORKER_POLL_SECONDS": 1.0,
    "MODERATION_WORKER_GATHER_SECONDS": 0.1,
    # A scoring worker process (`flask worker`, what `make run` starts) uses this many threads
    # for its model (0: one per core) and lowers its own priority by this much (nice), so that
    # readers' requests on the same cores never wait behind a batch; add workers to use more
    # cores.
    "MODERATION_WORKER_THREADS": 1,
    "MODERATION_WORKER_NICE": 10,
    # Texts a worker remembers the scores of: an identical text (a pasted campaign, a
    # resubmitted comment) is scored once while its scorer version stays the same (0: off).
    "MODERATION_WORKER_RECENT_TEXTS": 4096,
    # A claimed batch's lease, renewed every third of it while the worker is alive: a crashed
    # worker's comments are claimable again this long after it died.
    "MODERATION_LEASE_SECONDS": 30,
    # Per batch: a batch of long comments on bert-base on a small CPU can take minutes.
    "MODERATION_SCORE_TIMEOUT_SECONDS": 300,
    "MODERATION_LOAD_TIMEOUT_SECONDS": 600,
    "MODERATION_RETRY_BASE_SECONDS": 15,
    "MODERATION_RETRY_MAX_SECONDS": 3600,
    # Site models: the worker retrains after this many new decisions (0: only by hand, with
    # `flask model train`), checking at most this often.
    "MODERATION_SITE_MODEL_RETRAIN_EVERY": 0,
    "MODERATION_SITE_MODEL_CHECK_SECONDS": 300,
    # Webhooks (services/webhooks, webhook_delivery). Receivers on loopback or private
    # addresses are refused unless allowed (a local test receiver, say).
    "MODERATION_WEBHOOKS_ALLOW_PRIVATE": False,
    # Per request, in all: resolving, connecting, TLS, sending and reading the answer.
    "MODERATION_WEBHOOKS_TIMEOUT_SECONDS": 5,
    # Retries: base, 2*base, 4*base … capped; after the last attempt the delivery has failed.
    "MODERATION_WEBHOOKS_RETRY_BASE_SECONDS": 30,
    "MODERATION_WEBHOOKS_RETRY_MAX_SECONDS": 3600,
    "MODERATION_WEBHOOKS_MAX_ATTEMPTS": 8,
    # A claimed delivery's lease: at least TIMEOUT + 10 (the worker refuses to start if not).
    "MODERATION_WEBHOOKS_LEASE_SECONDS": 60,
    # How stale each process's list of subscribed event kinds may be (a comment post asks it).
    "MODERATION_WEBHOOKS_KINDS_SECONDS": 5,
    # The worker fans events out and sends what is due at most this often.
    "MODERATION_WEBHOOKS_EVERY_SECONDS": 1.0,
    # A step starts no new send after this long (each send ends within TIMEOUT), so scoring
    # waits at most about STEP + TIMEOUT seconds for webhooks.
    "MODERATION_WEBHOOKS_STEP_SECONDS": 2.0,
    # An event waits at most this long for an earlier one (an id handed out to a transaction
    # not yet committed) before that id is taken for a rolled-back transaction.
    "MODERATION_WEBHOOKS_GAP_SECONDS": 10.0,
    # Delivered and failed deliveries, and dispatched events, are deleted after this many days
    # (0: kept for ever).
    "MODERATION_WEBHOOKS_KEEP_DAYS": 30,
    # Moderators
    "MODERATION_UNDO_SECONDS": 600,
    "MODERATION_DECISIONS_PER_PAGE": 50,
    # Admins: sensitive actions ask for the password again once the sign-in is this old.
    "MODERATION_REAUTH_SECONDS": 1800,
    # Readers
    "MODERATION_POST_LIMIT": "5 per minute;50 per day",
    "MODERATION_REPORT_LIMIT": "10 per minute;100 per day",
    # Articles an embed may register from its page (auto-registering sites), per address;
    # loading the comments of an article that exists never counts.
    "MODERATION_AUTO_REGISTER_LIMIT": "20 per hour",
    # Distinct readers' reports that hide a published comment until a moderator looks.
    "MODERATION_REPORTS_TO_HIDE": 3,
    "MODERATION_LOGIN_LIMIT": "10 per minute",
    # Staff sessions: idle limits, absolute lifetime, "remember me" (14 days at most).
    "MODERATION_IDLE_MINUTES_ADMIN": 30,
    "MODERATION_IDLE_MINUTES": 120,
    "MODERATION_SESSION_HOURS": 12,
    "MODERATION_REMEMBER_DAYS": 14,
    # Per-account throttling: failures allowed in 15 minutes, then 1, 2, 4 … s up to this.
    "MODERATION_LOGIN_FREE_FAILURES": 5,
    "MODERATION_LOGIN_BACKOFF_FIRST_SECONDS": 1,
    "MODERATION_LOGIN_BACKOFF_MAX_SECONDS": 300,
    # scrypt checks running at once per process (64 MiB each), and how long one may wait.
    "MODERATION_PASSWORD_CHECKS": 4,
    "MODERATION_PASSWORD_CHECK_WAIT_SECONDS": 5,
    # Admins must use two-step sign-in (TOTP); moderators may.
    "MODERATION_ADMIN_TOTP_REQUIRED": True,
    "MODERATION_COMMENT_MAX_CHARS": 5000,
    "MODERATION_NAME_MAX_CHARS": 80,
    "MODERATION_IMPORT_MAX_BYTES": 20 * 1024 * 1024,  # an admin's CSV of past decisions
    # Served over HTTPS: cookies get the Secure flag (also SESSION_COOKIE_SECURE directly).
    "MODERATION_SECURE_COOKIES": False,
    # Reverse proxies in front of the app (0: clients connect directly).
    "MODERATION_TRUSTED_PROXIES": 0,
}


PASSTHROUGH = ("RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "SESSION_COOKIE_SECURE",
               "REMEMBER_COOKIE_SECURE")
_BOOLEANS = ("RATELIMIT_ENABLED", "SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE")


def _parse(value: str):
    """Environment values are strings; numbers, booleans and JSON are read as such."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def from_environment(environ=os.environ) -> dict:
    overrides = {
        key: _parse(value) for key, value in environ.items() if key.startswith("MODERATION_")
    }
    # Strings that look like numbers but are paths or names stay strings where it matters.
    for key in ("MODERATION_DETOXIFY_CHECKPOINT", "MODERATION_DETOXIFY_HF_CONFIG",
                "MODERATION_SCORER", "MODERATION_DETOXIFY_MODEL", "MODERATION_POST_LIMIT",
                "MODERATION_REPORT_LIMIT", "MODERATION_AUTO_REGISTER_LIMIT"):
        if key in environ:
            overrides[key] = environ[key]
    # Settings of the extensions themselves, under their own names.
    for key in PASSTHROUGH:
        if environ.get(key):
            overrides[key] = _parse(environ[key]) if key in _BOOLEANS else environ[key]
    if environ.get("DATABASE_URL"):
        overrides["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    if environ.get("SECRET_KEY"):
        overrides["SECRET_KEY"] = environ["SECRET_KEY"]
    return overrides


def normalise_database_url(url: str) -> str:
    """Accept the postgres:// and postgresql:// forms hosting providers hand out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
