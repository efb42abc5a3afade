"""The embedded alt-profanity-check model, on hand-picked sentences and on real tweets."""

from __future__ import annotations

import csv
from importlib import metadata

import pytest

from moderation.scoring import EmbeddedScorer, Scorer

from .conftest import REPO_ROOT

OLID = REPO_ROOT / ".." / "shared" / "data" / "olid" / "olid-training-v1.0.tsv"
TOXIC = ["You are a worthless idiot and everyone hates you", "shut the fuck up you moron"]
CLEAN = [
    "Thanks for the thoughtful article, I learned a lot",
    "The council meeting is on Tuesday at 7pm",
]


@pytest.fixture(scope="module")
def embedded() -> EmbeddedScorer:
    scorer = EmbeddedScorer()
    scorer.load()
    return scorer


def test_insults_score_higher_than_ordinary_comments(embedded):
    toxic, clean = embedded.score(TOXIC), embedded.score(CLEAN)

    assert min(s.risk for s in toxic) > max(s.risk for s in clean)


def test_it_reports_only_the_toxicity_label_it_really_has(embedded):
    for scored in embedded.score(TOXIC + CLEAN + [""]):
        assert set(scored.labels) == {"toxicity"}
        assert isinstance(scored.labels["toxicity"], float)
        assert 0.0 <= scored.risk <= 1.0
        assert scored.windows == 1 and scored.top_window is None


def test_an_empty_list_gives_an_empty_list():
    assert EmbeddedScorer().score([]) == []


def test_it_loads_lazily_and_names_its_package_version():
    scorer = EmbeddedScorer()
    assert isinstance(scorer, Scorer)
    assert not scorer.ready
    assert scorer.identity.name == "alt-profanity-check"
    assert scorer.identity.version == metadata.version("alt-profanity-check")

    scorer.score(["hello"])

    assert scorer.ready


def test_small_batches_give_the_same_numbers_in_the_same_order(embedded):
    texts = TOXIC + CLEAN + ["a hell of a lot better", "ok"]
    in_threes = EmbeddedScorer(batch_size=3).score(texts)

    assert [s.labels for s in in_threes] == [s.labels for s in embedded.score(texts)]


def _roc_auc(scores: list[float], positives: list[bool]) -> float:
    """Mann-Whitney U with average ranks for ties."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    n_pos = sum(positives)
    n_neg = len(positives) - n_pos
    rank_sum = sum(rank for rank, positive in zip(ranks, positives, strict=True) if positive)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def test_the_auc_helper_agrees_with_scikit_learn():
    from sklearn.metrics import roc_auc_score

    scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.2]
    labels = [False, True, False, True, False, True]
    assert _roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))


def test_it_separates_offensive_tweets_in_olid(embedded):
    if not OLID.is_file():
        pytest.skip(f"OLID training data not found at {OLID.resolve()}")
    with OLID.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) > 10_000

    scored = embedded.score([row["tweet"] for row in rows])
    auc = _roc_auc(
        [s.labels["toxicity"] for s in scored], [row["subtask_a"] == "OFF" for row in rows]
    )

    assert auc >= 0.75


def test_the_direct_computation_gives_the_packages_own_probabilities():
    """The model is computed without scikit-learn's per-call validation (a small batch's
    main cost), only because it equals the package's predict_prob."""
    import numpy as np
    from profanity_check import predict_prob

    from moderation.scoring import embedded

    direct = embedded._direct(predict_prob)
    texts = ["You absolute moron", "Great reporting, thank you", "damn good game",
             "go to hell", "🙂", "a" * 5000, "The vote is on Thursday."] * 3
    assert direct is not None
    assert np.abs(direct(texts) - predict_prob(texts)).max() < 1e-9
    scorer = EmbeddedScorer()
    assert [s.labels["toxicity"] for s in scorer.score(texts)] == pytest.approx(
        list(predict_prob(texts)), abs=1e-9)


def test_a_model_of_another_layout_falls_back_to_the_packages_function(monkeypatch):
    from profanity_check import profanity_check as package

    from moderation.scoring import embedded

    monkeypatch.setattr(package, "model", object())  # no calibrated folds to read
    assert embedded._direct(package.predict_prob) is None
