"""Guards every request passes: input that is not text is refused before any query sees it,
and response headers keep pages from being framed (a moderator's approve button inside someone
else's page), sniffed, or leaking addresses to other sites."""

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Inline styles are allowed for the score bars' widths; scripts only from this site.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class IdConverter(IntegerConverter):
    """Database ids: a number past what the column holds is simply not found (404)."""

    def __init__(self, url_map):
        super().__init__(url_map, max=2**31 - 1)


def refuse_non_text() -> None:
    # PostgreSQL refuses NUL characters outright; nothing legitimate sends them.
    if "\x00" in request.path or any(
            "\x00" in value for _, values in request.args.lists() for value in values):
        abort(400, "This address contains characters that are not text.")
    if request.method == "POST" and request.mimetype:
        # Every POST here is a web form (Flask-WTF would otherwise read JSON of any shape),
        # except under /api/, which takes only JSON and checks its shape itself.
        if request.path.startswith("/api/"):
            if request.mimetype != "application/json":
                abort(415, "Send a JSON object (Content-Type: application/json). "
                           "Nothing was saved.")
        elif request.mimetype not in FORM_TYPES:
            abort(415, "Post this as a web form (application/x-www-form-urlencoded or "
                       "multipart/form-data). Nothing was saved.")
    if request.method == "POST" and request.files:
        abort(400, "This site does not accept file uploads. Please type or paste plain text.")


def register(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_non_text)

    @app.after_request
    def add_security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
