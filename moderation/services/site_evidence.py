"""The evidence for a site model: the decided comments it learns from, how they are split,
and how a head compares with the base scorer on decisions it did not see (held out, or
k-fold cross-validated). Nothing here stores or activates anything: services/site_models.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moderation.extensions import db
from moderation.models import BASE_LABELS, SITE_LABEL, Comment, Score
from moderation.scoring.site_model import SiteHead
from moderation.services import policy as policies
from moderation.services import policy_versions

HOLDOUT_SHARE = 0.2
MIN_DECISIONS = 50
MIN_PER_CLASS_TRAIN = 10
MIN_PER_CLASS_TEST = 5
EMBEDDING_DTYPE = np.float16


class TrainingError(ValueError):
    """No model can be trained or activated; the message says why, for a person."""


@dataclass
class Decided:
    """Decided comments scored by one base scorer, oldest first."""

    ids: np.ndarray
    values: np.ndarray  # N x len(BASE_LABELS), NaN where the scorer gave no value
    embeddings: np.ndarray | None  # N x D, or None when any row lacks one
    rejected: np.ndarray  # bool


def pack_embedding(vector) -> bytes | None:
    if vector is None:
        return None
    return np.asarray(vector, dtype=EMBEDDING_DTYPE).tobytes()


def unpack_embedding(blob: bytes | None) -> np.ndarray | None:
    if blob is None:
        return None
    return np.frombuffer(blob, dtype=EMBEDDING_DTYPE).astype(np.float32)


def decided(base_scorer: str) -> Decided:
    rows = db.session.execute(
        db.select(Comment.id, Comment.verdict, Score.embedding,
                  *(getattr(Score, label) for label in BASE_LABELS))
        .join(Score, db.and_(Score.comment_id == Comment.id,
                             Score.scorer_name == Comment.scorer_name,
                             Score.scorer_version == Comment.scorer_version))
        .where(Comment.verdict.in_(("approved", "rejected")),
               Comment.scorer_name == base_scorer)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    rejected = np.array([row[1] == "rejected" for row in rows], dtype=bool)
    values = np.array([[np.nan if v is None else v for v in row[3:]] for row in rows],
                      dtype=np.float64).reshape(len(rows), len(BASE_LABELS))
    vectors = [unpack_embedding(row[2]) for row in rows]
    embeddings = None
    if rows and all(vector is not None for vector in vectors):
        embeddings = np.vstack(vectors)
    return Decided(ids, values, embeddings, rejected)


def split(data: Decided) -> tuple[slice, slice]:
    cut = int(round(len(data.ids) * (1 - HOLDOUT_SHARE)))
    return slice(0, cut), slice(cut, None)


def check_enough(data: Decided, train: slice, test: slice, base_scorer: str) -> None:
    if len(data.ids) < MIN_DECISIONS:
        raise TrainingError(
            f"A site model needs at least {MIN_DECISIONS} decided comments scored by "
            f"{base_scorer}; there are {len(data.ids)}. Decide more comments or import "
            "past decisions first.")
    for name, part, minimum in (("training", train, MIN_PER_CLASS_TRAIN),
                                ("held-out", test, MIN_PER_CLASS_TEST)):
        rejected = int(data.rejected[part].sum())
        approved = int((~data.rejected[part]).sum())
        if min(rejected, approved) < minimum:
            raise TrainingError(
                f"The {name} part ({name == 'training' and 'older 80%' or 'newest 20%'} of "
                f"the decisions) has {approved} approved and {rejected} rejected comments; "
                f"it needs at least {minimum} of each.")


def held_out_auc(scores: np.ndarray, rejected: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(rejected, scores)), 4)


def _band_report(codes: np.ndarray, rejected: np.ndarray) -> dict:
    caught = codes == 2
    true_positives = int((caught & rejected).sum())
    return {
        "precision": round(true_positives / caught.sum(), 4) if caught.sum() else None,
        "recall": round(true_positives / rejected.sum(), 4) if rejected.sum() else None,
        "queued_share": round(float((codes == 1).mean()), 4),
        "rejected_published": int(((codes == 0) & rejected).sum()),
        # What moderators pay for: comments they approved that would not publish at once.
        "approved_held_back": (round(float((codes[~rejected] != 0).mean()), 4)
                               if (~rejected).any() else None),
    }


def with_site_rule(policy):
    """The policy with the site label on (at its thresholds there, else the defaults): what the
    policy does once a site model is active."""
    thresholds = dict(policy.thresholds)
    rule = policies.rule_for(thresholds, SITE_LABEL)
    thresholds[SITE_LABEL] = {**rule, "enabled": True}
    return policy_versions.proposal(thresholds, policy.reject_action)


def evidence(head: SiteHead, data: Decided, test: slice, policy) -> dict:
    """How the base scorer and base + site model do on the held-out decisions."""
    values, rejected = data.values[test], data.rejected[test]
    embeddings = data.embeddings[test] if data.embeddings is not None else None
    columns = [BASE_LABELS.index(label) for label in head.labels]
    site = head.predict(values[:, columns], embeddings)
    without_site = np.column_stack([values, np.full(len(values), np.nan)])
    with_site = np.column_stack([values, site])
    stacked = with_site_rule(policy)
    return {
        "held_out": int(len(rejected)), "held_out_rejected": int(rejected.sum()),
        "base_auc": held_out_auc(policies.risk_values(without_site, policy), rejected),
        "site_auc": held_out_auc(site, rejected),
        # The risk the queue will sort by once the model is active (the site model's
        # probability, or the base labels where they reach a reject threshold).
        "deployed_auc": held_out_auc(policies.risk_values(with_site, stacked), rejected),
        "policy_version": policy.version,
        "base_at_thresholds": _band_report(policies.band_codes(without_site, policy), rejected),
        "site_at_thresholds": _band_report(policies.band_codes(with_site, stacked), rejected),
    }


def cross_validate(base_scorer: str, *, folds: int = 5, seed: int = 0,
                   on_fold=None) -> dict:
    """k-fold cross-validation of the training recipe on every decided comment: each fold is
    held out once while a head is fitted (its regularisation chosen inside the other folds)
    on the rest. Nothing is stored. Returns per-fold and mean evidence."""
    data = decided(base_scorer)
    if len(data.ids) < MIN_DECISIONS:
        raise TrainingError(f"Cross-validation needs at least {MIN_DECISIONS} decided comments "
                            f"scored by {base_scorer}; there are {len(data.ids)}.")
    if min(int(data.rejected.sum()), int((~data.rejected).sum())) < folds * 2:
        raise TrainingError("Too few approved or rejected comments for "
                            f"{folds}-fold cross-validation.")
    from sklearn.model_selection import StratifiedKFold

    policy = policies.active_policy()
    usable = [i for i in range(len(BASE_LABELS)) if not np.isnan(data.values[:, i]).all()]
    results = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_rows, test_rows in splitter.split(data.values, data.rejected):
        embeddings = data.embeddings[train_rows] if data.embeddings is not None else None
        head = SiteHead.fit([BASE_LABELS[i] for i in usable],
                            data.values[train_rows][:, usable], embeddings,
                            data.rejected[train_rows], seed=seed)
        fold = Decided(data.ids[test_rows], data.values[test_rows],
                       data.embeddings[test_rows] if data.embeddings is not None else None,
                       data.rejected[test_rows])
        results.append(evidence(head, fold, slice(None), policy))
        if on_fold:
            on_fold(1)

    def mean(key, sub=None):
        values = [(r[key][sub] if sub else r[key]) for r in results]
        values = [v for v in values if v is not None]
        return round(float(np.mean(values)), 4) if values else None

    return {
        "decisions": int(len(data.ids)), "rejected": int(data.rejected.sum()), "folds": folds,
        "base_auc": mean("base_auc"), "site_auc": mean("site_auc"),
        "base_auc_sd": round(float(np.std([r["base_auc"] for r in results])), 4),
        "site_auc_sd": round(float(np.std([r["site_auc"] for r in results])), 4),
        "base_precision": mean("base_at_thresholds", "precision"),
        "base_recall": mean("base_at_thresholds", "recall"),
        "site_precision": mean("site_at_thresholds", "precision"),
        "site_recall": mean("site_at_thresholds", "recall"),
        "policy_version": policy.version, "per_fold": results,
    }
