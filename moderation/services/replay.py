"""What-if replay: band recent scored comments under a proposed policy and under the current one,
and compare both with what moderators decided. The evidence behind the policy editor."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from moderation.extensions import db
from moderation.models import LABELS, SITE_LABEL, Comment, CommentState, Score, utcnow
from moderation.services import policy as policies
from moderation.services.policy import BAND_CODES, band_codes

WINDOWS: dict[str, int | None] = {"7d": 7, "30d": 30, "all": None}
# Histogram bins on [0, 1]: fine enough to place a threshold to the hundredth by eye.
BINS = 50
EDGES = np.linspace(0.0, 1.0, BINS + 1)
APPROVED, UNDECIDED, REJECTED = 1, 0, -1  # History.verdict codes (histograms() relies on them)
# A share resting on fewer decisions than this is shown, but marked as too few to go by.
FEW_DECISIONS = 10
_BAND_NAMES = tuple(band.value for band in BAND_CODES)


@dataclass(frozen=True)
class BandCounts:
    approve: int
    queue: int
    reject: int

    @property
    def total(self) -> int:
        return self.approve + self.queue + self.reject

    @classmethod
    def of(cls, codes: np.ndarray) -> BandCounts:
        approve, queue, reject = np.bincount(codes, minlength=3)[:3]
        return cls(approve=int(approve), queue=int(queue), reject=int(reject))


@dataclass(frozen=True)
class Agreement:
    decided: int
    mod_rejected: int
    mod_approved: int
    auto_rejected: int  # decided comments in the reject band
    correct_rejects: int  # of those, moderator-rejected
    precision: float | None  # None when undefined (0 denominators)
    recall: float | None
    wrongly_approved: int  # moderator-rejected comments that land in the approve band

    @property
    def precision_thin(self) -> bool:
        return self.auto_rejected < FEW_DECISIONS

    @property
    def recall_thin(self) -> bool:
        return self.mod_rejected < FEW_DECISIONS

    @classmethod
    def of(cls, codes: np.ndarray, verdict: np.ndarray) -> Agreement:
        rejected = verdict == REJECTED
        decided = verdict != UNDECIDED
        in_reject = codes == 2
        mod_rejected = int(rejected.sum())
        auto_rejected = int((decided & in_reject).sum())
        correct = int((rejected & in_reject).sum())
        return cls(
            decided=int(decided.sum()),
            mod_rejected=mod_rejected,
            mod_approved=int((verdict == APPROVED).sum()),
            auto_rejected=auto_rejected,
            correct_rejects=correct,
            precision=correct / auto_rejected if auto_rejected else None,
            recall=correct / mod_rejected if mod_rejected else None,
            wrongly_approved=int((rejected & (codes == 0)).sum()),
        )


@dataclass(frozen=True)
class LabelHistogram:
    label: str
    edges: list[float]  # BINS + 1 edges on [0, 1]
    approved: list[int]  # per bin, comments moderators approved
    rejected: list[int]
    undecided: list[int]

    @property
    def total(self) -> int:
        return sum(self.approved) + sum(self.rejected) + sum(self.undecided)


# eq=False: numpy arrays do not compare (or hash) as one value.
@dataclass(frozen=True, eq=False)
class History:
    """Scored comments as arrays: values is N x len(LABELS) (NaN where the model produced no
    value), verdict is 1 moderator-approved, -1 moderator-rejected, 0 not decided by a person."""

    values: np.ndarray
    verdict: np.ndarray
    ids: np.ndarray | None = None  # comment ids, row for row, for showing examples
    # Row for row: published on this site (approved, not imported), for "published comments
    # the proposal puts in its reject band".
    published: np.ndarray | None = None

    def __post_init__(self):
        if self.values.ndim != 2 or self.values.shape[1] != len(LABELS):
            raise ValueError(f"values must be N x {len(LABELS)}, not {self.values.shape}")
        if len(self.verdict) != len(self.values):
            raise ValueError("values and verdict must have one row per comment")

    def __len__(self) -> int:
        return len(self.verdict)

    @classmethod
    def empty(cls) -> History:
        return cls(np.empty((0, len(LABELS)), dtype=float), np.empty(0, dtype=np.int8))


@dataclass(frozen=True)
class Replay:
    window: str
    total: int
    now: BandCounts
    proposed: BandCounts
    agreement_now: Agreement
    agreement_proposed: Agreement
    # Share of the comments in the queue band now that the proposal takes out of it
    # (None when the queue band is empty now).
    queue_removed: float | None
    moved: dict[str, dict[str, int]]  # band now -> band proposed -> comments
    histograms: dict[str, LabelHistogram]
    seconds: float
    # A few comment ids per move, for the admin to read: "into_reject" (newly in the reject
    # band), "into_approve" (newly published without review), "into_queue" (newly queued).
    examples: dict[str, list[int]] = field(default_factory=dict)
    # Published comments in the window the proposal puts in its reject band (the same ones
    # policy_versions.published_in_reject_band finds to send back), from the history.
    published_reject: int = 0


def _known(window: str) -> str:
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}: use one of {', '.join(WINDOWS)}")
    return window


def window_start(window: str, now: datetime | None = None) -> datetime | None:
    """When the window opens; None for "all". An unknown window is a ValueError."""
    days = WINDOWS[_known(window)]
    if days is None:
        return None
    return (now or utcnow()) - timedelta(days=days)


def counted_column(label: str):
    """A score column as the policy reads it now: the site label only from the active model."""
    if label != SITE_LABEL:
        return getattr(Score, label)
    active = policies.active_site_model_id()
    return db.case((Score.site_model_id == active, Score.site_reject), else_=None) \
        if active is not None else db.null()


def load_history(window: str = "30d", now: datetime | None = None) -> History:
    """Every scored comment created in the window, with its current score's labels and the
    moderator's verdict, in one query."""
    since = window_start(window, now)
    verdict = db.case(
        (Comment.verdict == "approved", APPROVED),
        (Comment.verdict == "rejected", REJECTED),
        else_=UNDECIDED,
    )
    published = db.case((db.and_(Comment.state == CommentState.APPROVED,
                                 Comment.import_id.is_(None)), 1), else_=0)
    query = (
        db.select(*(counted_column(label) for label in LABELS), verdict, Comment.id, published)
        .select_from(Comment)
        .join(Score, db.and_(
            Score.comment_id == Comment.id,
            Score.scorer_name == Comment.scorer_name,
            Score.scorer_version == Comment.scorer_version,
        ))
        .where(Comment.scored_at.is_not(None))
    )
    if since is not None:
        query = query.where(Comment.created_at >= since)
    # The driver's plain tuples straight into one float array (None becomes NaN). Building a
    # Row per comment and having numpy read it back costs seconds at 100k comments; this is
    # the driver's fetch and little else.
    result = db.session.connection().execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    if not rows:
        return History.empty()
    table = np.array(rows, dtype=float)
    # Ids are below 2^31, exact in a float64.
    return History(values=table[:, :len(LABELS)], verdict=table[:, len(LABELS)].astype(np.int8),
                   ids=table[:, len(LABELS) + 1].astype(np.int64),
                   published=table[:, len(LABELS) + 2].astype(bool))


