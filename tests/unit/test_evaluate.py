"""The evaluation's numbers, checked by hand on sets small enough to count on fingers."""

import pytest

from moderation.models import Band, Policy
from moderation.scoring import ScorerIdentity
from moderation.services import evaluate
from moderation.services.policy import default_thresholds

A, Q, R = Band.APPROVE, Band.QUEUE, Band.REJECT


def test_ranking_counts_ordered_pairs_and_precision_at_each_positive():
    # Positives at 0.9 and 0.3, negatives at 0.8 and 0.2: 3 of 4 pairs in order.
    # Average precision: recall 1/2 at precision 1, then 1/2 more at precision 2/3.
    found = evaluate.ranking([0.9, 0.8, 0.3, 0.2], [True, False, True, False])

    assert found.roc_auc == pytest.approx(0.75)
    assert found.average_precision == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert found.reason is None


@pytest.mark.parametrize("positives, says", [([True, True], "all 2 rows are positive"),
                                             ([False, False], "none of the 2 rows")])
def test_one_class_gives_no_numbers_and_says_why(positives, says):
    found = evaluate.ranking([0.1, 0.9], positives)

    assert found.roc_auc is None and found.average_precision is None
    assert "only one class" in found.reason and says in found.reason


def test_labels_the_scorer_never_produces_are_not_invented():
    scored = [{"toxicity": 0.9}, {"toxicity": 0.1, "insult": 0.8}]

    found = evaluate.label_rankings(scored, [True, False])

    assert found["toxicity"].roc_auc == 1.0
    assert found["insult"].roc_auc == 0.0  # absent from the first text: 0 there, as in policy
    assert found["threat"].reason == "the scorer does not produce this label"
    assert set(found) == set(evaluate.LABELS)


def test_the_reject_band_as_a_classifier():
    bands = [R, R, Q, A, A, Q]
    positives = [True, False, True, True, False, False]

    report = evaluate.band_report(bands, positives)

    assert (report.true_positives, report.false_positives,
            report.false_negatives, report.true_negatives) == (1, 1, 2, 2)
    assert report.precision == pytest.approx(1 / 2)
    assert report.recall == pytest.approx(1 / 3)
    assert report.f1 == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))  # 0.4
    assert (report.queued, report.queue_share) == (2, pytest.approx(1 / 3))
    assert (report.approved, report.approved_positives) == (2, 1)


def test_an_empty_reject_band_has_no_precision():
    report = evaluate.band_report([A, Q], [True, False])

    assert report.precision is None and report.recall == 0.0 and report.f1 is None


def test_the_whole_evaluation_bands_under_the_policy_it_is_given():
    policy = Policy(version=7, thresholds=default_thresholds(), reject_action="hold")
    rows = evaluate.LabelledRows(texts=["a", "b", "c", "d"],
                                 positives=[True, True, False, False], skipped=1,
                                 labels_seen=["OFF", "NOT"])
    scored = [{"toxicity": 0.95}, {"toxicity": 0.5}, {"toxicity": 0.92}, {"toxicity": 0.01}]

    result = evaluate.evaluate(rows, scored, positive="OFF",
                               identity=ScorerIdentity("fake", "1"), policy=policy)
    as_dict = result.as_dict()

    assert result.risk.roc_auc == pytest.approx(0.75)
    assert (result.bands.true_positives, result.bands.false_positives) == (1, 1)
    assert (result.bands.queued, result.bands.approved_positives) == (1, 0)
    assert as_dict["policy"]["version"] == 7 and as_dict["skipped"] == 1
    assert as_dict["labels"]["insult"]["roc_auc"] is None
