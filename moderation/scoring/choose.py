"""Which scorer to run, and one sentence saying why, for the logs and /healthz."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from .base import Scorer
from .composite import CompositeScorer
from .detoxify_onnx import DetoxifyOnnxScorer
from .detoxify_scorer import DetoxifyScorer, detoxify_weights_available
from .embedded import EmbeddedScorer
from .encoder import PACKAGE as ENCODER_PACKAGE
from .encoder import packaged_model_dir
from .encoder_onnx import PRECISIONS  # the composite's encoder on ONNX Runtime

CHOICES: tuple[str, ...] = ("auto", "detoxify", "composite", "embedded")
RUNTIMES: tuple[str, ...] = ("torch", "onnx")  # how Detoxify runs, when it is chosen
_EMBEDDED = "the embedded alt-profanity-check model"
_COMPOSITE = ("the offline composite (learned heads over all-MiniLM-L6-v2 sentence "
              "embeddings and alt-profanity-check)")


@dataclass(frozen=True)
class ScorerChoice:
    scorer: Scorer
    reason: str


def choose_scorer(
    choice: str = "auto",
    *,
    model_type: str = "original",
    checkpoint: str | os.PathLike | None = None,
    huggingface_config_path: str | os.PathLike | None = None,
    device: str = "cpu",
    batch_size: int = 16,
    runtime: str = "torch",
    onnx_cache_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    encoder_precision: str = "int8",
) -> ScorerChoice:
    """Construct (never load) the scorer that `choice` asks for."""
    normalised = choice.strip().lower() if isinstance(choice, str) else choice
    if normalised not in CHOICES:
        raise ValueError(f"MODERATION_SCORER must be one of {', '.join(CHOICES)}; got {choice!r}")
    runtime = check_runtime(runtime)
    if encoder_precision not in PRECISIONS:
        raise ValueError(f"MODERATION_ENCODER_PRECISION must be one of {', '.join(PRECISIONS)}; "
                         f"got {encoder_precision!r}")
    prefix = f"MODERATION_SCORER={normalised}"
    if normalised == "embedded":
        return ScorerChoice(EmbeddedScorer(), f"{prefix}: using {_EMBEDDED}")
    if normalised == "composite":
        return ScorerChoice(CompositeScorer(batch_size=batch_size, cache_dir=cache_dir,
                                            precision=encoder_precision),
                            f"{prefix}: using {_COMPOSITE}")

    available, why = detoxify_weights_available(model_type, checkpoint, huggingface_config_path)
    if normalised == "auto" and not available:
        if packaged_model_dir() is not None:
            return ScorerChoice(CompositeScorer(batch_size=batch_size, cache_dir=cache_dir,
                                                precision=encoder_precision),
                                f"{prefix}: {why}; using {_COMPOSITE}")
        return ScorerChoice(EmbeddedScorer(), f"{prefix}: {why}, and the {ENCODER_PACKAGE} "
                                              f"package is not installed; using {_EMBEDDED}")
    options = dict(checkpoint=checkpoint, huggingface_config_path=huggingface_config_path,
                   device=device, batch_size=batch_size)
    if runtime == "onnx":
        detoxify = DetoxifyOnnxScorer(model_type, cache_dir=onnx_cache_dir, **options)
        using = f"Detoxify {model_type} on ONNX Runtime (int8)"
        if importlib.util.find_spec("onnxruntime") is None:
            using += ", but onnxruntime is not installed (it will fail to load)"
    else:
        detoxify = DetoxifyScorer(model_type, **options)
        using = f"Detoxify {model_type}"
    if available:
        return ScorerChoice(detoxify, f"{prefix}: {why}; using {using}")
    # Asked for explicitly: no silent fallback, load() will say what is missing.
    return ScorerChoice(
        detoxify,
        f"{prefix}: using {using}, but {why} (it will be downloaded, or fail to load)",
    )


def check_runtime(runtime: str) -> str:
    normalised = runtime.strip().lower() if isinstance(runtime, str) else runtime
    if normalised not in RUNTIMES:
        raise ValueError(f"MODERATION_DETOXIFY_RUNTIME must be one of {', '.join(RUNTIMES)}; "
                         f"got {runtime!r}")
    return normalised
