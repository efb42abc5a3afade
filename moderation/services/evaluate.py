"""How well the configured scorer, and the active policy's bands, separate a labelled file's
positives from the rest. The metrics are pure functions of scores, bands and labels."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from moderation.models import LABELS, Band, Policy
from moderation.scoring import Scorer, ScorerIdentity
from moderation.services import policy as policies
from moderation.services.importer import DELIMITER_NAMES, sniff_delimiter

BATCH_SIZE = 64


class EvaluateError(ValueError):
    """The file cannot be evaluated as asked; the message says why, for a person."""


@dataclass
class LabelledRows:
    texts: list[str]
    positives: list[bool]
    skipped: int  # rows with an empty text or label
    labels_seen: list[str]  # distinct values of the label column, a few


@dataclass(frozen=True)
class Ranking:
    """Threshold-free: how well one score orders positives above negatives."""

    roc_auc: float | None
    average_precision: float | None
    reason: str | None = None  # why the numbers are missing


@dataclass(frozen=True)
class BandReport:
    """The reject band taken as the prediction "positive"."""

    rows: int
    positives: int
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    precision: float | None
    recall: float | None
    f1: float | None
    queued: int  # left for moderators
    queue_share: float | None
    approved: int
    approved_positives: int  # positives the policy would publish without anyone looking


@dataclass
class Evaluation:
    rows: int
    positives: int
    skipped: int
    positive_value: str
    labels_seen: list[str]  # a few values of the label column: a misspelt --positive shows
    scorer: ScorerIdentity
    policy_version: int | None
    reject_action: str
    labels: dict[str, Ranking]
    risk: Ranking
    bands: BandReport

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "positives": self.positives,
            "skipped": self.skipped,
            "positive_value": self.positive_value,
            "labels_seen": self.labels_seen,
            "scorer": {"name": self.scorer.name, "version": self.scorer.version},
            "labels": {label: asdict(ranking) for label, ranking in self.labels.items()},
            "risk": asdict(self.risk),
            "policy": {"version": self.policy_version, "reject_action": self.reject_action,
                       **asdict(self.bands)},
        }


def read_labelled(path: Path, *, text_column: str, label_column: str, positive: str,
                  delimiter: str | None = None, limit: int | None = None) -> LabelledRows:
    """Rows with a text and a label, up to `limit`; the label is compared without case."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read(handle, path, text_column, label_column, positive, delimiter, limit)
    except UnicodeDecodeError:
        raise EvaluateError(f"{path} is not UTF-8 text.") from None
    except csv.Error as error:
        raise EvaluateError(f"{path} could not be read as CSV/TSV: {error}.") from None


def _read(handle, path, text_column, label_column, positive, delimiter, limit) -> LabelledRows:
    first = handle.readline()
    if not first.strip():
        raise EvaluateError(f"{path} is empty: it needs a header line naming the columns.")
    delimiter = delimiter or sniff_delimiter(first, path.name)
    handle.seek(0)
    reader = csv.reader(handle, delimiter=delimiter)
    header = [name.strip().lstrip("\ufeff") for name in next(reader)]
    missing = [name for name in (text_column, label_column) if name not in header]
    if missing:
        raise EvaluateError(
            f"No column {' or '.join(repr(name) for name in missing)} in {path}; columns found "
            f"(split by {DELIMITER_NAMES.get(delimiter, repr(delimiter))}): "
            f"{', '.join(repr(name) for name in header)}.")
    text_index, label_index = header.index(text_column), header.index(label_column)
    wanted = positive.strip().casefold()
    rows = LabelledRows([], [], 0, [])
    for cells in reader:
        if limit is not None and len(rows.texts) >= limit:
            break
        if not any(cell.strip() for cell in cells):
            continue
        text = cells[text_index].strip() if text_index < len(cells) else ""
        label = cells[label_index].strip() if label_index < len(cells) else ""
        if not text or not label:
            rows.skipped += 1
            continue
        if label not in rows.labels_seen and len(rows.labels_seen) < 10:
            rows.labels_seen.append(label)
        rows.texts.append(text)
        rows.positives.append(label.casefold() == wanted)
    if not rows.texts:
        raise EvaluateError(f"{path} has no rows with both a {text_column!r} and a "
                            f"{label_column!r}.")
    return rows


