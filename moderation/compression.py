"""gzip for text answers (HTML, CSS, JS, JSON) when the browser accepts it: the queue page is
~300 KB of HTML for 50 cards, ~10× smaller gzipped. Streams (the CSV export) are left alone, so
they keep streaming; small answers are not worth it."""

from __future__ import annotations

import gzip

from flask import Flask, request

TYPES = frozenset({"text/html", "text/css", "text/javascript", "application/javascript",
                   "application/json", "image/svg+xml", "text/plain"})
MIN_BYTES = 512
LEVEL = 5  # most of level 9's saving at a fraction of its CPU


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0  # "gzip;q=0" is a refusal


def compress(response):
    if response.mimetype in TYPES:
        response.vary.add("Accept-Encoding")  # 304s and plain answers too: caches must know
    if (response.status_code != 200 or response.mimetype not in TYPES
            or "Content-Encoding" in response.headers or not _accepts_gzip()
            or "Range" in request.headers):  # a range is of the plain bytes
        return response
    if response.direct_passthrough:  # a static file: small, read it once
        if request.endpoint != "static":
            return response
        response.direct_passthrough = False
    elif response.is_streamed:
        return response
    data = response.get_data()
    if len(data) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=LEVEL))
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # ranges of the gzip would not resume
    etag, _ = response.get_etag()
    if etag:  # the same content in another encoding: equal only weakly (RFC 9110 8.8.3)
        response.set_etag(etag, weak=True)
    return response


def register(app: Flask) -> None:
    app.after_request(compress)
