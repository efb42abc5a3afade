"""What-if replay: an admin proposes thresholds and sees, on real history, how the bands would
change and how well each policy agrees with what moderators decided."""

from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from moderation.extensions import db
from moderation.models import LABELS, Band, CommentState, Score, utcnow
from moderation.services import policy as policies
from moderation.services.replay import WINDOWS, History, load_history, replay
from tests.factories import make_article, make_comment

STATES = {"approved": CommentState.APPROVED, "rejected": CommentState.REJECTED,
          None: CommentState.QUEUED}


def toxicity_only(approve: float, reject: float, reject_action: str = "hold"):
    """A policy that looks at toxicity alone: every other label is off."""
    thresholds = policies.default_thresholds()
    for label, rule in thresholds.items():
        rule["enabled"] = label == "toxicity"
    thresholds["toxicity"].update(approve=approve, reject=reject)
    return SimpleNamespace(thresholds=thresholds, reject_action=reject_action)


def scored(article, labels: dict, verdict: str | None = None, *, days_ago: float = 1,
           version: str = "1"):
    created_at = utcnow() - timedelta(days=days_ago)
    comment = make_comment(article, state=STATES[verdict], verdict=verdict,
                           created_at=created_at, scored_at=created_at, scorer_name="fake",
                           scorer_version=version)
    score = Score(comment_id=comment.id, scorer_name="fake", scorer_version=version)
    score.set_labels(labels)
    db.session.add(score)
    return comment


@pytest.fixture
def twelve(ctx):
    """Twelve scored comments (toxicity, moderator's verdict), numbered as in the comments of
    the test below, plus two that replay must ignore."""
    article = make_article()
    rows = [
        (0.05, "approved"), (0.10, None), (0.25, "approved"), (0.35, "approved"),
        (0.50, None), (0.65, "rejected"), (0.75, "rejected"), (0.80, "approved"),
        (0.85, None), (0.92, "rejected"), (0.95, "rejected"),
    ]
    for number, (toxicity, verdict) in enumerate(rows, start=1):
        labels = {"toxicity": toxicity}
        if number == 1:
            labels["insult"] = 0.99  # insult is off in both policies: no effect
        comment = scored(article, labels, verdict)
        if number == 1:
            # An older model's score for the same comment: not the current one, not replayed.
            old = Score(comment_id=comment.id, scorer_name="fake", scorer_version="0")
            old.set_labels({"toxicity": 0.99})
            db.session.add(old)
    # 12: no toxicity from the model, a threat score the policies do not look at; vacuously
    # under every enabled threshold, so approved, though a moderator rejected it.
    scored(article, {"threat": 0.99}, "rejected")
    make_comment(article, "never scored", state=CommentState.QUEUED)
    db.session.commit()


def test_replay_counts_bands_and_agreement_against_hand_computed_numbers(twelve):
    current = toxicity_only(approve=0.30, reject=0.90)
    proposed = toxicity_only(approve=0.20, reject=0.70)

    result = replay(proposed, current, window="30d")

    # Now (approve < 0.30, reject >= 0.90): approve 1,2,3,12; queue 4-9; reject 10,11.
    # Proposed (approve < 0.20, reject >= 0.70): approve 1,2,12; queue 3-6; reject 7-11.
    assert result.total == 12
    assert (result.now.approve, result.now.queue, result.now.reject) == (4, 6, 2)
    assert (result.proposed.approve, result.proposed.queue, result.proposed.reject) == (3, 4, 5)
    assert result.now.total == result.proposed.total == 12

    # Moderators approved 1,3,4,8 and rejected 6,7,10,11,12: 9 decided.
    now = result.agreement_now
    assert (now.decided, now.mod_approved, now.mod_rejected) == (9, 4, 5)
    # Decided in the reject band now: 10, 11, both rejected. Recall 2 of 5. 12 approved.
    assert (now.auto_rejected, now.correct_rejects, now.wrongly_approved) == (2, 2, 1)
    assert now.precision == 1.0
    assert now.recall == pytest.approx(0.4)
    # Proposed: decided in the reject band are 7, 8, 10, 11 (9 is undecided); 8 was approved.
    proposed_agreement = result.agreement_proposed
    assert (proposed_agreement.auto_rejected, proposed_agreement.correct_rejects) == (4, 3)
    assert proposed_agreement.precision == pytest.approx(0.75)
    assert proposed_agreement.recall == pytest.approx(0.6)
    assert proposed_agreement.wrongly_approved == 1

    # Queued now: 4-9 (6). The proposal moves 7, 8, 9 to reject: half the queue leaves it.
    assert result.queue_removed == pytest.approx(0.5)
    assert result.moved == {
        "approve": {"approve": 3, "queue": 1, "reject": 0},  # 3 moves to the queue
        "queue": {"approve": 0, "queue": 3, "reject": 3},
        "reject": {"approve": 0, "queue": 0, "reject": 2},
    }
    assert result.window == "30d" and result.seconds >= 0


