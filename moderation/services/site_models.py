"""Site models: learn the site's own line from moderators' decisions (and imported history),
prove it on decisions it never saw, and only then let it band comments.

Training reads every decided comment whose current score came from the base scorer, oldest
first; the most recent 20% are held out. The candidate is compared with the base scorer on
those: ROC-AUC of its probability against the base's risk, and the reject band's precision and
recall under the active policy with and without it. A model that ranks the held-out decisions
no better than the base is stored (its evidence is worth seeing) but can never be activated."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sqlalchemy.exc import IntegrityError

from moderation.extensions import db
from moderation.models import BASE_LABELS, SITE_LABEL, Comment, SiteModel, User, utcnow
from moderation.scoring import ScoredText, ScorerIdentity
from moderation.scoring.site_model import SiteHead
from moderation.services import admin_log, policy_versions
from moderation.services import policy as policies
from moderation.services.site_evidence import (
    TrainingError,
    check_enough,
    decided,
    evidence,
    held_out_auc,
    split,
    with_site_rule,
)


def train(base_scorer: str, *, actor: User | None = None, note: str = "") -> SiteModel:
    """Fit a candidate on the older 80% of the decisions and record its held-out evidence.
    It is not activated here."""
    data = decided(base_scorer)
    train_part, test_part = split(data)
    check_enough(data, train_part, test_part, base_scorer)
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
        proof["active_version"] = current.version
        current_head = SiteHead.from_json(current.head)
        if not current_head.embedding or data.embeddings is not None:
            columns = [BASE_LABELS.index(label) for label in current_head.labels]
            test_embeddings = (data.embeddings[test_part] if current_head.embedding else None)
            proof["active_auc"] = held_out_auc(current_head.predict(
                data.values[test_part][:, columns], test_embeddings), data.rejected[test_part])
    latest = db.session.execute(db.select(db.func.max(SiteModel.version))).scalar_one() or 0
    model = SiteModel(version=latest + 1, base_scorer=base_scorer, head=head.to_json(),
                      evidence=proof, beats_base=proof["site_auc"] > proof["base_auc"],
                      note=(note or "").strip()[:2000] or None, trained_at=utcnow(),
                      trained_by_id=actor.id if actor else None,
                      decisions_seen=int(len(data.ids)))
    db.session.add(model)
    _flush_or(f"Another site model was trained at the same moment as v{model.version}; "
              "nothing was saved. Train again.")
    admin_log.record(actor, "site_model.train", model.label, version=model.version,
                     base_scorer=base_scorer, base_auc=proof["base_auc"],
                     site_auc=proof["site_auc"], beats_base=model.beats_base)
    return model


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
    decisions and may be activated (can_activate). None when it was not time, or there is
    too little to learn from."""
    if every <= 0 or decisions_since_last_training(base_scorer) < every:
        return None
    try:
        model = train(base_scorer, note=f"retrained by the worker after {every}+ new decisions")
    except TrainingError:
        return None
    if better_than_active(model) and can_activate(model, base_scorer) is None:
        activate(model.version, actor=None, base_scorer=base_scorer)
    return model


