"""Every error a person can meet gets a page (or JSON) that says what happened, never a 500
stack trace: 400 bad form or expired form token, 403, 404, 405, 409, 413, 429."""

from flask import Flask, jsonify, make_response, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

TITLES = {
    400: "We could not read that",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Already decided",
    413: "Too large",
    415: "Not a form",
    429: "Slow down",
    500: "Something went wrong",
}
MESSAGES = {
    413: "That was too large to accept. Comments can be at most 5,000 characters.",
    429: "You have posted too often in a short time. Please wait a minute and try again.",
    405: "That address does not accept this kind of request.",
    500: "Something went wrong on our side. Your last action may not have been saved.",
}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/healthz")) or (
        request.accept_mimetypes.best == "application/json"
    )


def _message(error: HTTPException) -> str:
    default = MESSAGES.get(error.code or 500)
    # Flask-Limiter's description is the limit itself ("5 per 1 minute"): ours reads better.
    if error.code == 413 or isinstance(error, RateLimitExceeded):
        return default
    description = error.description or ""
    # Werkzeug's stock descriptions are written for developers; prefer our own where we have one.
    if default and (not description or description == type(error).description):
        return default
    return description or default or "Something went wrong."


def _respond(code: int, message: str):
    if wants_json():
        return jsonify({"error": TITLES.get(code, "Error"), "message": message}), code
    # Inside a news site's page the embed's own compact page, without our masthead.
    template = "embed/error.html" if request.blueprint == "embed" else "errors/error.html"
    return render_template(
        template, code=code, title=TITLES.get(code, "Error"), message=message
    ), code


def http_error_response(error: HTTPException):
    """The page (or JSON) every HTTP error gets; for handlers that only take some cases.
    An error that carries headers (a 429's Retry-After) keeps them."""
    return with_extra_headers(make_response(_respond(error.code or 500, _message(error))), error)


def with_extra_headers(response, error: Exception):
    response.headers.update(getattr(error, "extra_headers", None) or {})
    return response


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(
            400,
            "This form has expired or was not sent from this site. "
            "Go back, reload the page and try again; nothing was saved.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return http_error_response(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        from moderation.extensions import db

        db.session.rollback()
        app.logger.exception("unhandled error")
        return _respond(500, MESSAGES[500])
