"""Suggestions from decisions: where moderators almost always reject, and where they almost
always approve, per label, or a plain sentence saying why there is no suggestion."""

import numpy as np

from moderation.models import LABELS
from moderation.services.replay import History
from moderation.services.suggest import MIN_DECISIONS, suggest


def history(rows: list[tuple[float, int]], label: str = "toxicity") -> History:
    """(value, verdict) rows for one label; every other label is missing."""
    values = np.full((len(rows), len(LABELS)), np.nan)
    values[:, LABELS.index(label)] = [value for value, _ in rows]
    verdict = np.array([verdict for _, verdict in rows], dtype=np.int8)
    return History(values=values, verdict=verdict)


def by_label(suggestions):
    assert [item.label for item in suggestions] == list(LABELS)
    return {item.label: item for item in suggestions}


def test_a_clear_cut_point_gives_both_thresholds():
    # Approved at 0.00 .. 0.49 and rejected at 0.50 .. 0.99, one each, plus one approved at
    # 0.90 that slipped through and one rejected at 0.10 that looked harmless, and undecided
    # comments that must not count.
    rows = [(k / 100, 1) for k in range(50)] + [(k / 100, -1) for k in range(50, 100)]
    rows += [(0.90, 1), (0.10, -1)] + [(0.95, 0)] * 20
    found = by_label(suggest(history=history(rows)))["toxicity"]

    # Reject at t = k/100 (11 <= k <= 50): 50 rejected of 50 + (51 - k) at or above, so
    # 50 / (101 - k) >= 0.95 first holds at k = 49: 50 of 52.
    assert found.decisions == 102
    assert found.reject == 0.49
    assert (found.reject_support, found.reject_precision) == (52, 50 / 52)
    # Approve: under 0.10 are the ten approved 0.00 .. 0.09 (100%); from 0.11 the rejected
    # 0.10 is below too: 11 of 12, rising to at most 50 of 51 (98%), under 99%.
    assert found.approve == 0.10
    assert (found.approve_support, found.approve_precision) == (10, 1.0)
    assert found.reason is None


def test_an_approve_threshold_that_would_cross_the_reject_one_stays_below_it():
    # Perfectly separated: approving under 0.50 and rejecting from 0.48 both fit, but cross.
    rows = [(k / 100, 1) for k in range(10, 50)] + [(k / 100, -1) for k in range(50, 90)]
    found = by_label(suggest(history=history(rows)))["toxicity"]

    # 40 rejected of 42 at or above 0.48 (95.2%); 40 of 43 at 0.47 is under 95%. Everything
    # under 0.50 was approved; under 0.51 is 40 of 41. Kept below 0.48: 0.47, on the 37
    # comments from 0.10 to 0.46, all approved.
    assert found.reject == 0.48
    assert found.approve == 0.47 and found.approve_support == 37
    assert found.approve_precision == 1.0
    assert "0.50" in found.reason and "not below the reject threshold (0.48)" in found.reason


def test_too_few_decisions_are_refused_with_the_reason():
    rows = [(0.1, 1)] * 20 + [(0.9, -1)] * (MIN_DECISIONS - 21) + [(0.9, 0)] * 100
    found = by_label(suggest(history=history(rows)))

    toxicity = found["toxicity"]
    assert toxicity.decisions == 29
    assert toxicity.reject is None and toxicity.approve is None
    assert toxicity.reason == ("Only 29 decided comments have a toxicity score; suggestions "
                               "need at least 30.")
    assert found["threat"].reason == "No decided comment has a threat score yet."
    # Labels read as words, with the article they take.
    assert found["obscene"].reason == "No decided comment has an obscene score yet."
    assert found["insult"].reason == "No decided comment has an insult score yet."
    assert found["identity_attack"].reason == (
        "No decided comment has an identity-attack score yet.")


def test_no_rejections_means_no_line_to_learn():
    rows = [(k / 100, 1) for k in range(40)]
    toxicity = by_label(suggest(history=history(rows)))["toxicity"]
    assert toxicity.reject is None and toxicity.approve is None
    assert "rejected none of the 40 decided comments" in toxicity.reason


def test_a_precision_no_threshold_reaches_is_explained():
    # Moderators split evenly at every score: no threshold is 95% rejections.
    rows = [(k / 100, 1 if k % 2 else -1) for k in range(100)]
    toxicity = by_label(suggest(history=history(rows)))["toxicity"]
    assert toxicity.reject is None and toxicity.approve is None
    assert "95% moderator rejections" in toxicity.reason
    assert "99% moderator approvals" in toxicity.reason


def test_suggestions_read_the_database_when_given_no_history(ctx):
    found = suggest(window="all")
    assert len(found) == len(LABELS)
    assert all(item.reject is None and item.reason for item in found)


def test_filled_in_takes_what_is_suggested_and_keeps_the_rest():
    from moderation.services import policy as policies
    from moderation.services.suggest import LabelSuggestion, filled_in

    found = [
        LabelSuggestion("toxicity", 80, 0.48, 42, 0.95, 0.47, 37, 1.0, None),
        LabelSuggestion("insult", 80, 0.20, 40, 0.96, None, 0, None, "no approve threshold"),
        LabelSuggestion("threat", 0, None, 0, None, None, 0, None, "No decided comment ..."),
    ]
    filled = filled_in(policies.default_thresholds(), found)

    assert (filled["toxicity"]["approve"], filled["toxicity"]["reject"]) == (0.47, 0.48)
    # Reject from 0.20 with no approve suggestion: approve comes down from 0.30 to 0.19.
    assert (filled["insult"]["approve"], filled["insult"]["reject"]) == (0.19, 0.20)
    assert filled["threat"] == policies.default_thresholds()["threat"]
