"""The model that ships inside its package: alt-profanity-check (scikit-learn, no downloads).

It gives one probability of offensive language per text; that is reported as "toxicity" and
no other label is invented.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from importlib import metadata

from .base import ScoredText, ScorerError, ScorerIdentity, ScorerUnavailable, check_texts

PACKAGE = "alt-profanity-check"


def _package_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "not installed"


class EmbeddedScorer:
    produces: tuple[str, ...] = ("toxicity",)

    def __init__(self, batch_size: int = 1000) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self.identity = ScorerIdentity(PACKAGE, _package_version())
        self._predict_prob: Callable | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._predict_prob is not None

    def load(self) -> None:
        with self._lock:
            if self._predict_prob is None:
                self._predict_prob = _import_predict_prob()

    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        texts = check_texts(texts)
        if not texts:
            return []
        self.load()
        scored: list[ScoredText] = []
        # One call per batch: a call costs ~9 ms however few texts it carries.
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            try:
                probabilities = self._predict_prob(batch)
            except Exception as exc:
                raise ScorerError(f"{PACKAGE} could not score {len(batch)} texts: {exc}") from exc
            scored += [ScoredText(labels={"toxicity": float(p)}) for p in probabilities]
        return scored


def _import_predict_prob() -> Callable:
    # Importing the package unpickles its model (~1.7 s); that is the whole load.
    try:
        from profanity_check import predict_prob
    except ImportError as exc:
        raise ScorerUnavailable(
            f"the embedded model needs the {PACKAGE} package, which is not importable: {exc}"
        ) from exc
    except Exception as exc:  # e.g. a scikit-learn version that cannot read its pickles
        raise ScorerError(f"{PACKAGE} is installed but its model did not load: {exc}") from exc
    return predict_prob
