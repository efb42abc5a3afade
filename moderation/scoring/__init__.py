"""Scoring as a library: strings in, label probabilities and the scorer's identity out.

No Flask, no models from the app, and nothing heavy at import time: torch, transformers,
detoxify, onnxruntime and profanity_check are imported by load().
"""

from .base import (
    BASE_LABELS,
    LABELS,
    SITE_LABEL,
    ExampleMatch,
    ScoredText,
    Scorer,
    ScorerError,
    ScorerIdentity,
    ScorerUnavailable,
)
from .choose import CHOICES, RUNTIMES, ScorerChoice, choose_scorer
from .composite import CompositeScorer
from .detoxify_onnx import DetoxifyOnnxScorer
from .detoxify_scorer import DetoxifyScorer, detoxify_weights_available
from .embedded import EmbeddedScorer

__all__ = [
    "BASE_LABELS",
    "CHOICES",
    "LABELS",
    "RUNTIMES",
    "SITE_LABEL",
    "ExampleMatch",
    "CompositeScorer",
    "DetoxifyOnnxScorer",
    "DetoxifyScorer",
    "EmbeddedScorer",
    "ScoredText",
    "Scorer",
    "ScorerChoice",
    "ScorerError",
    "ScorerIdentity",
    "ScorerUnavailable",
    "choose_scorer",
    "detoxify_weights_available",
]
