"""Unintended identity bias, measured the way Borkan et al. (2019, "Nuanced Metrics for
Measuring Unintended Bias with Real Data for Text Classification") define it, on template
sentences in the style of Dixon et al. (2018): each template names a group, benign or hateful.

Per identity term:
- subgroup AUC: hateful vs benign, both mentioning the term (can it tell them apart?);
- BPSN AUC (background positive, subgroup negative): benign mentioning the term vs hateful
  not mentioning it (low: the term alone raises the score);
- BNSP AUC (background negative, subgroup positive): hateful mentioning the term vs benign not
  mentioning it (low: hate about this group scores too low)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TemplateSentence:
    term: str
    text: str
    hateful: bool


@dataclass(frozen=True)
class TermBias:
    term: str
    subgroup_auc: float
    bpsn_auc: float
    bnsp_auc: float
    benign_not_approved: float  # share of the term's benign sentences outside the approve band
    hateful_approved: float  # share of the term's hateful sentences published at once

    @property
    def worst(self) -> float:
        return min(self.subgroup_auc, self.bpsn_auc, self.bnsp_auc)


def fill(templates: Sequence[tuple[str, bool]], terms: Sequence[str]) -> list[TemplateSentence]:
    """Every template with every term: (template with "{group}", hateful) pairs."""
    sentences = []
    for template, hateful in templates:
        for term in terms:
            text = template.replace("{group}", term)
            sentences.append(TemplateSentence(term, text[:1].upper() + text[1:], hateful))
    return sentences


def auc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """ROC-AUC from two score samples (ties count half): P(positive ranks above negative)."""
    negatives, positives = np.asarray(negatives, float), np.asarray(positives, float)
    if not len(negatives) or not len(positives):
        return float("nan")
    order = np.concatenate([negatives, positives])
    ranks = _ranks(order)
    positive_ranks = ranks[len(negatives):].sum()
    n_pos, n_neg = len(positives), len(negatives)
    return float((positive_ranks - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _ranks(values: np.ndarray) -> np.ndarray:
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def bias_by_term(sentences: Sequence[TemplateSentence], risk: Sequence[float],
                 approved: Sequence[bool]) -> list[TermBias]:
    """One row per term, in the order the terms first appear."""
    risk = np.asarray(risk, dtype=float)
    approved = np.asarray(approved, dtype=bool)
    terms = list(dict.fromkeys(s.term for s in sentences))
    term_of = np.array([s.term for s in sentences])
    hateful = np.array([s.hateful for s in sentences])
    rows = []
    for term in terms:
        mine = term_of == term
        rows.append(TermBias(
            term,
            subgroup_auc=auc(risk[mine & ~hateful], risk[mine & hateful]),
            bpsn_auc=auc(risk[mine & ~hateful], risk[~mine & hateful]),
            bnsp_auc=auc(risk[~mine & ~hateful], risk[mine & hateful]),
            benign_not_approved=float((~approved[mine & ~hateful]).mean()),
            hateful_approved=float(approved[mine & hateful].mean()),
        ))
    return rows
