"""Screenshots of the site for the docs, from a real server and the real offline composite.

    .venv/bin/python docs/make_screenshots.py

Seeds the demo content (moderation.services.demo.seed) into a temporary SQLite database,
serves it with a scoring worker, waits until every comment is scored, and saves full-page
PNGs of an article page and of the moderation queue (signed in as the moderator) to
docs/screenshots/. With ../shared/data/olid present it also imports those labelled tweets as
past decisions (offensive = rejected) and shows the admin's policy editor replaying a proposal
on them. Needs /usr/bin/chromium and playwright (pip install -e '.[test]')."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from moderation.extensions import db  # noqa: E402
from moderation.models import Comment, utcnow  # noqa: E402
from moderation.services.demo import ARTICLES, seed  # noqa: E402
from tests.browser.server import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    all_scored,
    browser_app,
    serve,
    wait_until,
)
from tests.conftest import migrate  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
WIDTH, HEIGHT = 1280, 900
MODERATOR_PASSWORD = "screenshot moderator password"
ADMIN_PASSWORD = "screenshot admin password"
OLID = ROOT.parent / "shared" / "data" / "olid" / "olid-training-v1.0.tsv"


def seed_demo(app) -> None:
    """What `flask seed-demo` does, with a known moderator password."""
    with app.app_context():
        seed(utcnow(), admin_password=ADMIN_PASSWORD,
             moderator_password=MODERATOR_PASSWORD)
        db.session.commit()
        db.session.remove()


def import_olid_history(app, folder: Path) -> bool:
    """OLID's tweets as another tool's history: offensive ones rejected, the rest approved,
    spread over the last 60 days. Nothing of OLID is written outside the temporary folder."""
    if not OLID.exists():
        print(f"{OLID} is absent: no policy editor screenshot.", file=sys.stderr)
        return False
    history = folder / "history.csv"
    now = utcnow()
    with OLID.open(encoding="utf-8") as source, history.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(["text", "decision", "date"])
        for number, row in enumerate(csv.DictReader(source, delimiter="\t")):
            decision = "rejected" if row["subtask_a"] == "OFF" else "approved"
            when = now - timedelta(hours=number % (60 * 24))
            writer.writerow([row["tweet"], decision, when.isoformat(timespec="seconds")])
    result = app.test_cli_runner().invoke(
        args=["import-decisions", str(history), "--user", "admin"])
    print(result.output.strip().splitlines()[0] if result.output else result)
    return result.exit_code == 0


def policy_screenshot(page, base_url: str) -> None:
    page.goto(f"{base_url}/login?next=/admin/policy")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("toxicity reject-at", exact=True).fill("0.70")
    expect(page.locator(".replay-changes")).to_contain_text("0.90 → 0.70")
    page.screenshot(path=OUT / "policy.png", full_page=True)


def decide_a_few(app) -> None:
    """A morning's work for the decision log: the moderator approves and rejects the first
    waiting comments, and undoes one approval."""
    from moderation.models import OPEN_STATES, User
    from moderation.services.decide import decide, undo

    with app.app_context():
        moderator = db.session.execute(
            db.select(User).where(User.username == "moderator")).scalar_one()
        waiting = list(db.session.execute(
            db.select(Comment).where(Comment.state.in_(OPEN_STATES), Comment.import_id.is_(None))
            .order_by(Comment.risk.desc()).limit(5)).scalars())
        for number, comment in enumerate(waiting):
            if number % 2:
                decide(comment, moderator, "approve")
            else:
                decide(comment, moderator, "reject", reason="harassment")
        if len(waiting) > 1:
            undo(waiting[1], moderator)
        db.session.commit()
        db.session.remove()


def describe(app) -> None:
    with app.app_context():
        for comment in db.session.execute(db.select(Comment).order_by(Comment.id)).scalars():
            risk = "-" if comment.risk is None else f"{comment.risk:.3f}"
            print(f"  {comment.state.value:9} risk {risk:>5}  {comment.author_name}: "
                  f"{comment.body[:60]}")
        db.session.remove()


def main() -> int:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is not installed; cannot take screenshots.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="moderation-screenshots-") as folder:
        path = Path(folder) / "demo.sqlite3"
        migrate(f"sqlite:///{path}")
        app = browser_app(path, MODERATION_SCORER="composite",
                          MODERATION_SCORE_TIMEOUT_SECONDS=120, MODERATION_WORKER_BATCH=128)
        seed_demo(app)
        with_history = import_olid_history(app, Path(folder))
        with serve(app) as served, sync_playwright() as playwright:
            # The composite scores ~100 comments/s here: OLID's history takes a few minutes.
            wait_until(lambda: all_scored(app), timeout=900, what="the worker to score the demo")
            describe(app)
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                page.goto(f"{served.base_url}/articles/{ARTICLES[0]['slug']}")
                expect(page.locator(".comment-list li.comment").first).to_be_visible()
                page.screenshot(path=OUT / "article.png", full_page=True)

                page.goto(f"{served.base_url}/login")
                page.get_by_label("Username").fill("moderator")
                page.get_by_label("Password").fill(MODERATOR_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                expect(page).to_have_url(f"{served.base_url}/queue/")
                expect(page.locator("ol.queue > li.card").first).to_be_visible()
                page.screenshot(path=OUT / "queue.png", full_page=True)
                page.goto(f"{served.base_url}/queue/?density=compact")
                expect(page.locator("ol.queue > li.card").first).to_be_visible()
                page.screenshot(path=OUT / "queue-compact.png")
                page.goto(f"{served.base_url}/queue/?density=full")
                decide_a_few(app)
                page.goto(f"{served.base_url}/decisions/")
                expect(page.locator("table").first).to_be_visible()
                page.screenshot(path=OUT / "decisions.png")
                page.context.clear_cookies()
                if with_history:
                    policy_screenshot(page, served.base_url)
            finally:
                browser.close()
    for name in ("article.png", "queue.png", "queue-compact.png", "decisions.png") + (
            ("policy.png",) if with_history else ()):
        print(f"wrote {(OUT / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
