"""Guards every request passes: input that is not text is refused before any query sees it,
and response headers keep pages from being framed (a moderator's approve button inside someone
else's page), sniffed, or leaking addresses to other sites."""

from urllib.parse import unquote_to_bytes

from flask import Flask, Request, abort, current_app, request
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




def framed_by(frame_ancestors: str) -> dict[str, str]:
    """Headers for the one kind of page other sites may frame (the comments embed): our CSP
    with their origins as frame-ancestors, and no X-Frame-Options (it cannot name origins)."""
    csp = HEADERS["Content-Security-Policy"].replace("frame-ancestors 'none'", frame_ancestors)
    return {"Content-Security-Policy": csp}


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The one place that takes a file: an admin's CSV of past decisions (moderation/admin/imports).
UPLOAD_PATHS = frozenset({"/admin/imports"})
# Room for the form's other fields and the multipart boundaries around the file.
UPLOAD_OVERHEAD = 64 * 1024


def takes_uploads(path: str, method: str) -> bool:
    return method == "POST" and path in UPLOAD_PATHS


def _signed_in_admin() -> bool:
    """From the session cookie alone, so nobody else gets a large body read at all."""
    from flask_login import current_user

    return bool(current_user.is_authenticated and current_user.is_admin)


class UploadRequest(Request):
    """The import's upload may be as big as MODERATION_IMPORT_MAX_BYTES; every other request
    keeps MAX_CONTENT_LENGTH. Decided here, on the request itself, because the CSRF check reads
    the body before any view or blueprint hook could raise the limit."""

    @property
    def max_content_length(self) -> int | None:
        if (self._max_content_length is None and takes_uploads(self.path, self.method)
                and _signed_in_admin()):
            return int(current_app.config["MODERATION_IMPORT_MAX_BYTES"]) + UPLOAD_OVERHEAD
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


class IdConverter(IntegerConverter):
    """Database ids: ASCII digits only ("４" is not 4), and a number past what the column
    holds is simply not found (404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, url_map):
        super().__init__(url_map, max=2**31 - 1)


def _utf8(raw: bytes) -> bool:
    """Percent-escapes decode to UTF-8 (Werkzeug would keep "%FF" as literal text)."""
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def refuse_non_text() -> None:
    if not _utf8(request.query_string):
        abort(400, "This address contains bytes that are not text (not UTF-8).")
    if request.method == "POST" and request.mimetype == FORM_TYPES[0] \
            and not _utf8(request.get_data(cache=True)):
        abort(400, "This form contains bytes that are not text: not UTF-8 (binary data, or "
                   "another encoding). Please type or paste plain text; nothing was saved.")
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
    if request.method == "POST" and not takes_uploads(request.path, request.method) \
            and request.files:
        abort(400, "This site does not accept file uploads. Please type or paste plain text.")


def register(app: Flask) -> None:
    app.request_class = UploadRequest
    app.url_map.converters["id"] = IdConverter
    # First of all hooks: the CSRF check reads the form, and after that the raw body is gone.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_non_text)

    https = bool(app.config.get("MODERATION_SECURE_COOKIES"))

    @app.after_request
    def add_security_headers(response):
        framed = "frame-ancestors" in response.headers.get("Content-Security-Policy", "")
        for name, value in HEADERS.items():
            if name == "X-Frame-Options" and framed:
                continue  # the view chose who may frame it (security.framed_by)
            response.headers.setdefault(name, value)
        if https:  # browsers then refuse plain HTTP to this site for a year
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response
