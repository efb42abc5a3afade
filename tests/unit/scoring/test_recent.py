"""A worker remembers recent texts' scores: identical texts are scored once per scorer
version, and nothing stale is served when the version changes."""

from __future__ import annotations

import pytest

from moderation.scoring import ScorerIdentity
from moderation.scoring.recent import RecentScores
from tests.fakes import FakeScorer


def test_identical_texts_are_scored_once_and_come_back_in_order():
    scorer, recent = FakeScorer(), RecentScores(100)
    first = recent.score(scorer, ["spam [toxicity=0.5]", "fine", "spam [toxicity=0.5]"])
    again = recent.score(scorer, ["fine", "new [insult=0.7]", "spam [toxicity=0.5]"])

    assert scorer.calls == [["spam [toxicity=0.5]", "fine"], ["new [insult=0.7]"]]
    assert [r.labels["toxicity"] for r in first] == [0.5, 0.01, 0.5]
    assert again[1].labels["insult"] == 0.7 and again[2] is first[0]
    assert (recent.hits, recent.misses) == (3, 3)


def test_a_new_scorer_version_scores_again():
    scorer, recent = FakeScorer(), RecentScores(100)
    recent.score(scorer, ["same text"])
    scorer.identity = ScorerIdentity("fake", "2")  # new examples, heads or model
    recent.score(scorer, ["same text"])
    assert scorer.calls == [["same text"], ["same text"]]


def test_the_least_recently_used_text_is_forgotten_first():
    scorer, recent = FakeScorer(), RecentScores(2)
    recent.score(scorer, ["a", "b"])
    recent.score(scorer, ["a"])  # a is fresh again; b is the oldest
    recent.score(scorer, ["c"])  # b goes
    recent.score(scorer, ["a", "b"])
    assert scorer.calls[-1] == ["b"]


def test_size_zero_remembers_nothing_and_failures_are_not_remembered():
    scorer = FakeScorer()
    off = RecentScores(0)
    off.score(scorer, ["x", "x"])
    assert scorer.calls == [["x", "x"]]

    recent = RecentScores(10)
    scorer.fail_all = True
    with pytest.raises(Exception, match="told to fail"):
        recent.score(scorer, ["y"])
    scorer.fail_all = False
    assert recent.score(scorer, ["y"])[0].labels["toxicity"] == 0.01
    assert scorer.calls[-1] == ["y"]
