"""Loading Detoxify checkpoints through Detoxify's own constructor, offline."""

from __future__ import annotations

import hashlib
import threading

import pytest

from moderation.scoring import (
    BASE_LABELS,
    DetoxifyScorer,
    ScorerError,
    ScorerUnavailable,
)
from tests.tiny_detoxify import build_tiny_checkpoint

RENAMED_SIX = {"toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"}


@pytest.fixture
def detoxify_constructions(monkeypatch) -> list[dict]:
    """Record every call of detoxify.Detoxify.__init__ while still running it."""
    import detoxify

    calls: list[dict] = []
    original_init = detoxify.Detoxify.__init__

    def recording_init(self, *args, **kwargs):
        calls.append({"args": args, **kwargs})
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(detoxify.Detoxify, "__init__", recording_init)
    return calls


def test_a_local_checkpoint_loads_through_detoxifys_constructor(
    tiny_checkpoint, detoxify_constructions
):
    checkpoint, hf_dir = tiny_checkpoint
    scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir)
    assert not scorer.ready
    assert scorer.identity.version == "unloaded"

    scorer.load()

    assert scorer.ready
    assert len(detoxify_constructions) == 1
    call = detoxify_constructions[0]
    assert call["checkpoint"] == str(checkpoint)
    assert call["huggingface_config_path"] == str(hf_dir)


def test_the_six_jigsaw_classes_come_out_under_detoxifys_renamed_labels(tiny_checkpoint):
    checkpoint, hf_dir = tiny_checkpoint
    scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir)

    [scored] = scorer.score(["thanks for the article"])

    assert set(scored.labels) == RENAMED_SIX
    assert all(isinstance(value, float) and 0.0 <= value <= 1.0 for value in scored.labels.values())
    assert scored.risk == max(scored.labels.values())


def test_labels_outside_the_known_set_are_dropped_and_columns_stay_matched(tmp_path):
    # Shaped like the unbiased model: different order, sexual_explicit, identity sub-labels.
    classes = (
        "toxicity",
        "severe_toxicity",
        "obscene",
        "identity_attack",
        "insult",
        "threat",
        "sexual_explicit",
        "male",
        "female",
    )
    checkpoint, hf_dir = build_tiny_checkpoint(
        tmp_path, num_classes=len(classes), classes=classes, seed=3
    )
    scorer = DetoxifyScorer("unbiased", checkpoint=checkpoint, huggingface_config_path=hf_dir)
    text = "you are a worthless idiot"

    [scored] = scorer.score([text])

    assert set(scored.labels) == set(BASE_LABELS)
    assert scorer.produces == BASE_LABELS
    from detoxify import Detoxify

    reference = Detoxify(checkpoint=str(checkpoint), huggingface_config_path=str(hf_dir))
    expected = reference.predict(text)
    for label, value in scored.labels.items():
        assert value == pytest.approx(expected[label], abs=1e-5), label


def test_short_texts_score_exactly_as_detoxify_predict_does(tiny_checkpoint):
    checkpoint, hf_dir = tiny_checkpoint
    texts = ["You are a worthless idiot and everyone hates you", "Thanks, xyzzy!", "ok"]
    scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir)
    from detoxify import Detoxify

    expected = Detoxify(checkpoint=str(checkpoint), huggingface_config_path=str(hf_dir)).predict(
        texts
    )

    for index, scored in enumerate(scorer.score(texts)):
        for label, value in scored.labels.items():
            assert value == pytest.approx(expected[label][index], abs=1e-5)


def test_the_version_of_a_local_checkpoint_is_its_sha256(tiny_checkpoint):
    checkpoint, hf_dir = tiny_checkpoint
    scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir)

    scorer.load()

    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert scorer.identity.version == f"sha256:{digest[:12]}"
    assert scorer.identity.name == "detoxify-original"
    assert scorer.identity.label == f"detoxify-original (sha256:{digest[:12]})"


