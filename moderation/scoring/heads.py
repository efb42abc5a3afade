"""Learned label heads over a sentence embedding and the swear-word model's probability: the
offline composite's judgement of intent, not of topic.

Each label has a linear head (weights over the 384 embedding dimensions plus the logit of the
swear-word model's probability, and a bias) trained by `python -m moderation.scoring.train_heads`
on real labelled tweets and the corpus in scoring/corpus/. A head's raw logit is then calibrated
to the bands: an affine map in logit space puts a chosen share of ordinary comments under the
default policy's approve threshold and only the most extreme ones at its reject threshold, so
the shipped thresholds mean the same thing for every label. The numbers live in heads.json:
plain floats, nothing unpickled."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEADS_FILE = Path(__file__).with_name("heads.json")
_EPSILON = 1e-4


def profanity_logit(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(probabilities, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return np.log(clipped / (1 - clipped))


def features(embeddings: np.ndarray, profanity: np.ndarray) -> np.ndarray:
    """Rows of [embedding, logit(swear-word probability)]: what every head reads."""
    embeddings = np.asarray(embeddings, dtype=np.float64).reshape(len(profanity), -1)
    return np.hstack([embeddings, profanity_logit(profanity)[:, None]])


@dataclass(frozen=True)
class Head:
    weights: np.ndarray  # over features(); standardisation already folded in
    bias: float
    # logit(score) = slope * raw + offset: the calibration to the bands, which puts
    # ordinary text under `approve` and only the most extreme at `reject`.
    slope: float
    offset: float
    approve: float
    reject: float

    def raw(self, rows: np.ndarray) -> np.ndarray:
        return rows @ self.weights + self.bias

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.slope * raw + self.offset, -40, 40)))

    def raw_for(self, score: float) -> float:
        """The raw logit that calibrates to `score` (the inverse of calibrate)."""
        return (math.log(score / (1 - score)) - self.offset) / self.slope


@dataclass(frozen=True)
class Heads:
    labels: tuple[str, ...]
    heads: dict[str, Head]
    # Per window beyond the first, a long comment's raw logit is lowered by this much times
    # log(windows): the most suspicious of many sentences is otherwise a high draw by chance.
    length_penalty: float
    fingerprint: str
    # sha256 of the encoder adapter the heads were trained on (None: the published encoder).
    adapter: str | None = None
    # How far (in logits past its approve threshold) a label may rise above the general
    # "toxicity" head, which has seen every kind of harm and the most text: a specific head
    # names the kind of harm, but alone it cannot make a comment the general head finds
    # ordinary look harmful. None: no cap.
    gate: float | None = None
    GENERAL = "toxicity"

    @classmethod
    def load(cls, path: Path = HEADS_FILE) -> Heads:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        heads = {label: Head(np.asarray(rule["weights"], dtype=np.float64),
                             float(rule["bias"]), float(rule["slope"]), float(rule["offset"]),
                             float(rule["approve"]), float(rule["reject"]))
                 for label, rule in data["labels"].items()}
        gate = data.get("gate")
        return cls(tuple(data["labels"]), heads, float(data["length_penalty"]),
                   hashlib.sha256(text.encode()).hexdigest()[:8], data.get("adapter"),
                   None if gate is None else float(gate))

    def raw(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return {label: self.heads[label].raw(rows) for label in self.labels}

    def pool(self, raw: np.ndarray, windows: int) -> float:
        """A comment's raw logit from its windows' raw logits."""
        return float(raw.max()) - self.length_penalty * math.log(max(windows, 1))

    def units(self, label: str, scores: np.ndarray) -> np.ndarray:
        """Logits past the label's approve threshold: 0 at it, positive above."""
        head = self.heads[label]
        clipped = np.clip(np.asarray(scores, dtype=np.float64), 1e-12, 1 - 1e-12)
        return np.log(clipped / (1 - clipped)) - math.log(head.approve / (1 - head.approve))

    def apply_gate(self, scores: dict[str, np.ndarray]) -> None:
        """Cap every label at `gate` logits past where the general head stands (in place)."""
        if self.gate is None or self.GENERAL not in scores:
            return
        ceiling = self.units(self.GENERAL, scores[self.GENERAL]) + self.gate
        for label in self.labels:
            if label == self.GENERAL:
                continue
            head = self.heads[label]
            capped = np.minimum(self.units(label, scores[label]), ceiling)
            logits = capped + math.log(head.approve / (1 - head.approve))
            scores[label] = 1.0 / (1.0 + np.exp(-logits))