def test_histograms_sort_each_label_by_the_moderators_call(twelve):
    result = replay(toxicity_only(0.2, 0.7), toxicity_only(0.3, 0.9))

    toxicity = result.histograms["toxicity"]
    assert len(toxicity.edges) == 51 and toxicity.edges[0] == 0 and toxicity.edges[-1] == 1
    assert len(toxicity.approved) == len(toxicity.rejected) == len(toxicity.undecided) == 50
    # Eleven comments have a toxicity score: 4 approved, 4 rejected (6, 7, 10, 11), 3 not.
    assert (sum(toxicity.approved), sum(toxicity.rejected), sum(toxicity.undecided)) == (4, 4, 3)
    assert toxicity.approved[2] == 1  # 0.05 lies in [0.04, 0.06)
    assert toxicity.rejected[47] == 1  # 0.95 lies in [0.94, 0.96)
    assert sum(result.histograms["threat"].rejected) == 1  # histograms include labels that are off
    assert set(result.histograms) == set(LABELS)


def test_the_window_keeps_old_comments_out_unless_all_is_asked_for(ctx):
    article = make_article()
    scored(article, {"toxicity": 0.1}, "approved", days_ago=3)
    scored(article, {"toxicity": 0.5}, days_ago=10)
    scored(article, {"toxicity": 0.9}, "rejected", days_ago=40)
    db.session.commit()

    assert [len(load_history(window)) for window in WINDOWS] == [1, 2, 3]
    everything = load_history("all")
    assert sorted(everything.values[:, 0].tolist()) == [0.1, 0.5, 0.9]
    assert sorted(everything.verdict.tolist()) == [-1, 0, 1]
    assert np.isnan(everything.values[:, 1:]).all()  # labels the model did not produce
    with pytest.raises(ValueError, match="unknown window"):
        load_history("90d")


def test_replay_of_nothing_has_no_ratios():
    policy = toxicity_only(0.3, 0.9)
    result = replay(policy, policy, window="all", history=History.empty())
    assert result.total == 0 and result.queue_removed is None
    assert result.agreement_now.precision is None and result.agreement_now.recall is None
    assert sum(result.histograms["toxicity"].undecided) == 0


def test_vectorized_bands_and_risk_match_band_and_risk_row_by_row():
    rng = np.random.default_rng(7)
    # Values on the 0.01 grid so many land exactly on a threshold; a fifth are missing.
    values = np.round(rng.random((2000, len(LABELS))), 2)
    values[rng.random(values.shape) < 0.2] = np.nan
    values[:50] = np.nan  # comments with no label at all
    for trial in range(6):
        thresholds = {}
        for label in LABELS:
            approve, reject = sorted(np.round(rng.random(2), 2).tolist())
            thresholds[label] = {"enabled": bool(rng.random() < 0.75), "approve": approve,
                                 "reject": reject}
        if trial == 1:
            del thresholds["obscene"]  # a label the policy never mentions counts as off
        if trial == 2:
            thresholds = {label: dict(rule, enabled=False) for label, rule in thresholds.items()}
        policy = SimpleNamespace(thresholds=thresholds, reject_action="hold")

        codes = policies.band_codes(values, policy)
        risks = policies.risk_values(values, policy)

        assert codes.dtype == np.int8
        for row, code, risk in zip(values, codes, risks, strict=True):
            labels = {label: float(value) for label, value in zip(LABELS, row, strict=True)
                      if not np.isnan(value)}
            assert policies.BAND_CODES[code] is policies.band(labels, policy)
            assert risk == policies.risk(labels, policy)


