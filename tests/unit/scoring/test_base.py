"""The shared vocabulary: labels, identities, scored texts."""

from __future__ import annotations

import pytest

from moderation.scoring import (
    BASE_LABELS,
    LABELS,
    DetoxifyScorer,
    EmbeddedScorer,
    ScoredText,
    Scorer,
    ScorerError,
    ScorerIdentity,
    ScorerUnavailable,
)


def test_risk_is_the_highest_label_and_zero_without_labels():
    assert ScoredText(labels={"toxicity": 0.2, "insult": 0.7}).risk == 0.7
    assert ScoredText(labels={}).risk == 0.0


def test_an_identity_reads_as_name_and_version():
    identity = ScorerIdentity("detoxify-original", "sha256:0123456789ab")

    assert identity.label == "detoxify-original (sha256:0123456789ab)"


def test_both_scorers_satisfy_the_protocol_without_loading():
    for scorer in (DetoxifyScorer(), EmbeddedScorer()):
        assert isinstance(scorer, Scorer)
        assert not scorer.ready
    assert DetoxifyScorer("unbiased").identity == ScorerIdentity(
        "detoxify-unbiased", "toxic_debiased-c7548aa0"
    )


def test_unavailable_is_a_kind_of_scorer_error():
    assert issubclass(ScorerUnavailable, ScorerError)


def test_labels_are_detoxifys_standard_names_then_the_site_models():
    assert LABELS == (*BASE_LABELS, "site_reject")
    assert BASE_LABELS == (
        "toxicity",
        "severe_toxicity",
        "obscene",
        "threat",
        "insult",
        "identity_attack",
        "sexual_explicit",
    )


@pytest.mark.parametrize("bad", ["a single string", [None], ["ok", 3]])
def test_scoring_refuses_anything_but_a_sequence_of_strings(bad):
    with pytest.raises(TypeError):
        EmbeddedScorer().score(bad)
