"""Bands: approve when every label is under its approve threshold, hold when any label
reaches its reject threshold, queue the rest."""

import pytest

from moderation.models import SITE_LABEL, Band, CommentState, Policy
from moderation.services import policy as policies


def make_policy(reject_action="hold", **overrides) -> Policy:
    thresholds = policies.default_thresholds()
    for label, rule in overrides.items():
        thresholds[label].update(rule)
    return Policy(version=1, thresholds=thresholds, reject_action=reject_action, active=True)


def test_a_clean_comment_is_approved():
    policy = make_policy()
    labels = {"toxicity": 0.02, "insult": 0.01, "threat": 0.0}
    assert policies.band(labels, policy) is Band.APPROVE
    assert policies.state_for(Band.APPROVE, policy) is CommentState.APPROVED


def test_one_label_at_its_reject_threshold_holds_the_comment():
    policy = make_policy()
    labels = {"toxicity": 0.05, "threat": 0.60}  # threat rejects at 0.60 by default
    assert policies.band(labels, policy) is Band.REJECT
    assert policies.state_for(Band.REJECT, policy) is CommentState.HELD


def test_just_under_reject_but_over_approve_is_queued():
    policy = make_policy()
    assert policies.band({"toxicity": 0.8999}, policy) is Band.QUEUE
    assert policies.band({"toxicity": 0.30}, policy) is Band.QUEUE  # approve is "below"
    assert policies.band({"toxicity": 0.2999}, policy) is Band.APPROVE


def test_auto_reject_policy_rejects_instead_of_holding():
    policy = make_policy(reject_action="reject")
    assert policies.state_for(Band.REJECT, policy) is CommentState.REJECTED


def test_disabled_labels_are_ignored_for_band_and_risk():
    policy = make_policy(threat={"enabled": False})
    labels = {"toxicity": 0.1, "threat": 0.99}
    assert policies.band(labels, policy) is Band.APPROVE
    assert policies.risk(labels, policy) == pytest.approx(0.1)


def test_risk_is_the_highest_label():
    policy = make_policy()
    assert policies.risk({"toxicity": 0.2, "insult": 0.7, "obscene": 0.4}, policy) == 0.7


def test_missing_labels_are_not_invented():
    # The embedded model only gives toxicity: the other labels neither approve nor reject.
    policy = make_policy()
    assert policies.band({"toxicity": 0.5}, policy) is Band.QUEUE
    assert policies.risk({"toxicity": 0.5}, policy) == 0.5


def test_premoderated_articles_queue_even_clean_comments():
    policy = make_policy()
    assert policies.state_for(Band.APPROVE, policy, premoderate=True) is CommentState.QUEUED
    assert policies.state_for(Band.REJECT, policy, premoderate=True) is CommentState.HELD


def test_default_thresholds_are_ordered():
    for label, rule in policies.default_thresholds().items():
        assert 0 <= rule["approve"] < rule["reject"] <= 1, label


def test_a_migrated_database_starts_with_the_default_policy_active(ctx):
    from moderation.extensions import db

    policies_in_db = db.session.execute(db.select(Policy)).scalars().all()
    assert [(p.version, p.active, p.reject_action) for p in policies_in_db] == [(1, True, "hold")]
    # Seeded before site models existed: every label but theirs, which stays off.
    expected = policies.default_thresholds()
    del expected[SITE_LABEL]
    assert policies_in_db[0].thresholds == expected


def _with_site(**site_rule) -> Policy:
    return make_policy(site_reject={"enabled": True, **site_rule})


def test_an_active_site_model_lowers_risk_where_the_sites_moderators_approve():
    policy = _with_site()
    labels = {"toxicity": 0.55, "insult": 0.4, SITE_LABEL: 0.05}  # base alone would queue
    assert policies.band({k: v for k, v in labels.items() if k != SITE_LABEL},
                         policy) is Band.QUEUE
    assert policies.band(labels, policy) is Band.APPROVE
    assert policies.risk(labels, policy) == pytest.approx(0.05)


def test_an_active_site_model_raises_risk_where_the_sites_moderators_reject():
    policy = _with_site()
    labels = {"toxicity": 0.05, "insult": 0.02, SITE_LABEL: 0.6}  # base alone would approve
    assert policies.band(labels, policy) is Band.QUEUE
    assert policies.risk(labels, policy) == pytest.approx(0.6)


def test_the_base_reject_thresholds_still_hold_whatever_the_site_model_says():
    policy = _with_site()
    labels = {"threat": 0.75, SITE_LABEL: 0.01}
    assert policies.band(labels, policy) is Band.REJECT
    assert policies.risk(labels, policy) == pytest.approx(0.75)


def test_the_vectorised_twins_agree_with_band_and_risk_with_and_without_the_site_label():
    import numpy as np

    from moderation.models import LABELS

    rng = np.random.default_rng(7)
    rows = rng.random((400, len(LABELS))) ** 3
    rows[::3, LABELS.index(SITE_LABEL)] = np.nan  # comments scored before the model
    for policy in (make_policy(), _with_site(), _with_site(approve=0.5)):
        codes = policies.band_codes(rows, policy)
        risks = policies.risk_values(rows, policy)
        for row, code, value in zip(rows, codes, risks, strict=True):
            labels = {label: float(v) for label, v in zip(LABELS, row, strict=True)
                      if not np.isnan(v)}
            assert policies.BAND_CODES[code] is policies.band(labels, policy)
            assert value == pytest.approx(policies.risk(labels, policy))
