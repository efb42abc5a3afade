"""Site models: trained on older decisions, proven on the newest, activated only when they beat
the base scorer, applied by the worker, rolled back. The base scores here are built directly
(a fake base scorer): what is under test is the training, the gate and the plumbing."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.extensions import db
from moderation.models import (
    SITE_LABEL,
    Comment,
    CommentState,
    Policy,
    Role,
    Score,
    SiteModel,
    utcnow,
)
from moderation.services import policy as policies
from moderation.services import site_models
from moderation.services.site_evidence import TrainingError, pack_embedding
from moderation.worker import Worker
from tests.factories import make_article, make_comment, make_user

BASE = "fake"


def decided_comments(count: int, *, informative: str, seed: int = 1,
                     embeddings: bool = False) -> None:
    """`count` decided comments scored by the fake base scorer. Toxicity is noise that
    dominates the base risk; `informative` says which signal tells the rejected ones apart:
    "insult" (a label the risk cannot see under the noise), "toxicity" (the base risk itself
    separates them perfectly) or "embedding"."""
    rng = np.random.default_rng(seed)
    article = make_article()
    for n in range(count):
        rejected = n % 3 == 0
        toxicity = rng.uniform(0.4, 0.85)
        insult = rng.uniform(0.0, 0.1)
        if informative == "insult":
            insult = rng.uniform(0.15, 0.25) if rejected else rng.uniform(0.0, 0.12)
        elif informative == "toxicity":
            toxicity = rng.uniform(0.8, 0.85) if rejected else rng.uniform(0.4, 0.5)
        vector = None
        if embeddings:
            vector = rng.normal(size=16).astype(np.float32)
            if informative == "embedding":
                vector[0] += 3.0 if rejected else -3.0
            vector /= np.linalg.norm(vector)
        verdict = "rejected" if rejected else "approved"
        comment = make_comment(article, f"decided comment {n}", verdict=verdict,
                               state=CommentState(verdict), scorer_name=BASE,
                               scorer_version="1", scored_at=utcnow())
        db.session.add(Score(comment_id=comment.id, scorer_name=BASE, scorer_version="1",
                             scored_at=utcnow(), toxicity=toxicity, insult=insult,
                             embedding=pack_embedding(vector)))
    db.session.flush()


def test_a_model_that_sees_what_the_base_risk_misses_beats_it_on_held_out_decisions(ctx):
    decided_comments(240, informative="insult")
    admin = make_user("ada", role=Role.ADMIN)

    model = site_models.train(BASE, actor=admin, note="first try")

    ev = model.evidence
    assert (ev["trained_on"], ev["held_out"]) == (192, 48)
    assert ev["site_auc"] > ev["base_auc"] + 0.2
    # Measured on what the policy will use: the risk the queue sorts by, and what moderators
    # approved that the bands would hold back.
    assert ev["deployed_auc"] > ev["base_auc"] + 0.2
    for report in (ev["base_at_thresholds"], ev["site_at_thresholds"]):
        assert 0.0 <= report["approved_held_back"] <= 1.0
    assert model.beats_base and not model.active
    assert model.head["labels"] == ["toxicity", "insult"]  # labels the fake never gave: out


def test_a_model_that_cannot_beat_the_base_is_kept_but_never_activated(ctx):
    decided_comments(150, informative="toxicity")

    model = site_models.train(BASE)

    assert model.evidence["base_auc"] == 1.0
    assert not model.beats_base
    with pytest.raises(TrainingError, match="no better than the base scorer"):
        site_models.activate(model.version, actor=None, base_scorer=BASE)
    assert site_models.active() is None


def test_too_few_decisions_get_a_clear_refusal_and_nothing_is_stored(ctx):
    decided_comments(30, informative="insult")

    with pytest.raises(TrainingError, match="at least 50 decided comments scored by fake"):
        site_models.train(BASE)
    assert db.session.execute(db.select(db.func.count(SiteModel.id))).scalar_one() == 0


def test_the_embedding_carries_what_the_labels_do_not(ctx):
    decided_comments(200, informative="embedding", embeddings=True)

    model = site_models.train(BASE)

    assert model.head["embedding"] is True
    assert model.beats_base
    assert model.evidence["site_auc"] > 0.9


def test_a_model_trained_on_another_scorer_is_not_activated(ctx):
    decided_comments(150, informative="insult")
    model = site_models.train(BASE)

    with pytest.raises(TrainingError, match="trained on fake scores, but comments are scored "
                                            "by composite"):
        site_models.activate(model.version, actor=None, base_scorer="composite")


def test_the_worker_adds_the_site_label_and_records_the_stack_then_rollback_stops_it(app):
    with app.app_context():
        decided_comments(240, informative="insult")
        admin = make_user("ada", role=Role.ADMIN)
        model = site_models.train(BASE, actor=admin)
        site_models.activate(model.version, actor=admin, base_scorer=BASE)
        article = make_article()
        risky = make_comment(article, "a quiet insult [toxicity=0.2][insult=0.24]")
        db.session.commit()
        risky_id, version = risky.id, model.version
        policy = policies.active_policy()
        # The migrated policy had no rule for the site label: activation added one, on record.
        assert policy.version == 2 and policy.thresholds[SITE_LABEL]["enabled"]
        assert "site model v1 activated" in policy.note

    Worker(app).run_once()

    with app.app_context():
        comment = db.session.get(Comment, risky_id)
        score = comment.current_score
        assert score.site_model.version == version
        assert score.site_reject > policies.active_policy().thresholds[SITE_LABEL]["approve"]
        # Under the base scores alone it would be approved (every label under its threshold).
        version_1 = db.session.execute(db.select(Policy).where(Policy.version == 1)).scalar_one()
        assert policies.band({"toxicity": 0.2, "insult": 0.24}, version_1).value == "approve"
        assert comment.state is not CommentState.APPROVED

        site_models.rollback(actor=None)
        later = make_comment(make_article(), "another one [toxicity=0.2][insult=0.24]")
        db.session.commit()
        later_id = later.id

    Worker(app).run_once()

    with app.app_context():
        score = db.session.get(Comment, later_id).current_score
        assert score.site_model is None and score.site_reject is None
        assert site_models.active() is None


@pytest.mark.parametrize("app_config", [{"MODERATION_SITE_MODEL_RETRAIN_EVERY": 100,
                                          "MODERATION_SITE_MODEL_CHECK_SECONDS": 0}])
def test_the_worker_retrains_after_enough_new_decisions_and_activates_a_better_model(app):
    with app.app_context():
        decided_comments(90, informative="insult")
        db.session.commit()
    worker = Worker(app)

    worker.retrain_if_due()  # 90 new decisions: not yet
    with app.app_context():
        assert site_models.models() == []
        decided_comments(150, informative="insult", seed=5)
        db.session.commit()

    worker.retrain_if_due()
    with app.app_context():
        [model] = site_models.models()
        assert model.trained_by is None and model.decisions_seen == 240
        assert model.active and model.beats_base

    worker.retrain_if_due()  # nothing new since: no second model
    with app.app_context():
        assert len(site_models.models()) == 1


def test_rollback_walks_back_without_cycles_and_ends_with_no_site_model(ctx):
    decided_comments(240, informative="insult")
    first = site_models.train(BASE)
    second = site_models.train(BASE)
    for version in (first.version, second.version, first.version):
        site_models.activate(version, actor=None, base_scorer=BASE)

    walked = []
    while site_models.active() is not None:
        back = site_models.rollback(actor=None)
        walked.append(back.version if back else None)

    assert walked == [second.version, None]  # v1 was the one rolled back: never revisited
    with pytest.raises(TrainingError, match="nothing to roll back"):
        site_models.rollback(actor=None)


def test_activation_turns_on_a_site_rule_an_earlier_save_left_off(ctx):
    from moderation.services import policy_versions

    decided_comments(240, informative="insult")
    admin = make_user("ada", role=Role.ADMIN)
    thresholds = policies.default_thresholds()
    thresholds[SITE_LABEL]["enabled"] = False
    thresholds["toxicity"]["reject"] = 0.95
    policy_versions.save(thresholds, "hold", note="before site models", actor=admin)
    model = site_models.train(BASE)

    site_models.activate(model.version, actor=admin, base_scorer=BASE)

    policy = policies.active_policy()
    assert policy.version == 3 and policy.thresholds[SITE_LABEL]["enabled"]
    assert policy.thresholds["toxicity"]["reject"] == 0.95  # the rest as the admin left it


def test_a_rolled_back_models_stored_scores_no_longer_count():
    assert policies.counted_labels({"toxicity": 0.1, SITE_LABEL: 0.9}, 7, None) == {
        "toxicity": 0.1}
    assert policies.counted_labels({"toxicity": 0.1, SITE_LABEL: 0.9}, 7, 8) == {
        "toxicity": 0.1}
    assert policies.counted_labels({"toxicity": 0.1, SITE_LABEL: 0.9}, 7, 7) == {
        "toxicity": 0.1, SITE_LABEL: 0.9}


def test_the_worker_keeps_scoring_when_examples_or_the_site_model_fail(app, monkeypatch):
    from moderation import worker as worker_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(worker_module.examples, "sync", broken)
    monkeypatch.setattr(worker_module.site_models, "finish_by_id", broken)
    with app.app_context():
        comment = make_comment(make_article(), "a calm remark")
        db.session.commit()
        comment_id = comment.id
    worker = Worker(app)

    assert worker.run_once() == 1

    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.state is CommentState.APPROVED and comment.current_score is not None
    assert "site model not applied: RuntimeError: boom" == worker.last_error


def test_training_from_the_command_line_never_activates_and_activation_is_its_own_step(app):
    with app.app_context():
        decided_comments(240, informative="insult")
        db.session.commit()
    runner = app.test_cli_runner()

    trained = runner.invoke(args=["model", "train"])
    assert trained.exit_code == 0, trained.output
    assert "approved ones held back" in trained.output
    assert "ROC-AUC of the risk the queue would sort by with it" in trained.output
    assert "Not activated. To use it: flask --app wsgi model activate 1" in trained.output
    with app.app_context():
        assert site_models.active() is None
        assert db.session.execute(db.select(db.func.count(Policy.id))).scalar_one() <= 1

    activated = runner.invoke(args=["model", "activate", "1"])
    assert activated.exit_code == 0, activated.output
    with app.app_context():
        assert site_models.active().version == 1


def _model_with(before: dict, after: dict) -> SiteModel:
    return SiteModel(version=3, base_scorer=BASE, head={}, beats_base=True, active=False,
                     evidence={"site_auc": 0.9, "base_auc": 0.8, "deployed_auc": 0.9,
                               "base_at_thresholds": before, "site_at_thresholds": after})


def test_a_model_that_queues_more_without_a_more_precise_reject_band_is_refused():
    more_work = _model_with({"queued_share": 0.649, "precision": 0.8, "recall": 0.5},
                            {"queued_share": 0.83, "precision": 0.8, "recall": 0.5})
    why = site_models.can_activate(more_work, BASE)
    assert why == ("Site model v3 would queue 83.0% of the held-out comments instead of 64.9% "
                   "without a more precise reject band; it cannot be activated.")

    sharper = _model_with({"queued_share": 0.5, "precision": 0.6},
                          {"queued_share": 0.55, "precision": 0.75})
    less_work = _model_with({"queued_share": 0.5, "precision": 0.6},
                            {"queued_share": 0.3, "precision": 0.6})
    assert site_models.can_activate(sharper, BASE) is None
    assert site_models.can_activate(less_work, BASE) is None

    older = _model_with({"queued_share": 0.5, "precision": 0.6},
                        {"queued_share": 0.3, "precision": 0.6})
    del older.evidence["deployed_auc"]  # trained before the site label replaced thresholds
    assert "measured under the earlier banding rule" in site_models.can_activate(older, BASE)
