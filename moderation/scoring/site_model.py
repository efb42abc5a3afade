"""A site model: a logistic head that learns where a site's moderators draw the line, on top
of a base scorer's labels and (when the scorer has one) its sentence embedding.

Plain numbers in, plain numbers out: the fitted head is a list of coefficients, a mean and a
scale per feature, and an intercept, so it can be stored as JSON and never unpickled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .base import ScoredText

_EPSILON = 1e-4
# Regularisation strengths tried by cross-validation on the training part only.
_CS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


def _logit(values: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.nan_to_num(values, nan=0.0), _EPSILON, 1 - _EPSILON)
    return np.log(clipped / (1 - clipped))


def feature_matrix(label_values: np.ndarray, embeddings: np.ndarray | None) -> np.ndarray:
    """Rows of [logit of each label] + [embedding]; a missing label counts as 0."""
    columns = [_logit(np.asarray(label_values, dtype=np.float64))]
    if embeddings is not None:
        columns.append(np.asarray(embeddings, dtype=np.float64))
    return np.hstack(columns)


def _cross_validated_auc(features, rejected, c: float, folds: int, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    scores = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(features, rejected):
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(features[train], rejected[train])
        scores.append(roc_auc_score(rejected[test], model.decision_function(features[test])))
    return float(np.mean(scores))


@dataclass(frozen=True)
class SiteHead:
    labels: tuple[str, ...]  # base labels used, in column order
    embedding: bool  # whether the embedding follows them
    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, labels: Sequence[str], label_values: np.ndarray,
            embeddings: np.ndarray | None, rejected: np.ndarray, *, seed: int = 0) -> SiteHead:
        """Fit on decided comments (`rejected` True/False), choosing the regularisation by
        5-fold cross-validated ROC-AUC within these rows alone."""
        from sklearn.linear_model import LogisticRegression

        features = feature_matrix(label_values, embeddings)
        mean = features.mean(axis=0)
        scale = features.std(axis=0)
        scale[scale < 1e-9] = 1.0
        features = (features - mean) / scale
        rejected = np.asarray(rejected, dtype=bool)
        folds = int(min(5, rejected.sum(), (~rejected).sum()))
        if folds < 2:
            raise ValueError("a site model needs at least two approved and two rejected comments")
        best = max(_CS, key=lambda c: _cross_validated_auc(features, rejected, c, folds, seed))
        # Unweighted: the probability is the site's own rate of rejection, which thresholds
        # read as they read any label.
        model = LogisticRegression(C=best, max_iter=2000)
        model.fit(features, rejected)
        return cls(tuple(labels), embeddings is not None, mean, scale,
                   model.coef_[0].astype(np.float64), float(model.intercept_[0]))

    def predict(self, label_values: np.ndarray, embeddings: np.ndarray | None) -> np.ndarray:
        """Probability that the site's moderators reject each row."""
        if self.embedding and embeddings is None:
            raise ValueError("this site model needs the base scorer's embeddings")
        features = feature_matrix(label_values, embeddings if self.embedding else None)
        logits = ((features - self.mean) / self.scale) @ self.coefficients + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))

    def predict_scored(self, scored: Sequence[ScoredText]) -> np.ndarray:
        values = np.array([[s.labels.get(label, np.nan) for label in self.labels]
                           for s in scored], dtype=np.float64).reshape(len(scored), -1)
        embeddings = None
        if self.embedding:
            if any(s.embedding is None for s in scored):
                raise ValueError("this site model needs the base scorer's embeddings")
            embeddings = np.vstack([np.asarray(s.embedding, dtype=np.float64) for s in scored])
        return self.predict(values, embeddings)

    def to_json(self) -> dict:
        return {"labels": list(self.labels), "embedding": self.embedding,
                "mean": self.mean.round(8).tolist(), "scale": self.scale.round(8).tolist(),
                "coefficients": self.coefficients.round(8).tolist(),
                "intercept": round(self.intercept, 8)}

    @classmethod
    def from_json(cls, data: dict) -> SiteHead:
        return cls(tuple(data["labels"]), bool(data["embedding"]),
                   np.asarray(data["mean"], dtype=np.float64),
                   np.asarray(data["scale"], dtype=np.float64),
                   np.asarray(data["coefficients"], dtype=np.float64),
                   float(data["intercept"]))
