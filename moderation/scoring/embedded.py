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
    return _direct(predict_prob) or predict_prob


_PROBES = ["you are a complete idiot", "thanks for the update on the bridge", "what the hell",
           "I will find you", "", "fuck this", "the council meets on Tuesday at 7pm"]


def _direct(predict_prob: Callable) -> Callable | None:
    """The package's model computed directly: the same TF-IDF features, then the mean over its
    calibrated folds of sigmoid(-(a * (x . w + c) + b)), one matrix product for all folds.
    scikit-learn's predict_proba re-validates its input on every fold of every call (about
    9 ms a call, most of a small batch's cost). Used only when it gives the package's own
    probabilities on the probes (to 1e-9); otherwise the package's function serves."""
    try:
        import numpy as np
        from profanity_check import profanity_check as package

        folds = package.model.calibrated_classifiers_
        weights = np.column_stack([np.ravel(f.estimator.coef_) for f in folds])
        offsets = np.array([float(np.ravel(f.estimator.intercept_)[0]) for f in folds])
        slopes = np.array([float(f.calibrators[0].a_) for f in folds])
        biases = np.array([float(f.calibrators[0].b_) for f in folds])
        if any(getattr(f, "method", "sigmoid") != "sigmoid" for f in folds):
            return None
        vectorizer = package.vectorizer

        def direct(texts):
            decisions = np.asarray(vectorizer.transform(texts) @ weights) + offsets
            return (1.0 / (1.0 + np.exp(slopes * decisions + biases))).mean(axis=1)

        if np.abs(direct(_PROBES) - predict_prob(_PROBES)).max() > 1e-9:
            return None
        return direct
    except Exception:  # noqa: BLE001  another model layout: the package's function serves
        return None