def test_a_missing_checkpoint_is_unavailable_and_the_message_names_it(tmp_path):
    missing = tmp_path / "nowhere" / "toxic.ckpt"
    scorer = DetoxifyScorer(checkpoint=missing)

    with pytest.raises(ScorerUnavailable, match=str(missing)):
        scorer.load()
    assert not scorer.ready


def test_a_missing_hugging_face_folder_is_unavailable_and_named(tiny_checkpoint, tmp_path):
    checkpoint, _ = tiny_checkpoint
    missing = tmp_path / "no-config"
    scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=missing)

    with pytest.raises(ScorerUnavailable, match=str(missing)):
        scorer.load()


def test_a_file_that_is_not_a_detoxify_checkpoint_is_a_scorer_error(tmp_path):
    import torch

    not_a_checkpoint = tmp_path / "weights.ckpt"
    torch.save({"state_dict": {}}, not_a_checkpoint)

    with pytest.raises(ScorerError, match="did not load"):
        DetoxifyScorer(checkpoint=not_a_checkpoint).load()


def test_concurrent_loads_build_the_model_once(tiny_checkpoint, detoxify_constructions):
    checkpoint, hf_dir = tiny_checkpoint
    scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir)
    threads = [threading.Thread(target=scorer.load) for _ in range(4)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    scorer.load()

    assert scorer.ready
    assert len(detoxify_constructions) == 1


def test_an_unknown_model_type_is_refused_at_construction():
    with pytest.raises(ValueError, match="original, unbiased"):
        DetoxifyScorer("gigantic")


def test_the_release_table_matches_detoxifys_own():
    import detoxify.detoxify as upstream

    from moderation.scoring.detoxify_scorer import BASE_MODELS, CHECKPOINT_URLS

    assert CHECKPOINT_URLS == upstream.MODEL_URLS
    assert set(BASE_MODELS) == set(upstream.MODEL_URLS)


def _as_published(tiny_checkpoint, tmp_path):
    """The tiny checkpoint rewritten the way a released one is: model_type names a hub model."""
    import torch

    checkpoint, hf_dir = tiny_checkpoint
    loaded = torch.load(checkpoint, map_location="cpu", weights_only=False)
    loaded["config"]["arch"]["args"]["model_type"] = "bert-base-uncased"
    published = tmp_path / "toxic_original.ckpt"
    torch.save(loaded, published)
    return published, hf_dir


def test_a_published_style_checkpoint_loads_offline_from_its_config_folder(
        tiny_checkpoint, tmp_path, empty_caches, no_network):
    import huggingface_hub.constants as hub_constants

    published, hf_dir = _as_published(tiny_checkpoint, tmp_path)
    cache_before = hub_constants.HF_HUB_CACHE
    scorer = DetoxifyScorer(checkpoint=published, huggingface_config_path=hf_dir)
    [scored] = scorer.score(["thanks for the article"])
    assert set(scored.labels) == {"toxicity", "severe_toxicity", "obscene", "threat", "insult",
                                  "identity_attack"}
    assert hub_constants.HF_HUB_CACHE == cache_before  # the private cache was only for the load
    assert no_network == []


def test_without_the_base_model_alias_that_checkpoint_cannot_load_offline(
        tiny_checkpoint, tmp_path, empty_caches, no_network, monkeypatch):
    """The control for the test above: Detoxify alone looks the hub name up and fails."""
    import contextlib

    from moderation.scoring import detoxify_scorer

    published, hf_dir = _as_published(tiny_checkpoint, tmp_path)
    monkeypatch.setattr(detoxify_scorer, "_base_models_resolve_to",
                        lambda _folder: contextlib.nullcontext())
    scorer = DetoxifyScorer(checkpoint=published, huggingface_config_path=hf_dir)
    with pytest.raises(ScorerUnavailable, match="couldn.t find them in the cached files"):
        scorer.load()
