"""HTTP around the public reads: CORS for the sites' own origins, and answers that caches may
keep (a strong ETag of the JSON, If-None-Match answered with a 304)."""

from __future__ import annotations

import hashlib

from flask import Response, current_app, jsonify, request

from moderation import compression
from moderation.services import sites

PREFLIGHT_MAX_AGE = 600
# What a page's script may send with a GET beyond the CORS-safelisted headers.
ALLOWED_HEADERS = "If-None-Match"


def allowed_origin() -> str | None:
    """The request's Origin when some site lists it (as the browser sent it), else None."""
    origin = request.headers.get("Origin")
    if not origin or sites.site_for_origin(origin) is None:
        return None
    return origin


def add_cors(response: Response) -> Response:
    """Never `*`, never credentials: only a site's own pages may read the answer."""
    response.vary.add("Origin")  # the same URL answers other origins differently
    origin = allowed_origin()
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


def preflight() -> Response:
    """OPTIONS before a GET: allowed for a site's origins, 403 (with no allowance) otherwise."""
    origin = allowed_origin()
    if origin is None:
        response = jsonify({"error": "Forbidden",
                            "message": "This origin is not one of a site's allowed origins: "
                                       "an admin adds it to the site's settings."})
        response.status_code = 403
        response.vary.add("Origin")
        return response
    response = current_app.response_class(status=204)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Methods"] = "GET"
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    response.vary.add("Origin")
    return response


def cacheable(body: dict, *, max_age: int) -> Response:
    """The JSON answer with a strong ETag (a hash of its bytes) and a public max-age, or a 304
    when the client already holds it. Compressed here, before the conditional check, so the
    gzip variant's weak ETag (compression.py) and a 304 to that client say the same thing."""
    response = jsonify(body)
    digest = hashlib.sha256(response.get_data()).hexdigest()[:32]
    response.set_etag(digest)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response = compression.compress(response)
    return response.make_conditional(request)
