"""The workspace a moderator lives in all day, without JavaScript: a refused decision says why
on its own card, a compact density remembered across visits, filters that take what people
type and pick, counts that say how much of each band the filter keeps, and only the labels the
scorer produces."""

from __future__ import annotations

import re

import pytest

from moderation.extensions import db
from moderation.models import Score
from moderation.scoring import EmbeddedScorer
from moderation.services import queue as queues
from tests.web import test_workspace as base
from tests.web.test_workspace import card_html, card_ids, flashes, get

# The same comments, authors and signed-in moderator as the workspace's own tests.
workspace = base.workspace
maria = base.maria


def test_a_reject_for_other_without_a_note_is_refused_on_its_card(maria, workspace):
    target = workspace["insult"]
    response = maria.post(f"/queue/{target}/decision", data={
        "action": "reject", "reason": "other", "note": "  ", "next": "/queue/"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    card = card_html(page, target)
    assert f'<p class="card-error" role="alert" id="card-error-{target}">' in card
    assert "Rejecting for “other” needs a note saying why." in card
    # The note is the field to fix: marked, described by the message, and focused.
    note = re.search(r'<input type="text" name="note"[^>]*>', card).group(0)
    assert "autofocus" in note and 'aria-invalid="true"' in note
    assert f'aria-describedby="card-error-{target}"' in note
    assert '<option value="other" selected>' in card  # what was chosen stays chosen
    assert flashes(page) == []  # not in the banner, far from the card
    # Its forms post to the card's anchor: the page that comes back opens at this card.
    assert f'action="/queue/{target}/decision#card-{target}"' in card
    assert "card-error" not in card_html(page, workspace["mild"])


def test_a_reject_without_a_reason_points_at_the_reason(maria, workspace):
    target = workspace["mild"]
    response = maria.post(f"/queue/{target}/decision", data={
        "action": "reject", "note": "spammy", "next": "/queue/?article=trains"})
    assert response.status_code == 400
    card = card_html(response.get_data(as_text=True), target)
    assert "Choose a reason for rejecting." in card
    select = re.search(r'<select name="reason"[^>]*>', card).group(0)
    assert "autofocus" in select and 'aria-invalid="true"' in select
    assert 'value="spammy"' in card  # the note typed is kept


def test_a_refusal_for_a_card_not_on_the_page_goes_to_the_banner(maria, workspace):
    response = maria.post(f"/queue/{workspace['insult']}/decision", data={
        "action": "reject", "next": "/queue/?article=trains"})
    page = response.get_data(as_text=True)
    assert workspace["insult"] not in card_ids(page)
    assert flashes(page) == ["Choose a reason for rejecting."]


def test_compact_density_is_chosen_by_link_and_remembered(maria, workspace):
    page = get(maria, "/queue/")
    assert '<ol class="queue" ' in page
    assert 'href="/queue/?density=compact"' in page
    response = maria.get("/queue/?density=compact")
    assert "queue_density=compact" in response.headers["Set-Cookie"]
    assert '<ol class="queue compact" ' in response.get_data(as_text=True)
    later = get(maria, "/queue/?band=queued")
    assert '<ol class="queue compact" ' in later
    assert 'href="/queue/?band=queued&amp;density=comfortable"' in later
    # One line per card needs its top labels at hand.
    card = card_html(later, workspace["insult"])
    assert re.search(r'<span class="top-label">insult 0\.81</span>'
                     r'<span class="top-label">toxicity 0\.41</span>', card)
    assert '<ol class="queue" ' in get(maria, "/queue/?density=comfortable")


def test_the_score_filter_takes_two_decimals_and_articles_are_picked_by_headline(
        maria, workspace):
    page = get(maria, "/queue/?label=insult&label_min=0.81")
    assert card_ids(page) == [workspace["insult"]]
    assert 'step="0.01"' in page and 'step="0.05"' not in page
    assert card_ids(get(maria, "/queue/?label=insult&label_min=0.99")) == []
    datalist = page[page.index('<datalist id="article-choices">'):page.index("</datalist>")]
    assert '<option value="floods" label="Flood barrier approved">' in datalist
    assert '<option value="trains" label="Night trains return">' in datalist
    assert 'list="article-choices"' in page


def test_with_a_filter_each_band_says_how_much_of_it_the_filter_keeps(maria, workspace):
    page = get(maria, "/queue/?article=trains")
    counts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page[
        page.index('<ul class="counts'):page.index("</ul>", page.index('<ul class="counts'))]))
    assert "0 of 1 held" in counts
    assert "2 of 4 queued" in counts
    assert "1 of 1 unscored" in counts
    # Order and band alone leave the counts as they are.
    assert "count-total" not in get(maria, "/queue/?band=held&order=oldest")


def test_bars_show_only_the_labels_the_active_scorer_produces(app, workspace):
    with app.app_context():
        score = db.session.execute(db.select(Score).where(
            Score.comment_id == workspace["insult"])).scalar_one()
        assert queues.label_scores(score, ("toxicity",)) == [("toxicity", 0.405)]
        # A comment scored by a model that gave none of them keeps its own bars.
        assert queues.label_scores(score, ("obscene",)) == [("insult", 0.81),
                                                           ("toxicity", 0.405)]


@pytest.mark.parametrize("app_config", [{"MODERATION_SCORER_OBJECT": EmbeddedScorer()}])
def test_the_queue_offers_only_labels_the_scorer_produces(maria, workspace):
    page = get(maria, "/queue/")
    assert '<option value="toxicity">toxicity</option>' in page
    assert '<option value="insult">' not in page
    card = card_html(page, workspace["insult"])
    assert '<span class="bar-label">toxicity</span>' in card
    assert '<span class="bar-label">insult</span>' not in card
    # A saved link for a label it no longer scores still works, and says so.
    assert ('<option selected value="insult">insult (not scored now)</option>'
            in get(maria, "/queue/?label=insult&label_min=0.5"))
