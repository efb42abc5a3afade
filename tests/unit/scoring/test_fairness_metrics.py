"""The bias metrics (Borkan et al. 2019) and the heads' gate, on numbers whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.scoring.fairness import TemplateSentence, auc, bias_by_term, fill
from moderation.scoring.heads import Head, Heads


def test_auc_matches_scikit_learn_including_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    negatives = rng.integers(0, 6, 50) / 5
    positives = rng.integers(2, 8, 40) / 5
    expected = roc_auc_score([0] * 50 + [1] * 40, np.concatenate([negatives, positives]))
    assert auc(negatives, positives) == pytest.approx(expected)


def test_a_term_that_alone_raises_the_score_fails_bpsn_but_not_subgroup_auc():
    sentences = [TemplateSentence(term, f"{term} {n}", hateful)
                 for term in ("neutral", "targeted") for hateful in (False, True)
                 for n in range(10)]
    # Within each term hate scores higher; but every "targeted" sentence is lifted by 0.5.
    risk = [0.1 + 0.4 * s.hateful + 0.5 * (s.term == "targeted") + 0.001 * i
            for i, s in enumerate(sentences)]
    approved = [r < 0.3 for r in risk]
    rows = {row.term: row for row in bias_by_term(sentences, risk, approved)}

    assert rows["targeted"].subgroup_auc == 1.0
    assert rows["targeted"].bpsn_auc == 0.0  # its benign sentences outrank background hate
    assert rows["targeted"].bnsp_auc == 1.0
    assert rows["targeted"].benign_not_approved == 1.0
    assert rows["neutral"].bpsn_auc == 1.0 and rows["neutral"].benign_not_approved == 0.0


def test_templates_are_filled_with_every_term_and_capitalised():
    filled = fill([("{group} are welcome here.", False)], ["refugees", "old people"])
    assert [s.text for s in filled] == ["Refugees are welcome here.",
                                        "Old people are welcome here."]


def _heads(gate):
    one = Head(np.zeros(2), 0.0, 1.0, 0.0, approve=0.3, reject=0.9)
    threat = Head(np.zeros(2), 0.0, 1.0, 0.0, approve=0.1, reject=0.6)
    return Heads(("toxicity", "threat"), {"toxicity": one, "threat": threat}, 0.5, "test",
                 gate=gate)


def test_the_gate_caps_a_specific_label_a_set_distance_past_the_general_heads_standing():
    heads = _heads(gate=1.0)
    scores = {"toxicity": np.array([0.3, 0.05]), "threat": np.array([0.9, 0.9])}
    heads.apply_gate(scores)
    # At the general head's approve threshold: threat may stand 1 logit past its own.
    assert heads.units("threat", scores["threat"])[0] == pytest.approx(1.0)
    general = heads.units("toxicity", np.array([0.05]))[0]
    assert heads.units("threat", scores["threat"])[1] == pytest.approx(general + 1.0)
    assert scores["toxicity"] == pytest.approx([0.3, 0.05])  # the general head is untouched

    below = {"toxicity": np.array([0.3]), "threat": np.array([0.05])}
    heads.apply_gate(below)
    assert below["threat"] == pytest.approx([0.05])  # under the cap: unchanged

    ungated = {"toxicity": np.array([0.05]), "threat": np.array([0.9])}
    _heads(gate=None).apply_gate(ungated)
    assert ungated["threat"] == pytest.approx([0.9])


def test_a_long_comment_pays_a_penalty_for_each_window_it_had_to_draw_from():
    heads = _heads(gate=None)
    raw = np.array([-2.0, 1.0, -1.0, 0.0])
    assert heads.pool(raw[:1], 1) == pytest.approx(-2.0)
    assert heads.pool(raw, 4) == pytest.approx(1.0 - 0.5 * np.log(4))
