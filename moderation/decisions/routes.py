"""The decision log: who decided what, when and why."""

from flask import Blueprint

bp = Blueprint("decisions", __name__, url_prefix="/decisions")
