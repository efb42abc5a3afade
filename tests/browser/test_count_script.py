"""A news site's index page, served from its own origin, shows each story's comment count
through count.js: one cross-origin request for every key on the page. A page from an origin no
site allows keeps its own text."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import CommentState, utcnow
from moderation.services import sites
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.browser

STORIES = {"2024/05/flood-barrier": 3, "budget": 1, "never-registered": None}
INDEX = """<!doctype html><html><head><meta charset="utf-8"><title>News</title></head><body>
<ul>
  <li>Flood barrier <span data-comments-for="2024/05/flood-barrier">Comments</span></li>
  <li>Budget <span data-comments-for="budget">Comments</span>
      <a href="/budget#comments" data-comments-for="budget">Join the discussion</a></li>
  <li>New story <span data-comments-for="never-registered">Comments</span></li>
</ul>
<script src="{server}/count.js" async></script>
</body></html>"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def news_site(folder: Path) -> Iterator[str]:
    """The site's own web server: static files on 127.0.0.1 at a port of its own (another
    origin than the moderation server, which is what CORS checks)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, name="news-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def stories(app) -> None:
    with app.app_context():
        for key, published in STORIES.items():
            if published is None:
                continue
            article = make_article(external_key=key, headline=f"About {key}")
            for n in range(published):
                make_comment(article, f"Remark {n}", state=CommentState.APPROVED,
                             scored_at=utcnow())
            make_comment(article, "Waiting for a moderator", state=CommentState.QUEUED,
                         scored_at=utcnow())
        db.session.commit()
        db.session.remove()


def allow(app, origin: str) -> None:
    with app.app_context():
        sites.save(None, None, name="The News", origins=[origin], allow_anonymous=True,
                   auto_register=False)
        db.session.commit()
        db.session.remove()


def counts_requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url)
            if "/api/v1/public/counts" in request.url else None)
    return seen


def test_an_index_page_shows_each_storys_count_from_one_request(page: Page, live_server,
                                                                 tmp_path):
    stories(live_server.app)
    (tmp_path / "index.html").write_text(INDEX.format(server=live_server.base_url))
    with news_site(tmp_path) as origin:
        allow(live_server.app, origin)
        requests = counts_requests(page)
        page.goto(f"{origin}/index.html")
        expect(page.locator('span[data-comments-for="2024/05/flood-barrier"]')).to_have_text(
            "3 Comments")
        expect(page.locator('span[data-comments-for="budget"]')).to_have_text("1 Comment")
        expect(page.locator('a[data-comments-for="budget"]')).to_have_text("1 Comment")
        expect(page.locator('span[data-comments-for="never-registered"]')).to_have_text(
            "0 Comments")
        expect(page.locator('[data-comments-state="done"]')).to_have_count(4)
    assert len(requests) == 1, requests


def test_a_page_from_an_origin_no_site_allows_keeps_its_text(page: Page, live_server,
                                                             tmp_path):
    stories(live_server.app)
    (tmp_path / "index.html").write_text(INDEX.format(server=live_server.base_url))
    with news_site(tmp_path) as allowed, news_site(tmp_path) as stranger:
        allow(live_server.app, allowed)
        requests = counts_requests(page)
        page.goto(f"{stranger}/index.html")
        expect(page.locator('[data-comments-state="failed"]')).to_have_count(4)
        for element in page.locator("span[data-comments-for]").all():
            expect(element).to_have_text("Comments")
        expect(page.locator('a[data-comments-for="budget"]')).to_have_text(
            "Join the discussion")
    assert len(requests) == 1, requests
