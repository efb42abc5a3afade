"""The embed as a reader meets it: a news article page on one site (news.test) shows the
comments served from another (comments.test), in real Chromium with third-party cookies
blocked, so the iframe really is third-party and really has no cookies."""

from __future__ import annotations

import re
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import CommentState
from moderation.services import sites, sso
from moderation.worker import start_thread
from tests.browser.conftest import STATE_TIMEOUT_MS
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, browser_app, serve
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "docs" / "embed-example.html").read_text()
KEY = "2024/05/wyre-footbridge-reopens"
GAZETTE_KEY = "2024/05/harbour-dredging"
SECRET = "g" * 48
HOSTS = ("news.test", "comments.test", "other.test", "gazette.test")
PUBLISHED = "Good to have the bridge back before the summer market."


@dataclass
class Pages:
    """A second web server: the news sites' own pages (path -> HTML)."""
    port: int = 0
    html: dict[str, str] = field(default_factory=dict)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"


@contextmanager
def serve_pages(pages: Pages):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = pages.html.get(self.path.split("?")[0])
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not here").encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    pages.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pages
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Embedded:
    app: Flask
    service: str  # http://comments.test:<port>
    pages: Pages

    def page_with(self, service_snippet: str, **data) -> str:
        """The example article with its container's data-* attributes replaced."""
        attributes = " ".join(f'data-{name}="{value}"' for name, value in data.items())
        html = re.sub(r'<div id="comments"[^>]*></div>', f'<div id="comments" {attributes}></div>',
                      EXAMPLE, flags=re.S)
        return html.replace("http://127.0.0.1:5000", service_snippet)


@pytest.fixture
def embedded(tmp_path, sqlite_template):
    path = tmp_path / "embed.sqlite3"
    shutil.copy(sqlite_template, path)
    app = browser_app(path)
    with serve_pages(Pages()) as pages:
        with app.app_context():
            news = sites.save(None, None, name="Harbour Gazette",
                              origins=[pages.url("news.test", "")], allow_anonymous=True,
                              auto_register=True)
            gazette = sites.save(None, None, name="Signed Gazette",
                                 origins=[pages.url("gazette.test", "")], allow_anonymous=False,
                                 auto_register=False, sso_secret=SECRET, theme="dark")
            article = make_article(slug="wyre", headline="Footbridge over the Wyre reopens",
                                   external_key=KEY, site_id=news.id)
            make_comment(article, PUBLISHED, author_name="Ruth", state=CommentState.APPROVED)
            make_article(slug="dredging", headline="Harbour dredging", external_key=GAZETTE_KEY,
                         site_id=gazette.id)
            db.session.commit()
            db.session.remove()
        with serve(app, worker=False) as served:
            service = served.base_url.replace("127.0.0.1", "comments.test")
            example = EXAMPLE.replace("http://127.0.0.1:5000", service).replace(
                "http://localhost:8001", pages.url("news.test", ""))
            pages.html["/embed-example.html"] = example
            yield Embedded(app, service, pages)


