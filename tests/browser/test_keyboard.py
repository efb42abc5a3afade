"""A moderator works the queue with the keyboard alone, in a real browser: j/k to move, a to
approve, r and a digit to reject with a reason, x to select, R and a digit to reject the
selection, u to undo. With the JSON API the cards leave without a page load; without it the
same keys submit the cards' plain forms. Either way the database must record the same."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from moderation.extensions import db
from moderation.models import Article, CommentState, Decision, Score, utcnow
from moderation.services.decide import REASONS
from moderation.services.policy import active_policy
from tests.factories import make_comment

pytestmark = pytest.mark.browser

REASON_KEYS = {reason: str(number) for number, reason in enumerate(REASONS, start=1)}
# Riskiest first, so this is the order of the cards.
COMMENTS = [
    ("Ash", "Absolutely rotten idea, the council should resign", 0.95),
    ("Birch", "Buy cheap watches at my site, best prices", 0.90),
    ("Cedar", "Crikey, that is a damn good plan actually", 0.85),
    ("Dogwood", "Dirt cheap loans here, click now", 0.80),
    ("Elm", "Entirely reasonable, if a bit late", 0.75),
    ("Fir", "Flood the whole lot of them, they deserve it", 0.70),
    ("Gorse", "Get lost, all of you", 0.65),
    ("Hazel", "Hmm, who pays for the upkeep though?", 0.60),
]


def seed(app, slug) -> dict[str, int]:
    """Already scored, so the worker leaves them alone and the order is known."""
    with app.app_context():
        article = db.session.execute(db.select(Article).where(Article.slug == slug)).scalar_one()
        policy = active_policy()
        ids = {}
        for author, body, risk in COMMENTS:
            comment = make_comment(article, body, author_name=author, state=CommentState.QUEUED,
                                   risk=risk, scored_at=utcnow(), scorer_name="keyboard-test",
                                   scorer_version="1", policy=policy)
            db.session.add(Score(comment_id=comment.id, scorer_name="keyboard-test",
                                 scorer_version="1", toxicity=risk, insult=risk / 2))
            ids[author] = comment.id
        db.session.commit()
        db.session.remove()
    return ids


def recorded(app) -> list[tuple]:
    with app.app_context():
        try:
            return [(d.comment_id, d.actor_id, d.from_state, d.to_state, d.reason, d.reverts_id,
                     d.id)
                    for d in db.session.execute(db.select(Decision).where(
                        Decision.actor_id.is_not(None)).order_by(Decision.id)).scalars()]
        finally:
            db.session.remove()


@pytest.mark.parametrize("api", ["json-api", "api-unavailable"])
def test_a_moderator_triages_the_queue_with_only_the_keyboard(page: Page, live_server, api):
    app = live_server.app
    ids = seed(app, live_server.article_slug)
    if api == "api-unavailable":
        # As if the API were down or not deployed: every key must still work, by plain forms.
        page.route("**/api/v1/**", lambda route: route.fulfill(
            status=503, content_type="application/json", body='{"message": "down"}'))
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.on("console", lambda message: script_errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page_loads: list[str] = []
    page.on("framenavigated", lambda frame: page_loads.append(frame.url)
            if frame == page.main_frame else None)

    page.goto(live_server.url("/login?next=/queue/"))
    page.get_by_label("Username").fill(live_server.username)
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url("/queue/"))
    # On a loaded machine the deferred script may run well after the page shows: wait for it.
    expect(page.locator("body")).to_have_attribute("data-keyboard-ready", "true")
    loads_before = len(page_loads)

    cards = page.locator("ol.queue > li.card")
    expect(cards.locator(".author")).to_have_text([author for author, _, _ in COMMENTS])

    def card(author):
        return page.locator(f"#card-{ids[author]}")

    def focused_on(author):
        expect(card(author)).to_be_focused()

    def remaining(*authors):
        expect(cards.locator(".author")).to_have_text(list(authors))
        # Without the API each decision reloads the page: keys wait for its script.
        expect(page.locator("body")).to_have_attribute("data-keyboard-ready", "true")

    # The help overlay lists every key; Esc closes it. / goes to the search box.
    help_overlay = page.locator("#help")
    expect(help_overlay).to_be_hidden()
    page.keyboard.press("?")
    expect(help_overlay).to_be_visible()
    for shortcut in ("next / previous comment", "approve", "reject all selected",
                     "undo the last decision", "search", "show or hide this help"):
        expect(help_overlay).to_contain_text(shortcut)
    page.keyboard.press("Escape")
    expect(help_overlay).to_be_hidden()
    page.keyboard.press("/")
    expect(page.locator("#queue-search")).to_be_focused()
    page.keyboard.type("jar")  # typed into the box: not moves or decisions
    expect(page.locator("#queue-search")).to_have_value("jar")
    for _ in "jar":
        page.keyboard.press("Backspace")
    page.keyboard.press("Escape")  # out of the box, back to the cards
    focused_on("Ash")
    remaining(*[author for author, _, _ in COMMENTS])

    # j/k move; a approves the card in focus and the next one takes the focus.
    page.keyboard.press("j")
    focused_on("Birch")
    page.keyboard.press("k")
    focused_on("Ash")
    page.keyboard.press("a")
    expect(page.locator(".flash-success")).to_have_text("Approved the comment by Ash.")
    remaining("Birch", "Cedar", "Dogwood", "Elm", "Fir", "Gorse", "Hazel")
    focused_on("Birch")

    # r shows the reasons with their digits; 1 is spam.
    page.keyboard.press("r")
    legend = card("Birch").locator(".reason-keys")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("1 Spam")
    page.keyboard.press(REASON_KEYS["spam"])
    expect(page.locator(".flash-success")).to_have_text("Rejected the comment by Birch.")
    remaining("Cedar", "Dogwood", "Elm", "Fir", "Gorse", "Hazel")
    focused_on("Cedar")

    # j/k move without deciding; a approves the one in focus.
    page.keyboard.press("j")
    focused_on("Dogwood")
    page.keyboard.press("k")
    focused_on("Cedar")
    page.keyboard.press("a")
    remaining("Dogwood", "Elm", "Fir", "Gorse", "Hazel")
    focused_on("Dogwood")

    # The page has one legend: it outlived Birch's card and now shows in Dogwood's.
    page.keyboard.press("r")
    expect(card("Dogwood").locator(".reason-keys")).to_be_visible()
    page.keyboard.press(REASON_KEYS["spam"])
    remaining("Elm", "Fir", "Gorse", "Hazel")
    expect(page.locator(".reason-keys")).to_have_count(1)
    expect(page.locator(".reason-keys")).to_be_hidden()
    focused_on("Elm")

    page.keyboard.press("a")
    expect(page.locator(".flash-success")).to_have_text("Approved the comment by Elm.")
    remaining("Fir", "Gorse", "Hazel")

    # u: the last decision is undone and the card comes back, in its place, in focus.
    page.keyboard.press("u")
    expect(page.locator(".flash-success")).to_have_text(
        "Undone: the comment by Elm is back in the queue.")
    remaining("Elm", "Fir", "Gorse", "Hazel")
    focused_on("Elm")

    # x selects; R and a digit reject every selected comment with that reason.
    page.keyboard.press("x")
    page.keyboard.press("j")
    focused_on("Fir")
    page.keyboard.press("x")
    expect(page.locator("#selected-count")).to_have_text("2")
    page.keyboard.press("Shift+R")
    page.keyboard.press(REASON_KEYS["threat"])
    expect(page.locator(".flash-success")).to_have_text("Rejected 2.")
    remaining("Gorse", "Hazel")

    moderator = live_server.moderator_id
    queued, approved, rejected = (CommentState.QUEUED, CommentState.APPROVED,
                                  CommentState.REJECTED)
    decisions = recorded(app)
    assert [row[:6] for row in decisions] == [
        (ids["Ash"], moderator, queued, approved, None, None),
        (ids["Birch"], moderator, queued, rejected, "spam", None),
        (ids["Cedar"], moderator, queued, approved, None, None),
        (ids["Dogwood"], moderator, queued, rejected, "spam", None),
        (ids["Elm"], moderator, queued, approved, None, None),
        (ids["Elm"], moderator, approved, queued, "undo", decisions[4][6]),
        (ids["Elm"], moderator, queued, rejected, "threat", None),
        (ids["Fir"], moderator, queued, rejected, "threat", None),
    ]
    assert page.url.startswith(live_server.url("/queue/"))
    assert re.search(r"Queue \(2\)", page.title())
    assert script_errors == []
    reloads = len(page_loads) - loads_before
    if api == "json-api":
        assert reloads == 0, page_loads  # instant: no page load for any decision
    else:
        assert reloads == 7, page_loads  # each decision, the undo and the bulk: a form post
