"""Site models: learn the site's own line from moderators' decisions (and imported history),
prove it on decisions it never saw, and only then let it band comments.

Training reads every decided comment whose current score came from the base scorer, oldest
first; the most recent 20% are held out. The candidate is compared with the base scorer on
those: ROC-AUC of its probability against the base's risk, and the reject band's precision and
recall under the active policy with and without it. A model that ranks the held-out decisions
no better than the base is stored (its evidence is worth seeing) but can never be activated."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from moderation.extensions import db
from moderation.models import BASE_LABELS, SITE_LABEL, Comment, Score, SiteModel, User, utcnow
from moderation.scoring import ScoredText, ScorerIdentity
from moderation.scoring.site_model import SiteHead
from moderation.services import admin_log, policy_versions
from moderation.services import policy as policies

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


def _split(data: Decided) -> tuple[slice, slice]:
    cut = int(round(len(data.ids) * (1 - HOLDOUT_SHARE)))
    return slice(0, cut), slice(cut, None)


def _check_enough(data: Decided, train: slice, test: slice, base_scorer: str) -> None:
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


def _auc(scores: np.ndarray, rejected: np.ndarray) -> float:
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
    }


def _site_policy(policy):
    """The active policy, with the site label on at its default thresholds if it has no rule."""
    thresholds = dict(policy.thresholds)
    rule = thresholds.get(SITE_LABEL)
    if rule is None:
        approve, reject = policies.DEFAULT_THRESHOLDS[SITE_LABEL]
        thresholds[SITE_LABEL] = {"enabled": True, "approve": approve, "reject": reject}
    return policy_versions.proposal(thresholds, policy.reject_action)


def evidence(head: SiteHead, data: Decided, test: slice, policy) -> dict:
    """How the base scorer and base + site model do on the held-out decisions."""
    values, rejected = data.values[test], data.rejected[test]
    embeddings = data.embeddings[test] if data.embeddings is not None else None
    columns = [BASE_LABELS.index(label) for label in head.labels]
    site = head.predict(values[:, columns], embeddings)
    without_site = np.column_stack([values, np.full(len(values), np.nan)])
    with_site = np.column_stack([values, site])
    stacked = _site_policy(policy)
    return {
        "held_out": int(len(rejected)), "held_out_rejected": int(rejected.sum()),
        "base_auc": _auc(policies.risk_values(without_site, policy), rejected),
        "site_auc": _auc(site, rejected),
        "policy_version": policy.version,
        "base_at_thresholds": _band_report(policies.band_codes(without_site, policy), rejected),
        "site_at_thresholds": _band_report(policies.band_codes(with_site, stacked), rejected),
    }


def train(base_scorer: str, *, actor: User | None = None, note: str = "") -> SiteModel:
    """Fit a candidate on the older 80% of the decisions and record its held-out evidence.
    It is not activated here."""
    data = decided(base_scorer)
    train_part, test_part = _split(data)
    _check_enough(data, train_part, test_part, base_scorer)
    usable = [i for i, label in enumerate(BASE_LABELS)
              if not np.isnan(data.values[train_part, i]).all()]
    embeddings = data.embeddings[train_part] if data.embeddings is not None else None
    head = SiteHead.fit([BASE_LABELS[i] for i in usable], data.values[train_part][:, usable],
                        embeddings, data.rejected[train_part])
    proof = evidence(head, data, test_part, policies.active_policy())
    proof["trained_on"] = int(train_part.stop)
    proof["embedding"] = head.embedding
    current = active()
    if current is not None and current.base_scorer == base_scorer:
        current_head = SiteHead.from_json(current.head)
        if current_head.embedding == head.embedding:
            columns = [BASE_LABELS.index(label) for label in current_head.labels]
            test_embeddings = data.embeddings[test_part] if head.embedding else None
            proof["active_version"] = current.version
            proof["active_auc"] = _auc(current_head.predict(
                data.values[test_part][:, columns], test_embeddings), data.rejected[test_part])
    latest = db.session.execute(db.select(db.func.max(SiteModel.version))).scalar_one() or 0
    model = SiteModel(version=latest + 1, base_scorer=base_scorer, head=head.to_json(),
                      evidence=proof, beats_base=proof["site_auc"] > proof["base_auc"],
                      note=(note or "").strip()[:2000] or None, trained_at=utcnow(),
                      trained_by_id=actor.id if actor else None,
                      decisions_seen=int(len(data.ids)))
    db.session.add(model)
    db.session.flush()
    admin_log.record(actor, "site_model.train", model.label, version=model.version,
                     base_scorer=base_scorer, base_auc=proof["base_auc"],
                     site_auc=proof["site_auc"], beats_base=model.beats_base)
    return model


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


def decisions_since_last_training(base_scorer: str) -> int:
    """Decided comments scored by `base_scorer` beyond what its latest site model saw."""
    decided_now = db.session.execute(
        db.select(db.func.count(Comment.id)).where(
            Comment.verdict.in_(("approved", "rejected")), Comment.scorer_name == base_scorer)
    ).scalar_one()
    seen = db.session.execute(
        db.select(SiteModel.decisions_seen).where(SiteModel.base_scorer == base_scorer)
        .order_by(SiteModel.version.desc()).limit(1)
    ).scalar_one_or_none() or 0
    return decided_now - seen


def maybe_retrain(base_scorer: str, every: int) -> SiteModel | None:
    """The worker's retraining: once `every` new decisions have come in, train a candidate
    and activate it only if it beats the base scorer and the active site model on held-out
    decisions. None when it was not time, or there is too little to learn from."""
    if every <= 0 or decisions_since_last_training(base_scorer) < every:
        return None
    try:
        model = train(base_scorer, note=f"retrained by the worker after {every}+ new decisions")
    except TrainingError:
        return None
    if better_than_active(model):
        activate(model.version, actor=None, base_scorer=base_scorer)
    return model


def better_than_active(model: SiteModel) -> bool:
    """Whether the candidate beats the base, and the active model where one was measured."""
    active_auc = model.evidence.get("active_auc")
    return model.beats_base and (active_auc is None or model.evidence["site_auc"] > active_auc)


def models() -> list[SiteModel]:
    return list(db.session.execute(
        db.select(SiteModel).order_by(SiteModel.version.desc())).scalars())


def by_version(version: int) -> SiteModel | None:
    return db.session.execute(
        db.select(SiteModel).where(SiteModel.version == version)).scalar_one_or_none()


def active() -> SiteModel | None:
    return db.session.execute(
        db.select(SiteModel).where(SiteModel.active)).scalar_one_or_none()


def activate(version: int, *, actor: User | None, base_scorer: str) -> SiteModel:
    model = by_version(version)
    if model is None:
        raise LookupError(f"There is no site model version {version}.")
    if not model.beats_base:
        ev = model.evidence
        raise TrainingError(
            f"Site model v{version} ranked the held-out decisions no better than the base "
            f"scorer (ROC-AUC {ev['site_auc']:.3f} against {ev['base_auc']:.3f}); it cannot be "
            "activated.")
    if model.base_scorer != base_scorer:
        raise TrainingError(
            f"Site model v{version} was trained on {model.base_scorer} scores, but comments "
            f"are scored by {base_scorer} now; train a new one.")
    current = active()
    if current is not None and current.id == model.id:
        raise TrainingError(f"Site model v{version} is already active.")
    _switch(current, model, actor)
    return model


def rollback(*, actor: User | None) -> SiteModel | None:
    """Back to the model the active one replaced (or to no site model); returns it."""
    current = active()
    if current is None:
        raise TrainingError("No site model is active: there is nothing to roll back.")
    previous = db.session.get(SiteModel, current.replaced_id) if current.replaced_id else None
    _switch(current, previous, actor, rolling_back=True)
    return previous


def _switch(current: SiteModel | None, model: SiteModel | None, actor: User | None, *,
            rolling_back: bool = False) -> None:
    if current is not None:
        # Deactivate first: the database allows one active row at a time.
        db.session.execute(db.update(SiteModel).where(SiteModel.id == current.id)
                           .values(active=False).execution_options(synchronize_session="fetch"))
        db.session.flush()
    if model is not None:
        model.active = True
        model.activated_at = utcnow()
        model.activated_by_id = actor.id if actor else None
        if not rolling_back:
            model.replaced_id = current.id if current else None
        db.session.flush()
        _ensure_site_rule(model, actor)
    action = "site_model.rollback" if rolling_back else "site_model.activate"
    admin_log.record(actor, action, model.label if model else "no site model",
                     version=model.version if model else None,
                     previous=current.version if current else None)


def _ensure_site_rule(model: SiteModel, actor: User | None) -> None:
    """A policy saved before site models existed has no rule for their label: add the default
    as a new version, so the model's scores band comments (and the history says why)."""
    policy = policies.active_policy()
    if SITE_LABEL in policy.thresholds:
        return
    thresholds = _site_policy(policy).thresholds
    policy_versions.save(thresholds, policy.reject_action, actor=actor,
                         note=f"{model.label} activated: {SITE_LABEL.replace('_', ' ')} "
                              "thresholds added at their defaults")