def histograms(history: History) -> dict[str, LabelHistogram]:
    """Per label, how many comments fall in each bin, split by the moderator's call. Labels the
    policy has off are included: their spread still informs turning them on."""
    # Same bins as np.histogram: half-open [a, b), the last one closed; outliers are clipped.
    # NaN sorts past the last edge; those entries are masked out below.
    bins = np.clip(np.searchsorted(EDGES, history.values, side="right") - 1, 0, BINS - 1)
    # One bincount per label: rows 0, 1, 2 of the result are rejected, undecided, approved.
    keyed = bins + (history.verdict.astype(np.intp) - REJECTED)[:, None] * BINS
    present = ~np.isnan(history.values)
    found = {}
    for index, label in enumerate(LABELS):
        counts = np.bincount(keyed[present[:, index], index], minlength=3 * BINS)
        rejected, undecided, approved = counts.reshape(3, BINS).tolist()
        found[label] = LabelHistogram(label=label, edges=EDGES.tolist(), approved=approved,
                                      rejected=rejected, undecided=undecided)
    return found


def replay(proposed: Any, current: Any, window: str = "30d", now: datetime | None = None,
           history: History | None = None) -> Replay:
    """Band the window's scored comments under `current` and `proposed` (anything with
    .thresholds and .reject_action) from the same scores, and count what would change."""
    started = time.perf_counter()
    _known(window)  # also when given a history: the window names what it covers
    if history is None:
        history = load_history(window, now)
    codes_now = band_codes(history.values, current)
    codes_proposed = band_codes(history.values, proposed)
    in_queue = codes_now == 1
    queued = int(in_queue.sum())
    leaving = int((in_queue & (codes_proposed != 1)).sum())
    pairs = np.bincount(codes_now.astype(np.intp) * 3 + codes_proposed, minlength=9)
    moved = {
        before: {after: int(pairs[3 * i + j]) for j, after in enumerate(_BAND_NAMES)}
        for i, before in enumerate(_BAND_NAMES)
    }
    return Replay(
        window=window,
        total=len(history),
        now=BandCounts.of(codes_now),
        proposed=BandCounts.of(codes_proposed),
        agreement_now=Agreement.of(codes_now, history.verdict),
        agreement_proposed=Agreement.of(codes_proposed, history.verdict),
        queue_removed=leaving / queued if queued else None,
        moved=moved,
        histograms=histograms(history),
        seconds=time.perf_counter() - started,
        examples=_examples(history, codes_now, codes_proposed),
        published_reject=0 if history.published is None
        else int((history.published & (codes_proposed == 2)).sum()),
    )