def test_a_nan_score_counts_as_missing_in_both_band_and_band_codes():
    policy = SimpleNamespace(thresholds=policies.default_thresholds(), reject_action="hold")
    labels = {"toxicity": float("nan"), "insult": 0.5}
    row = np.array([[labels.get(label, np.nan) for label in LABELS]])

    assert policies.band(labels, policy) is Band.QUEUE  # from insult alone
    assert policies.BAND_CODES[policies.band_codes(row, policy)[0]] is Band.QUEUE
    assert policies.risk(labels, policy) == 0.5 == policies.risk_values(row, policy)[0]
    assert policies.band({"toxicity": float("nan")}, policy) is Band.APPROVE


def test_examples_show_moves_a_moderator_disagreed_with_first():
    # Toxicity 0.81..0.89 move into the reject band when it opens at 0.80; the 0.86 one was
    # approved by a moderator (the cost of the change) and leads, then four spread evenly.
    scores = [0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.10]
    values = np.full((len(scores), len(LABELS)), np.nan)
    values[:, 0] = scores
    verdict = np.zeros(len(scores), dtype=np.int8)
    verdict[5] = 1
    ids = np.arange(101, 101 + len(scores))
    history = History(values=values, verdict=verdict, ids=ids)
    current = SimpleNamespace(thresholds=policies.default_thresholds(), reject_action="hold")
    stricter = policies.default_thresholds()
    stricter["toxicity"]["reject"] = 0.80
    proposed = SimpleNamespace(thresholds=stricter, reject_action="hold")

    result = replay(proposed, current, window="all", history=history)

    assert result.examples["into_reject"] == [106, 101, 103, 105, 109]
    assert result.examples["into_approve"] == []


def test_examples_leave_room_for_moves_moderators_agreed_with():
    scores = [0.81 + index / 100 for index in range(9)]
    values = np.full((len(scores), len(LABELS)), np.nan)
    values[:, 0] = scores
    verdict = np.array([1, 1, 1, 1, 1, 1, -1, -1, 0], dtype=np.int8)
    history = History(values=values, verdict=verdict, ids=np.arange(1, 10))
    current = SimpleNamespace(thresholds=policies.default_thresholds(), reject_action="hold")
    stricter = policies.default_thresholds()
    stricter["toxicity"]["reject"] = 0.80
    proposed = SimpleNamespace(thresholds=stricter, reject_action="hold")

    chosen = replay(proposed, current, window="all", history=history).examples["into_reject"]

    # Three of the six moderator-approved ones, spread (ids 1, 3, 6), then two of the rest:
    # ids 2, 4, 5, 7, 8, 9 spread over two picks: the first and the last.
    assert chosen == [1, 3, 6, 2, 9]


def test_comments_newly_queued_are_listed_too_unneeded_reviews_first():
    # Default toxicity approve-below is 0.30; raising nothing but lowering it to 0.10 queues
    # 0.15 .. 0.25. The 0.20 one a moderator approved anyway: a review nobody needed, first.
    scores = [0.15, 0.18, 0.20, 0.22, 0.25, 0.05]
    values = np.full((len(scores), len(LABELS)), np.nan)
    values[:, 0] = scores
    verdict = np.array([0, 0, 1, 0, 0, 0], dtype=np.int8)
    history = History(values=values, verdict=verdict, ids=np.arange(1, 7))
    current = SimpleNamespace(thresholds=policies.default_thresholds(), reject_action="hold")
    stricter = policies.default_thresholds()
    stricter["toxicity"]["approve"] = 0.10
    proposed = SimpleNamespace(thresholds=stricter, reject_action="hold")

    result = replay(proposed, current, window="all", history=history)

    assert result.examples["into_queue"] == [3, 1, 2, 4, 5]
    assert result.examples["into_reject"] == [] and result.examples["into_approve"] == []


def test_shares_resting_on_few_decisions_are_marked_thin():
    scores = [0.95, 0.96, 0.10]
    values = np.full((len(scores), len(LABELS)), np.nan)
    values[:, 0] = scores
    history = History(values=values, verdict=np.array([-1, -1, 1], dtype=np.int8))
    current = SimpleNamespace(thresholds=policies.default_thresholds(), reject_action="hold")

    agreement = replay(current, current, window="all", history=history).agreement_proposed

    assert agreement.precision == 1.0 and agreement.auto_rejected == 2
    assert agreement.precision_thin and agreement.recall_thin
