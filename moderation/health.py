from flask import Blueprint, current_app, jsonify

from moderation.services.health import report

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    body, ok = report(current_app)
    return jsonify(body), 200 if ok else 503
