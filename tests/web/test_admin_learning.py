"""Admins curate the semantic examples and manage site models from the admin pages; the
policy editor says which labels nothing scores now."""

import pytest

from moderation.extensions import db
from moderation.models import AdminEvent, SemanticExample
from moderation.scoring import CompositeScorer, EmbeddedScorer
from moderation.scoring.examples import Example, shipped_examples
from moderation.services import examples
from tests.unit.test_site_models import BASE, decided_comments

THREAT = "we will be waiting for you at the school gates on monday"


def add(client, **fields):
    data = {"label": "threat", "kind": "harmful", "text": THREAT, "note": ""}
    data.update(fields)
    return client.post("/admin/examples", data=data)


@pytest.mark.parametrize("app_config", [{"MODERATION_SCORER_OBJECT": CompositeScorer()}])
def test_a_proposed_example_is_used_only_once_an_admin_puts_it_in_use(app, admin_client):
    response = add(admin_client, note="seen on the schools story")
    assert response.status_code == 303
    proposal_page = response.headers["Location"]
    with app.app_context():
        assert Example("threat", THREAT, True) not in examples.active()
        [row] = examples.proposals()
    # No worker has embedded it yet: the page says so and waits, no model runs in a request.
    waiting = admin_client.get(proposal_page).get_data(as_text=True)
    assert "Waiting for a scoring worker to embed" in waiting

    accepted = admin_client.post(f"/admin/examples/proposals/{row.id}/accept")
    assert accepted.status_code == 303
    page = admin_client.get("/admin/examples?label=threat").get_data(as_text=True)
    assert THREAT in page and "seen on the schools story" in page
    again = admin_client.post(f"/admin/examples/proposals/{row.id}/discard",
                              follow_redirects=True)
    assert "already put in use or discarded" in again.get_data(as_text=True)
    with app.app_context():
        assert Example("threat", THREAT, True) in examples.active()
        actions = [event.action for event in db.session.execute(
            db.select(AdminEvent).order_by(AdminEvent.id)).scalars()]
        assert actions == ["examples.add", "examples.accept"]
        composite = CompositeScorer()  # not loaded: handing it examples costs nothing here
        before = composite.identity.version
        assert examples.sync(composite) is True
        assert Example("threat", THREAT, True) in composite.examples
        assert composite.identity.version != before
        assert examples.sync(composite) is False  # nothing changed since


def test_removing_a_shipped_example_keeps_a_record_of_it(app, admin_client):
    shipped = next(e for e in shipped_examples() if e.label == "insult" and not e.harmful)

    response = admin_client.post("/admin/examples/remove", data={
        "label": "insult", "kind": "lookalike", "text": shipped.text})

    assert response.status_code == 303
    with app.app_context():
        assert shipped not in examples.active()
        row = db.session.execute(db.select(SemanticExample)).scalar_one()
        assert (row.origin, row.text, row.removed_by.username) == ("shipped", shipped.text, "ada")
    again = admin_client.post("/admin/examples/remove", data={
        "label": "insult", "kind": "lookalike", "text": shipped.text})
    assert again.status_code == 409
    assert "not in use" in again.get_data(as_text=True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"text": "   "}, "Type the example sentence to add."),
    ({"text": "kill"}, "single words belong on the word lists"),
    ({"text": "x " * 200}, "at most 300 characters"),
    ({"label": "obscene"}, "Choose one of: toxicity"),
    ({"text": "bad \x00 bytes in here"}, "not"),
])
def test_bad_examples_are_refused_with_a_message_and_nothing_stored(app, admin_client, fields,
                                                                     message):
    response = add(admin_client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(SemanticExample.id))).scalar_one() == 0


def test_an_example_already_in_use_is_not_added_twice(admin_client):
    shipped = next(e for e in shipped_examples() if e.label == "threat" and e.harmful)
    response = add(admin_client, text=shipped.text.upper())
    assert response.status_code == 400
    assert "already a harmful example for threat" in response.get_data(as_text=True)


def test_moderators_cannot_touch_examples_or_models(moderator_client):
    assert moderator_client.get("/admin/examples").status_code == 403
    assert add(moderator_client).status_code == 403
    assert moderator_client.post("/admin/models/1/activate").status_code == 403


def test_the_models_page_shows_the_evidence_and_activates_only_what_beat_the_base(
        app, admin_client):
    from moderation.services import site_models

    with app.app_context():
        decided_comments(150, informative="toxicity")
        refused = site_models.train(BASE)
        decided_comments(240, informative="insult", seed=2)
        better = site_models.train(BASE)
        db.session.commit()
        refused_version, better_version = refused.version, better.version
        ev = better.evidence

    page = admin_client.get("/admin/models").get_data(as_text=True)
    assert "refused: not better than the base scorer" in page
    assert f"{ev['base_auc']:.3f} → {ev['site_auc']:.3f}" in page

    bad = admin_client.post(f"/admin/models/{refused_version}/activate", follow_redirects=True)
    assert "no better than the base scorer" in bad.get_data(as_text=True)
    good = admin_client.post(f"/admin/models/{better_version}/activate")
    assert good.status_code == 303
    with app.app_context():
        assert site_models.active().version == better_version

    admin_client.post("/admin/models/rollback")
    with app.app_context():
        assert site_models.active() is None


def test_the_policy_editor_marks_the_site_label_while_no_site_model_is_active(admin_client):
    page = admin_client.get("/admin/policy").get_data(as_text=True)
    assert page.count("no effect now") == 1
    assert "no site model is active: no effect now" in page


@pytest.mark.parametrize("app_config", [{"MODERATION_SCORER_OBJECT": EmbeddedScorer()}])
def test_labels_the_swear_word_model_does_not_produce_are_marked(admin_client, moderator):
    page = admin_client.get("/admin/policy").get_data(as_text=True)
    # Six of its seven base labels, and the site model's.
    assert page.count("not scored by alt-profanity-check: no effect now") == 6
    queue = admin_client.get("/queue/").get_data(as_text=True)
    # Only what it scores is offered: the rest would filter on nothing.
    assert '<option value="threat">' not in queue
    assert '<option value="toxicity">toxicity</option>' in queue


def test_with_a_scorer_that_uses_no_examples_the_proposal_page_says_so(admin_client):
    proposal_page = add(admin_client).headers["Location"]
    page = admin_client.get(proposal_page).get_data(as_text=True)
    assert "does not use example sentences" in page
    assert 'http-equiv="refresh"' not in page


def test_an_unknown_kind_is_refused(app, admin_client):
    assert add(admin_client, kind="zzz").status_code == 400
    shipped = next(e for e in shipped_examples() if e.label == "threat")
    removal = admin_client.post("/admin/examples/remove", data={
        "label": "threat", "kind": "zzz", "text": shipped.text})
    assert removal.status_code == 400
    with app.app_context():
        assert shipped in examples.active()


def test_an_example_added_twice_at_once_is_removed_in_one_go(app, admin_client):
    from moderation.models import SemanticExample, User

    with app.app_context():
        ada = db.session.execute(db.select(User)).scalar_one()
        for _ in range(2):  # what two racing proposals, both accepted, leave behind
            db.session.add(SemanticExample(label="threat", text=THREAT, harmful=True,
                                           origin="admin", status="active",
                                           created_by_id=ada.id))
        db.session.commit()
        assert Example("threat", THREAT, True) in examples.active()

    admin_client.post("/admin/examples/remove", data={
        "label": "threat", "kind": "harmful", "text": THREAT})

    with app.app_context():
        assert Example("threat", THREAT, True) not in examples.active()
