from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from moderation.services.health import report

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    body, ok = report(current_app, detailed=current_user.is_authenticated)
    return jsonify(body), 200 if ok else 503
