"""The sentence encoder on ONNX Runtime gives torch's vectors (adapter merged; float32 within
1e-4, int8 within cosine 0.98), exports once into its cache, and falls back to torch when the
export cannot be made."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.scoring import encoder_onnx
from moderation.scoring.encoder import SentenceEncoder

TEXTS = ["Thanks for the update on the bridge repairs.",
         "i know where you live",
         "A longer comment about the council budget, the library hours and the new bus "
         "timetable, which several readers have asked about this week. " * 3]


def test_float32_onnx_gives_torchs_vectors_and_the_export_is_reused(tmp_path, monkeypatch):
    torch_encoder = SentenceEncoder(runtime="torch")
    onnx_encoder = SentenceEncoder(runtime="onnx", precision="float32", cache_dir=tmp_path)
    expected = torch_encoder.encode(TEXTS)
    got = onnx_encoder.encode(TEXTS)

    assert onnx_encoder._loaded.session is not None and onnx_encoder._loaded.model is None
    assert np.abs(got - expected).max() < 1e-4
    [export] = tmp_path.glob("minilm-*-float32-*.onnx")

    # A restarted encoder loads the export without building (or exporting) the torch model.
    monkeypatch.setattr(encoder_onnx, "_export", lambda *a: pytest.fail("exported again"))
    again = SentenceEncoder(runtime="onnx", precision="float32", cache_dir=tmp_path)
    assert np.abs(again.encode(TEXTS) - expected).max() < 1e-4
    assert list(tmp_path.glob("minilm-*.onnx")) == [export]


def test_int8_stays_close_to_torch_and_a_texts_vector_is_its_own(tmp_path, monkeypatch):
    expected = SentenceEncoder(runtime="torch").encode(TEXTS)
    encoder = SentenceEncoder(cache_dir=tmp_path)  # the default: ONNX Runtime, int8
    got = encoder.encode(TEXTS)

    assert encoder.precision == "int8" and encoder.identity.version.endswith("+int8")
    assert (got * expected).sum(axis=1).min() >= 0.98  # cosine, each text
    # Activations are quantized per call: a text is embedded alone, so its vector does not
    # depend on what else is in the batch.
    for n, text in enumerate(TEXTS):
        assert np.array_equal(encoder.encode([text])[0], got[n])
    [export] = tmp_path.glob("minilm-*-int8-*.onnx")
    monkeypatch.setattr(encoder_onnx, "_export", lambda *a: pytest.fail("exported again"))
    again = SentenceEncoder(cache_dir=tmp_path)
    assert np.array_equal(again.encode(TEXTS), got)
    assert list(tmp_path.glob("minilm-*.onnx")) == [export]


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="int8 or float32"):
        SentenceEncoder(precision="int4")


def test_a_failed_export_falls_back_to_torch_with_a_warning(tmp_path, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("no exporter here")

    monkeypatch.setattr(encoder_onnx, "_export", broken)
    encoder = SentenceEncoder(runtime="onnx", cache_dir=tmp_path)
    vectors = encoder.encode(TEXTS[:1])

    assert encoder._loaded.session is None and encoder._loaded.model is not None
    assert vectors.shape == (1, 384)
    assert "ONNX export failed (no exporter here)" in caplog.text
    assert not list(tmp_path.glob("minilm-*.onnx"))


def test_an_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="onnx or torch"):
        SentenceEncoder(runtime="tensorflow")


def test_a_torn_export_is_made_again(tmp_path):
    first = SentenceEncoder(runtime="onnx", cache_dir=tmp_path)
    expected = first.encode(TEXTS[:1])
    [export] = tmp_path.glob("minilm-*.onnx")
    export.write_bytes(b"not an onnx graph")

    again = SentenceEncoder(runtime="onnx", cache_dir=tmp_path)
    assert np.abs(again.encode(TEXTS[:1]) - expected).max() < 1e-4
    assert again._loaded.session is not None
    assert export.stat().st_size > 1000
