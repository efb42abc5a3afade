"""Real-browser fixtures: Debian's Chromium through pytest-playwright, against a live server
that scores comments with the real embedded model (alt-profanity-check)."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

try:
    from playwright.sync_api import expect
except ImportError:  # the tests here are skipped with the reason below
    expect = None

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, browser_app, serve

HERE = Path(__file__).resolve().parent


def _why_skip() -> str | None:
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is not installed (Debian's chromium package; "
                "`make system-test-deps` installs it as root)")
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _why_skip()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(skip)


# Waits are on state (a locator, a URL, an attribute), never on time; on a loaded CI machine
# a page can take many seconds to answer, so each wait may take up to a minute before it
# counts as a failure (Playwright's own default is 5 s).
STATE_TIMEOUT_MS = 60_000
if expect is not None:
    expect.set_options(timeout=STATE_TIMEOUT_MS)


@pytest.fixture(autouse=True)
def _patient_page(request):
    if "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        page.set_default_timeout(STATE_TIMEOUT_MS)
        page.set_default_navigation_timeout(STATE_TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    reason = _why_skip()
    if reason is not None:
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@dataclass
class LiveServer:
    base_url: str
    app: Flask
    article_slug: str
    article_headline: str
    moderator_id: int
    username: str
    password: str

    def url(self, path: str) -> str:
        return self.base_url + path


def _live(tmp_path, sqlite_template, *, worker: bool):
    from moderation.extensions import db
    from tests.factories import PASSWORD, make_article, make_user

    path = tmp_path / "browser.sqlite3"
    shutil.copy(sqlite_template, path)
    app = browser_app(path)
    with app.app_context():
        article = make_article(
            slug="flood-barrier",
            headline="Council approves a flood barrier",
            section="Local",
            byline="By Mara L.",
            tags=["Flooding", "Council"],
        )
        moderator = make_user("maria", password=PASSWORD)
        db.session.commit()
        slug, headline, moderator_id = article.slug, article.headline, moderator.id
        db.session.remove()
    with serve(app, worker=worker) as served:
        yield LiveServer(served.base_url, app, slug, headline, moderator_id, "maria", PASSWORD)


@pytest.fixture
def live_server(tmp_path, sqlite_template):
    yield from _live(tmp_path, sqlite_template, worker=True)


@pytest.fixture
def live_server_without_worker(tmp_path, sqlite_template):
    """The same server with no scoring worker: the test starts one (start_worker) when it
    wants comments banded, so what a reader sees before that is certain."""
    yield from _live(tmp_path, sqlite_template, worker=False)


@pytest.fixture
def start_worker():
    from moderation.worker import start_thread

    started = []

    def start(app):
        started.append(start_thread(app))

    yield start
    for thread, stop in started:
        stop.set()
        thread.join(timeout=10)
