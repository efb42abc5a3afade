"""Text answers are gzipped for browsers that accept it; streams keep streaming."""

import csv
import gzip
import io

from moderation.extensions import db
from moderation.models import CommentState
from moderation.services.decide import decide
from tests.factories import make_article, make_comment

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_pages_styles_scripts_and_json_are_gzipped_when_accepted(app, moderator_client):
    with app.app_context():
        article = make_article()
        for n in range(30):
            make_comment(article, f"Comment number {n} about the barrier.",
                         state=CommentState.QUEUED, risk=0.4)
        db.session.commit()
    for url, marker in (("/queue/", b"Moderation queue"), ("/static/site.css", b"{"),
                        ("/static/queue.js", b"function"), ("/api/v1/queue", b'"items"')):
        plain = moderator_client.get(url)
        packed = moderator_client.get(url, headers=GZIP)
        assert packed.headers["Content-Encoding"] == "gzip", url
        assert "Accept-Encoding" in packed.headers["Vary"], url
        body = gzip.decompress(packed.data)
        assert marker in body, url
        assert len(packed.data) < len(body) / 2, url
        assert "Content-Encoding" not in plain.headers, url
        if url.startswith("/static/"):
            assert body == plain.data, url
        plain.close()
        packed.close()


def test_the_csv_export_still_streams_and_is_not_gzipped(app, moderator_client, moderator):
    from moderation.models import User

    with app.app_context():
        article = make_article()
        maria = db.session.get(User, moderator)
        for n in range(3):
            decide(make_comment(article, f"c{n}", state=CommentState.QUEUED), maria, "approve")
        db.session.commit()
    response = moderator_client.get("/decisions/export.csv", headers=GZIP)
    assert response.is_streamed and "Content-Encoding" not in response.headers
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3
    response.close()


def test_a_conditional_request_for_a_static_file_is_still_a_304(client):
    first = client.get("/static/site.css", headers=GZIP)
    assert first.headers["ETag"].startswith('W/"')
    again = client.get("/static/site.css",
                       headers={**GZIP, "If-None-Match": first.headers["ETag"]})
    assert first.status_code == 200 and again.status_code == 304
    assert again.data == b""


def test_a_refused_gzip_a_range_and_a_304_get_plain_bytes_and_vary(client):
    refused = client.get("/static/site.css", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    assert "Accept-Encoding" in refused.headers["Vary"]
    packed = client.get("/static/site.css", headers=GZIP)
    assert "Accept-Ranges" not in packed.headers
    part = client.get("/static/site.css", headers={**GZIP, "Range": "bytes=0-9"})
    assert part.status_code == 206 and "Content-Encoding" not in part.headers
    assert part.data == refused.data[:10]
    again = client.get("/static/site.css",
                       headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and "Accept-Encoding" in again.headers["Vary"]
    for response in (refused, packed, part, again):
        response.close()