# ---- the stack the worker scores with ----------------------------------------------------

_heads: dict[tuple[str, int], SiteHead] = {}


def active_head() -> tuple[SiteModel | None, SiteHead | None]:
    model = active()
    if model is None:
        return None, None
    key = (str(db.engine.url), model.id)
    if key not in _heads:
        if len(_heads) > 16:
            _heads.clear()
        _heads[key] = SiteHead.from_json(model.head)
    return model, _heads[key]


def finish(scored: list[ScoredText], identity: ScorerIdentity
           ) -> tuple[list[ScoredText], int | None]:
    """Add the active site model's label to the base scorer's results, when it was trained
    on this scorer; returns the results and the site model's id (None when none applied)."""
    model, head = active_head()
    if model is None or model.base_scorer != identity.name or not scored:
        return scored, None
    if head.embedding and any(result.embedding is None for result in scored):
        return scored, None
    probabilities = head.predict_scored(scored)
    return [replace(result, labels={**result.labels, SITE_LABEL: round(float(p), 6)})
            for result, p in zip(scored, probabilities, strict=True)], model.id


def finish_by_id(results: dict[int, ScoredText], identity: ScorerIdentity
                 ) -> tuple[dict[int, ScoredText], int | None]:
    ids = list(results)
    finished, model_id = finish([results[i] for i in ids], identity)
    return dict(zip(ids, finished, strict=True)), model_id


def stack_label(identity: ScorerIdentity, model: SiteModel | None) -> str:
    return identity.label + (f" + {model.label}" if model is not None else "")
