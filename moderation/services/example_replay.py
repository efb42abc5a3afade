"""What an example change would do, before it is made: the recent comments the offline
composite scored are banded again from their stored embeddings, with the example set as it is
and as it would be, under the active policy. No model runs here: the comments' embeddings are
stored with their scores, the examples' by the worker (services/examples.store_vectors)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from moderation.extensions import db
from moderation.models import LABELS, SITE_LABEL, Comment, ExampleVector, Score
from moderation.scoring.composite import CompositeScorer, labels_from_parts
from moderation.scoring.examples import Example, NearExamples
from moderation.scoring.heads import Heads
from moderation.services import policy as policies
from moderation.services.examples import active, text_key
from moderation.services.site_evidence import unpack_embedding

RECENT = 2000  # the newest comments the composite scored: enough to see a change's reach


@dataclass
class ExampleReplay:
    comments: int = 0
    before: dict[str, int] = field(default_factory=dict)  # band -> comments
    after: dict[str, int] = field(default_factory=dict)
    moved: list[tuple[int, str, str]] = field(default_factory=list)  # (comment id, from, to)
    missing_vectors: int = 0  # examples the worker has not embedded yet

    @property
    def ready(self) -> bool:
        return self.missing_vectors == 0

    def moves(self) -> dict[tuple[str, str], int]:
        return dict(Counter((before, after) for _, before, after in self.moved))


def _composite() -> CompositeScorer:
    """The configured composite (its identity needs no model loaded), or one as shipped."""
    from moderation.services.scorer import scorer_choice

    scorer = scorer_choice().scorer
    return scorer if isinstance(scorer, CompositeScorer) else CompositeScorer()


def _vectors(examples: list[Example], encoder: str) -> tuple[np.ndarray | None, int]:
    keys = {text_key(e.text) for e in examples}
    stored = dict(db.session.execute(
        db.select(ExampleVector.text_sha256, ExampleVector.vector)
        .where(ExampleVector.encoder == encoder, ExampleVector.text_sha256.in_(keys))).all())
    missing = len(keys - set(stored))
    if missing:
        return None, missing
    return np.vstack([unpack_embedding(stored[text_key(e.text)]) for e in examples]), 0


def _recent(limit: int, composite: CompositeScorer):
    """The newest comments scored by this composite's models (any example set: an older
    encoder's or heads' embeddings and labels would not replay), with the site label only where
    the active site model gave it."""
    models = composite.identity.version.split("+ex:")[0]
    rows = db.session.execute(
        db.select(Comment.id, Score.embedding, Score.windows, Score.site_model_id,
                  *(getattr(Score, label) for label in LABELS))
        .join(Score, db.and_(Score.comment_id == Comment.id,
                             Score.scorer_name == Comment.scorer_name,
                             Score.scorer_version == Comment.scorer_version))
        .where(Comment.scorer_name == CompositeScorer.name, Score.embedding.is_not(None),
               Comment.scorer_version.startswith(f"{models}+ex:", autoescape=True))
        .order_by(Comment.id.desc()).limit(limit)
    ).all()
    active_site_model = policies.active_site_model_id()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    embeddings = np.vstack([unpack_embedding(row[1]) for row in rows]) if rows else None
    windows = np.array([row[2] or 1 for row in rows], dtype=np.float64)
    values = np.array([[np.nan if v is None else v for v in row[4:]] for row in rows],
                      dtype=np.float64).reshape(len(rows), len(LABELS))
    stale = np.array([row[3] is None or row[3] != active_site_model for row in rows],
                     dtype=bool)
    values[stale, LABELS.index(SITE_LABEL)] = np.nan
    return ids, embeddings, windows, values


def _labels(heads: Heads, near: NearExamples, embeddings, windows, values) -> np.ndarray:
    """The composite's labels from stored parts under this example set; the labels it does
    not give (the site model's) as stored."""
    table = values.copy()
    obscene = np.nan_to_num(values[:, LABELS.index("obscene")], nan=0.0)
    for label, column in labels_from_parts(heads, near, embeddings, obscene, windows).items():
        table[:, LABELS.index(label)] = column
    return table


def replay(*, add: list[Example] = (), remove: list[Example] = (),
           limit: int = RECENT) -> ExampleReplay:
    current = active()
    proposed = [e for e in current if e not in set(remove)] + [e for e in add
                                                               if e not in set(current)]
    composite = _composite()
    vectors, missing = _vectors(list(dict.fromkeys([*current, *proposed])),
                                composite.encoder.identity.version)
    if vectors is None:
        return ExampleReplay(missing_vectors=missing)
    position = {e: i for i, e in enumerate(dict.fromkeys([*current, *proposed]))}
    ids, embeddings, windows, values = _recent(limit, composite)
    if embeddings is None:
        return ExampleReplay()
    heads = composite.heads
    policy = policies.active_policy()
    codes = []
    for examples in (current, proposed):
        near = NearExamples(examples, vectors[[position[e] for e in examples]])
        codes.append(policies.band_codes(_labels(heads, near, embeddings, windows, values),
                                         policy))
    names = [band.value for band in policies.BAND_CODES]
    result = ExampleReplay(comments=len(ids))
    for name, which in (("before", codes[0]), ("after", codes[1])):
        counts = np.bincount(which, minlength=3)
        setattr(result, name, {names[i]: int(counts[i]) for i in range(3)})
    changed = np.flatnonzero(codes[0] != codes[1])
    result.moved = [(int(ids[i]), names[codes[0][i]], names[codes[1][i]]) for i in changed]
    return result


def moved_comments(result: ExampleReplay, limit: int = 10) -> list[tuple[Comment, str, str]]:
    """A few of the comments that would change band, for the admin to read."""
    chosen = result.moved[:limit]
    found = {c.id: c for c in db.session.execute(
        db.select(Comment).where(Comment.id.in_([i for i, _, _ in chosen]))).scalars()}
    return [(found[i], before, after) for i, before, after in chosen if i in found]

