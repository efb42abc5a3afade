"""What every scorer promises: strings in, label probabilities out, plus who scored them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

LABELS: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
    "sexual_explicit",
)


@dataclass(frozen=True)
class ScorerIdentity:
    name: str
    version: str

    @property
    def label(self) -> str:
        """Human text for "scored by <label>"."""
        return f"{self.name} ({self.version})"


@dataclass(frozen=True)
class ScoredText:
    labels: dict[str, float] = field(default_factory=dict)
    windows: int = 1
    top_window: tuple[int, int] | None = None

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
