"""How a scorer does under a policy's thresholds on text nobody fitted it to: the share of
ordinary comments it does not approve, the share of harm it keeps out of the approve band, how
it ranks OLID's held-out tweets, and its identity bias per term.

The sets live in tests/data/ (written apart from the training corpus and the examples, never
read by train_heads) and ../shared/data/olid/ (its test fifth, never fitted on). Scoring stays a
library: thresholds come in as a plain mapping of label -> (approve below, reject at or above)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .fairness import TermBias, auc, bias_by_term, fill
from .train_heads import OLID, olid_part, read_olid

SETS = Path(__file__).resolve().parents[2] / "tests" / "data"
LONG_WORDS = 80


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


@dataclass
class Bands:
    """What the approve/reject thresholds make of a set of scored texts."""

    thresholds: Mapping[str, tuple[float, float]]

    def risk(self, labels: Mapping[str, float]) -> float:
        return max((v for k, v in labels.items() if k in self.thresholds), default=0.0)

    def approved(self, labels: Mapping[str, float]) -> bool:
        return all(v < self.thresholds[k][0] for k, v in labels.items() if k in self.thresholds)

    def held(self, labels: Mapping[str, float]) -> bool:
        return any(v >= self.thresholds[k][1] for k, v in labels.items() if k in self.thresholds)


@dataclass
class SetReport:
    name: str
    rows: int
    figures: dict = field(default_factory=dict)


def _share(flags: Sequence[bool]) -> float | None:
    return round(float(np.mean(flags)), 4) if len(flags) else None


def benign(score: Callable, bands: Bands, path: Path) -> SetReport:
    rows = _rows(path)
    texts = [row["text"] for row in rows]
    scored = score(texts)
    not_approved = [not bands.approved(s.labels) for s in scored]
    long_ = [len(t.split()) > LONG_WORDS for t in texts]
    by_topic: dict[str, list[bool]] = {}
    for row, flag in zip(rows, not_approved, strict=True):
        by_topic.setdefault(row.get("topic", ""), []).append(flag)
    return SetReport(path.name, len(rows), {
        "not_approved": _share(not_approved),
        "held": _share([bands.held(s.labels) for s in scored]),
        "long_not_approved": _share([f for f, lg in zip(not_approved, long_, strict=True) if lg]),
        "short_not_approved": _share([f for f, lg in zip(not_approved, long_, strict=True)
                                      if not lg]),
        "long_rows": int(sum(long_)),
        "by_topic": {topic: _share(flags) for topic, flags in sorted(by_topic.items())},
        "examples_not_approved": [t for t, f in zip(texts, not_approved, strict=True) if f][:20],
    })


def devset(score: Callable, bands: Bands, path: Path) -> SetReport:
    rows = _rows(path)
    scored = score([row["text"] for row in rows])
    harmful = np.array([row["label"] == "harmful" for row in rows])
    risk = np.array([bands.risk(s.labels) for s in scored])
    approved = np.array([bands.approved(s.labels) for s in scored])
    by_category: dict[str, list[bool]] = {}
    for row, ok in zip(rows, approved, strict=True):
        # For harm, the share kept out; for look-alikes, the share not approved.
        by_category.setdefault(f"{row['label']}:{row['category']}", []).append(bool(not ok))
    return SetReport(path.name, len(rows), {
        "harm_kept_out": _share(list(~approved[harmful])),
        "harm_held": _share([bands.held(s.labels) for s, h in zip(scored, harmful, strict=True)
                             if h]),
        "benign_not_approved": _share(list(~approved[~harmful])),
        "risk_auc": round(auc(risk[~harmful], risk[harmful]), 4),
        "by_category": {k: _share(v) for k, v in sorted(by_category.items())},
        "harm_published": [row["text"] for row, ok, h in zip(rows, approved, harmful,
                                                            strict=True) if ok and h][:20],
    })


def olid_test(score: Callable, bands: Bands, path: Path = OLID) -> SetReport:
    rows = [(text, offensive) for tweet_id, text, offensive in read_olid(path)
            if olid_part(tweet_id) == "test"]
    scored = score([text for text, _ in rows])
    offensive = np.array([o for _, o in rows])
    risk = np.array([bands.risk(s.labels) for s in scored])
    approved = np.array([bands.approved(s.labels) for s in scored])
    return SetReport("OLID test fifth", len(rows), {
        "risk_auc": round(auc(risk[~offensive], risk[offensive]), 4),
        "not_offensive_not_approved": _share(list(~approved[~offensive])),
        "offensive_kept_out": _share(list(~approved[offensive])),
    })


def identity(score: Callable, bands: Bands, folder: Path = SETS
             ) -> tuple[SetReport, list[TermBias]]:
    templates = [(row["template"], row["label"] == "hateful")
                 for row in _rows(folder / "identity_templates.tsv")]
    terms = [line.strip() for line in (folder / "identity_terms.txt").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    sentences = fill(templates, terms)
    scored = score([s.text for s in sentences])
    approved = [bands.approved(s.labels) for s in scored]
    rows = bias_by_term(sentences, [bands.risk(s.labels) for s in scored], approved)
    benign_flags = [not ok for s, ok in zip(sentences, approved, strict=True) if not s.hateful]
    hateful_out = [not ok for s, ok in zip(sentences, approved, strict=True) if s.hateful]
    return SetReport("identity templates", len(sentences), {
        "terms": len(terms),
        "benign_not_approved": _share(benign_flags),
        "hateful_kept_out": _share(hateful_out),
        "worst_subgroup_auc": round(min(r.subgroup_auc for r in rows), 4),
        "worst_bpsn_auc": round(min(r.bpsn_auc for r in rows), 4),
        "worst_bnsp_auc": round(min(r.bnsp_auc for r in rows), 4),
    }), rows