def score_texts(scorer: Scorer, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
                on_batch: Callable[[int], None] | None = None) -> list[dict[str, float]]:
    labels: list[dict[str, float]] = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start:start + batch_size]
        labels.extend(dict(scored.labels) for scored in scorer.score(batch))
        if on_batch:
            on_batch(len(batch))
    return labels


def _one_class_reason(positives: Sequence[bool]) -> str | None:
    count = sum(positives)
    if count == 0:
        return f"only one class: none of the {len(positives):,} rows is positive"
    if count == len(positives):
        return f"only one class: all {len(positives):,} rows are positive"
    return None


def ranking(scores: Sequence[float], positives: Sequence[bool]) -> Ranking:
    """ROC-AUC and average precision of `scores` against `positives`."""
    if reason := _one_class_reason(positives):
        return Ranking(None, None, reason)
    from sklearn.metrics import average_precision_score, roc_auc_score  # slow to import

    return Ranking(float(roc_auc_score(positives, scores)),
                   float(average_precision_score(positives, scores)))


def label_rankings(scored: Sequence[Mapping[str, float]], positives: Sequence[bool],
                   labels: Sequence[str] = LABELS) -> dict[str, Ranking]:
    """Per label. A label absent from a text's scores counts as 0 there, as in the policy;
    absent from every text, the scorer does not produce it."""
    rankings = {}
    for label in labels:
        if not any(label in labels_of_text for labels_of_text in scored):
            rankings[label] = Ranking(None, None, "the scorer does not produce this label")
            continue
        rankings[label] = ranking([float(labels_of_text.get(label, 0.0))
                                   for labels_of_text in scored], positives)
    return rankings


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def band_report(bands: Sequence[Band], positives: Sequence[bool]) -> BandReport:
    if len(bands) != len(positives):
        raise ValueError("one band per label")
    pairs = list(zip(bands, positives, strict=True))
    true_positives = sum(band is Band.REJECT and positive for band, positive in pairs)
    false_positives = sum(band is Band.REJECT and not positive for band, positive in pairs)
    false_negatives = sum(band is not Band.REJECT and positive for band, positive in pairs)
    true_negatives = len(pairs) - true_positives - false_positives - false_negatives
    precision = _ratio(true_positives, true_positives + false_positives)
    recall = _ratio(true_positives, true_positives + false_negatives)
    f1 = None
    if precision is not None and recall is not None:
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    queued = sum(band is Band.QUEUE for band in bands)
    return BandReport(
        rows=len(pairs), positives=sum(positives),
        true_positives=true_positives, false_positives=false_positives,
        false_negatives=false_negatives, true_negatives=true_negatives,
        precision=precision, recall=recall, f1=f1,
        queued=queued, queue_share=_ratio(queued, len(pairs)),
        approved=sum(band is Band.APPROVE for band in bands),
        approved_positives=sum(band is Band.APPROVE and positive for band, positive in pairs),
    )


def evaluate(rows: LabelledRows, scored: Sequence[Mapping[str, float]], *, positive: str,
             identity: ScorerIdentity, policy: Policy) -> Evaluation:
    positives = rows.positives
    labels = label_rankings(scored, positives)
    risk = ranking([policies.risk(labels_of_text, policy) for labels_of_text in scored],
                   positives)
    bands = band_report([policies.band(labels_of_text, policy) for labels_of_text in scored],
                        positives)
    return Evaluation(
        rows=len(positives), positives=sum(positives), skipped=rows.skipped,
        positive_value=positive, labels_seen=rows.labels_seen, scorer=identity,
        policy_version=policy.version, reject_action=policy.reject_action, labels=labels,
        risk=risk, bands=bands,
    )
