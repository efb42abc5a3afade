"""What every scorer promises: strings in, label probabilities out, plus who scored them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

# What Detoxify's models say about a text; base scorers produce some or all of these.
BASE_LABELS: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
    "sexual_explicit",
)
# A site model, trained on the site's own decisions, adds how likely its moderators are to
# reject the text. Every label a policy can threshold, in display order.
SITE_LABEL = "site_reject"
LABELS: tuple[str, ...] = (*BASE_LABELS, SITE_LABEL)


@dataclass(frozen=True)
class ScorerIdentity:
    name: str
    version: str

    @property
    def label(self) -> str:
        """Human text for "scored by <label>"."""
        return f"{self.name} ({self.version})"


@dataclass(frozen=True)
class ExampleMatch:
    """The curated example sentence a text came closest to for one label."""

    text: str
    similarity: float


@dataclass(frozen=True)
class ScoredText:
    labels: dict[str, float] = field(default_factory=dict)
    windows: int = 1
    top_window: tuple[int, int] | None = None
    # Scorers that embed text also return the embedding of the riskiest window (float32,
    # unit length) and, per label, the example sentence it came closest to.
    embedding: Any = field(default=None, compare=False, repr=False)
    matches: dict[str, ExampleMatch] = field(default_factory=dict)

    @property
    def risk(self) -> float:
        return max(self.labels.values(), default=0.0)


class ScorerError(Exception):
    """Loading or scoring failed; the message is meant for a human."""


class ScorerUnavailable(ScorerError):
    """The model's files (weights, config, package) are not available here."""


@runtime_checkable
class Scorer(Protocol):
    identity: ScorerIdentity
    # The labels this scorer fills in (the others are left out, never invented).
    produces: tuple[str, ...]

    @property
    def ready(self) -> bool: ...

    def load(self) -> None: ...

    def score(self, texts: Sequence[str]) -> list[ScoredText]: ...


def check_texts(texts: Sequence[str]) -> list[str]:
    """A list copy of `texts`, refusing non-strings before they reach a tokenizer."""
    if isinstance(texts, str):
        raise TypeError("score() takes a sequence of strings, not a single string")
    texts = list(texts)
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {position} is {type(text).__name__}, not str")
    return texts
