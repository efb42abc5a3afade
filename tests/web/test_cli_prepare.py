"""`flask model prepare` leaves the composite's caches ready for the first worker."""

from __future__ import annotations

import pytest

from moderation.scoring import CompositeScorer


@pytest.fixture
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("scorer-cache")


@pytest.fixture
def app_config(cache):
    return {"MODERATION_SCORER_OBJECT": CompositeScorer(cache_dir=cache)}


def test_prepare_writes_the_encoder_export_and_the_examples_embeddings(app, runner, cache):
    result = runner.invoke(args=["model", "prepare"])

    assert result.exit_code == 0, result.output
    assert "Ready: composite (" in result.stdout
    assert list(cache.glob("minilm-*.onnx")), "the ONNX encoder was not exported"
    assert list(cache.glob("example-vectors-*.npz")), "the examples' embeddings were not cached"

    # A worker's scorer built afterwards finds both and embeds nothing at load.
    again = CompositeScorer(cache_dir=cache)
    calls = []
    original = again.encoder.encode
    again.encoder.encode = lambda texts: calls.append(len(texts)) or original(texts)
    again.load()
    assert calls == []