def _flush_or(message: str) -> None:
    """Flush in a savepoint; a uniqueness race becomes a TrainingError saying `message`."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise TrainingError(message) from None


def better_than_active(model: SiteModel) -> bool:
    """Whether the candidate beats the base and the model active when it was trained. With
    an active model it could not be compared with, no."""
    ev = model.evidence
    if not model.beats_base:
        return False
    if "active_version" not in ev:
        return True
    return ev.get("active_auc") is not None and ev["site_auc"] > ev["active_auc"]


def models() -> list[SiteModel]:
    return list(db.session.execute(
        db.select(SiteModel).order_by(SiteModel.version.desc())).scalars())


def by_version(version: int) -> SiteModel | None:
    return db.session.execute(
        db.select(SiteModel).where(SiteModel.version == version)).scalar_one_or_none()


def active() -> SiteModel | None:
    return db.session.execute(
        db.select(SiteModel).where(SiteModel.active)).scalar_one_or_none()


def can_activate(model: SiteModel, base_scorer: str) -> str | None:
    """None when `model` may be activated now, else why not (for a person)."""
    if model.active:
        return f"Site model v{model.version} is already active."
    if not model.beats_base:
        ev = model.evidence
        return (f"Site model v{model.version} ranked the held-out decisions no better than the "
                f"base scorer (ROC-AUC {ev['site_auc']:.3f} against {ev['base_auc']:.3f}); it "
                "cannot be activated.")
    if model.base_scorer != base_scorer:
        return (f"Site model v{model.version} was trained on {model.base_scorer} scores, but "
                f"comments are scored by {base_scorer} now; train a new one.")
    return more_work_for_nothing(model)


def more_work_for_nothing(model: SiteModel) -> str | None:
    """Why not, when on the held-out decisions the model would send moderators a larger share
    of comments without making the reject band any more precise; else None."""
    if "deployed_auc" not in model.evidence:
        # Measured when the site label could only add to the queue: not what it would do now.
        return (f"Site model v{model.version}'s evidence was measured under the earlier banding "
                "rule (the site label only adding to the queue); train a new one to see what "
                "it would do now.")
    before = model.evidence.get("base_at_thresholds") or {}
    after = model.evidence.get("site_at_thresholds") or {}
    if "queued_share" not in before or "queued_share" not in after:
        return None
    if after["queued_share"] <= before["queued_share"]:
        return None
    if (after.get("precision") or 0.0) > (before.get("precision") or 0.0):
        return None
    return (f"Site model v{model.version} would queue {after['queued_share']:.1%} of the "
            f"held-out comments instead of {before['queued_share']:.1%} without a more precise "
            "reject band; it cannot be activated.")


def activate(version: int, *, actor: User | None, base_scorer: str) -> SiteModel:
    model = by_version(version)
    if model is None:
        raise LookupError(f"There is no site model version {version}.")
    if (why := can_activate(model, base_scorer)) is not None:
        raise TrainingError(why)
    current = active()
    model.replaced_id = current.id if current else None
    model.retired_at = None
    _switch(current, model, actor, "site_model.activate")
    return model


def rollback(*, actor: User | None) -> SiteModel | None:
    """Back to the model the active one replaced, skipping any rolled back before (or to no
    site model); the active one is retired. Returns the model now active, or None."""
    current = active()
    if current is None:
        raise TrainingError("No site model is active: there is nothing to roll back.")
    current.retired_at = utcnow()
    previous, seen = current, {current.id}
    while previous is not None:
        previous = db.session.get(SiteModel, previous.replaced_id) if previous.replaced_id \
            else None
        if previous is None or previous.id in seen:
            previous = None
            break
        seen.add(previous.id)
        if previous.retired_at is None:
            break
    _switch(current, previous, actor, "site_model.rollback")
    return previous


def _switch(current: SiteModel | None, model: SiteModel | None, actor: User | None,
            action: str) -> None:
    race = "Another admin (or a worker) changed the active site model at the same moment; " \
           "nothing was changed. Reload and try again."
    if current is not None:
        # Deactivate first, only if still active: the database allows one active row.
        done = db.session.execute(
            db.update(SiteModel).where(SiteModel.id == current.id, SiteModel.active)
            .values(active=False).execution_options(synchronize_session="fetch")).rowcount
        if done != 1:
            raise TrainingError(race)
    if model is not None:
        model.active = True
        model.activated_at = utcnow()
        model.activated_by_id = actor.id if actor else None
        _flush_or(race)
        _ensure_site_rule(model, actor)
    admin_log.record(actor, action, model.label if model else "no site model",
                     version=model.version if model else None,
                     previous=current.version if current else None)


def _ensure_site_rule(model: SiteModel, actor: User | None) -> None:
    """A policy with the site label off (or saved before site models existed) would let the
    model score without banding anything: turn it on, at the policy's thresholds for it or the
    defaults, as a new version, so the history says why."""
    policy = policies.active_policy()
    if policies.rule_for(policy.thresholds, SITE_LABEL)["enabled"]:
        return
    try:
        policy_versions.save(with_site_rule(policy).thresholds, policy.reject_action,
                             actor=actor, note=f"{model.label} activated: "
                             f"{SITE_LABEL.replace('_', ' ')} thresholds turned on")
    except policy_versions.PolicyError as error:
        raise TrainingError(str(error)) from None


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