@pytest.fixture
def reader(playwright, tmp_path):
    """Chromium as a reader with third-party cookies blocked (profile preferences and the
    phase-out test flag), resolving the test sites' names to this machine."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(
        '{"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": true}}')
    rules = ", ".join(f"MAP {host} 127.0.0.1" for host in HOSTS)
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}",
              "--test-third-party-cookie-phaseout"])
    context.set_default_timeout(STATE_TIMEOUT_MS)
    page = context.pages[0] if context.pages else context.new_page()
    yield page
    context.close()


@contextmanager
def worker_running(app: Flask):
    """The scoring worker with the real embedded model, for as long as the block runs."""
    thread, stop = start_thread(app)
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def comments_frame(page: Page, selector: str = "#comments iframe"):
    return page.frame_locator(selector)


def embed_frame(page: Page):
    return next(frame for frame in page.frames if "/embed/comments" in frame.url)


def test_the_example_article_shows_its_published_comments_in_a_third_party_frame(
        reader: Page, embedded):
    reader.goto(embedded.pages.url("news.test", "/embed-example.html"))
    frame = comments_frame(reader)
    expect(frame.locator(".comment-count")).to_have_text("1 comment")
    expect(frame.locator(".comment-list li.comment")).to_contain_text(PUBLISHED)
    # The frame told the page its height, from the service's own origin.
    expect(reader.locator("#comments")).to_have_attribute("data-embed", "ready")
    # Third-party cookies really are blocked: the frame can neither keep nor read one.
    stored = embed_frame(reader).evaluate("document.cookie = 'probe=1; path=/'; document.cookie")
    assert stored == ""
    assert not [c for c in reader.context.cookies() if c["domain"] == "comments.test"]


def test_a_reader_posts_sees_it_being_checked_then_published(reader: Page, embedded):
    reader.goto(embedded.pages.url("news.test", "/embed-example.html"))
    frame = comments_frame(reader)
    frame.get_by_label("Name").fill("Jo Reader")
    frame.get_by_label("Comment", exact=True).fill("Glad the bridge is open again, well done.")
    frame.get_by_role("button", name="Post comment").click()

    expect(frame.locator("#your-comment")).to_contain_text("Your comment is being checked")
    assert reader.url.endswith("/embed-example.html")  # the reader never left the article
    with worker_running(embedded.app):
        expect(frame.locator("#your-comment")).to_contain_text("Your comment is published")
    expect(frame.locator(".comment-count")).to_have_text("2 comments")
    expect(frame.locator(".comment-list li.comment").first).to_contain_text("Jo Reader")
    assert embed_frame(reader).evaluate("document.cookie") == ""


def test_a_page_on_an_origin_no_site_allows_gets_nothing_rendered(reader: Page, embedded):
    lying = (f'{embedded.service}/embed/comments?key={KEY}&origin='
             f'{embedded.pages.url("news.test", "")}')
    embedded.pages.html["/copied.html"] = embedded.pages.html["/embed-example.html"] + (
        f'<iframe id="lying" src="{lying}" onload="this.dataset.loaded = \'true\'"></iframe>')
    reader.goto(embedded.pages.url("other.test", "/copied.html"))

    # Honest about its origin: refused by the service; lying about it: refused by the browser.
    expect(reader.locator("#comments iframe")).to_have_attribute("data-loaded", "true")
    expect(reader.locator("#lying")).to_have_attribute("data-loaded", "true")
    for selector in ("#comments iframe", "#lying"):
        expect(comments_frame(reader, selector).locator("form")).to_have_count(0)
        expect(comments_frame(reader, selector).locator(".comment-list")).to_have_count(0)
    expect(reader.locator("#comments")).to_have_attribute("data-embed", "loading")


def test_a_site_that_requires_sign_in_refuses_anonymous_readers_and_takes_signed_ones(
        reader: Page, embedded):
    common = {"article-key": GAZETTE_KEY, "article-title": "Harbour dredging"}
    token = sso.issue(SECRET, "cms-7", "Ada Reader", email="ada@reader.example")
    embedded.pages.html["/anonymous.html"] = embedded.page_with(embedded.service, **common)
    embedded.pages.html["/signed.html"] = embedded.page_with(embedded.service, sso=token,
                                                             **common)

    reader.goto(embedded.pages.url("gazette.test", "/anonymous.html"))
    frame = comments_frame(reader)
    expect(frame.locator(".sign-in")).to_contain_text("Sign in to comment")
    expect(frame.locator("form")).to_have_count(0)
    refused = embed_frame(reader).evaluate(
        """key => fetch('/embed/comments', {method: 'POST', body: new URLSearchParams({
               key, origin: document.body.dataset.parentOrigin, author_name: 'Anon',
               body: 'Let me in.'})}).then(response => response.status)""", GAZETTE_KEY)
    assert refused == 403

    reader.goto(embedded.pages.url("gazette.test", "/signed.html"))
    expect(frame.locator(".signed-in")).to_contain_text("Commenting as Ada Reader")
    expect(reader.locator("body")).to_be_visible()
    frame.get_by_label("Comment", exact=True).fill("Dredging is overdue, good to see it.")
    frame.get_by_role("button", name="Post comment").click()
    expect(frame.locator("#your-comment")).to_contain_text("Your comment is being checked")
    with worker_running(embedded.app):
        expect(frame.locator("#your-comment")).to_contain_text("Your comment is published")
    mine = frame.locator(".comment-list li.comment").first
    expect(mine.locator(".author")).to_have_text("Ada Reader")
    expect(mine.locator(".verified")).to_have_text("verified account")