EXAMPLES = 5
DISAGREEING = 3
# Moves an admin should read before saving, by the band comments move into.
MOVES = (("into_reject", 2), ("into_approve", 0), ("into_queue", 1))


def _against(history: History, codes_now: np.ndarray, code: int) -> np.ndarray:
    """Per comment, whether its moderator's call argues against moving it into band `code`:
    approved ones into the reject band, rejected ones into the approve band, and into the
    queue those whose call agreed with the band they leave (a review nobody needed)."""
    if code == 2:
        return history.verdict == APPROVED
    if code == 0:
        return history.verdict == REJECTED
    return (((codes_now == 0) & (history.verdict == APPROVED))
            | ((codes_now == 2) & (history.verdict == REJECTED)))


def _examples(history: History, codes_now: np.ndarray, codes_proposed: np.ndarray
              ) -> dict[str, list[int]]:
    """Up to EXAMPLES ids per move: first up to DISAGREEING of the comments a moderator
    decided the other way (the cost of the change), then the others, each spread evenly over
    the move so the sample is not just its extremes."""
    if history.ids is None or not len(history):
        return {}
    found = {}
    for name, code in MOVES:
        moving = np.flatnonzero((codes_now != code) & (codes_proposed == code))
        against = moving[_against(history, codes_now, code)[moving]]
        first = _spread(against, DISAGREEING)
        rest = _spread(np.setdiff1d(moving, first, assume_unique=True), EXAMPLES - len(first))
        found[name] = [int(history.ids[index]) for index in np.concatenate((first, rest))]
    return found


def _spread(indices: np.ndarray, count: int) -> np.ndarray:
    if count <= 0 or not len(indices):
        return indices[:0]
    return indices[np.linspace(0, len(indices) - 1, min(count, len(indices))).astype(int)]


def example_comments(result: Replay) -> dict[str, list[Comment]]:
    """The comments behind result.examples, in one query, in the same order."""
    wanted = {comment_id for ids in result.examples.values() for comment_id in ids}
    if not wanted:
        return {name: [] for name in result.examples}
    found = {comment.id: comment for comment in db.session.execute(
        db.select(Comment).where(Comment.id.in_(wanted))).scalars()}
    return {name: [found[comment_id] for comment_id in ids if comment_id in found]
            for name, ids in result.examples.items()}
