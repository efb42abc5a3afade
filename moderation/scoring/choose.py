"""Which scorer to run, and one sentence saying why, for the logs and /healthz."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .base import Scorer
from .composite import CompositeScorer
from .detoxify_scorer import DetoxifyScorer, detoxify_weights_available
from .embedded import EmbeddedScorer
from .encoder import PACKAGE as ENCODER_PACKAGE
from .encoder import packaged_model_dir

CHOICES: tuple[str, ...] = ("auto", "detoxify", "composite", "embedded")
_EMBEDDED = "the embedded alt-profanity-check model"
_COMPOSITE = ("the offline composite (alt-profanity-check + all-MiniLM-L6-v2 sentence "
              "embeddings against curated example sentences)")


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
) -> ScorerChoice:
    """Construct (never load) the scorer that `choice` asks for."""
    normalised = choice.strip().lower() if isinstance(choice, str) else choice
    if normalised not in CHOICES:
        raise ValueError(f"MODERATION_SCORER must be one of {', '.join(CHOICES)}; got {choice!r}")
    prefix = f"MODERATION_SCORER={normalised}"
    if normalised == "embedded":
        return ScorerChoice(EmbeddedScorer(), f"{prefix}: using {_EMBEDDED}")
    if normalised == "composite":
        return ScorerChoice(CompositeScorer(batch_size=batch_size),
                            f"{prefix}: using {_COMPOSITE}")

    available, why = detoxify_weights_available(model_type, checkpoint, huggingface_config_path)
    if normalised == "auto" and not available:
        if packaged_model_dir() is not None:
            return ScorerChoice(CompositeScorer(batch_size=batch_size),
                                f"{prefix}: {why}; using {_COMPOSITE}")
        return ScorerChoice(EmbeddedScorer(), f"{prefix}: {why}, and the {ENCODER_PACKAGE} "
                                              f"package is not installed; using {_EMBEDDED}")
    detoxify = DetoxifyScorer(
        model_type,
        checkpoint=checkpoint,
        huggingface_config_path=huggingface_config_path,
        device=device,
        batch_size=batch_size,
    )
    if available:
        return ScorerChoice(detoxify, f"{prefix}: {why}; using Detoxify {model_type}")
    # Asked for explicitly: no silent fallback, load() will say what is missing.
    return ScorerChoice(
        detoxify,
        f"{prefix}: using Detoxify {model_type}, but {why} "
        "(it will be downloaded, or fail to load)",
    )
