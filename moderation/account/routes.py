"""A signed-in user's own settings: API tokens."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")
