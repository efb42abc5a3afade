"""Fit the composite's label heads and their calibration to the bands; write heads.json.

    python -m moderation.scoring.train_heads [--olid PATH] [--target-benign 0.06]
    (or `make heads`)

Training text, all real or written for this project:
- the OLID training tweets (../shared/data/olid/, offensive vs not), split by tweet id into
  train (70%), calibration (10%) and test (20%): the test fifth is never read here;
- the corpus in scoring/corpus/*.tsv: harm of every kind and look-alikes that share its words
  and topics, split by text into train (80%) and calibration (20%);
- the shipped example sentences (scoring/examples/), all for training.

The heads are logistic regressions over [MiniLM embedding, logit(swear-word probability)],
fitted on the train parts. Calibration reads only the calibration parts: every label's raw logit
is mapped so that the same share of ordinary text stays under the default approve threshold,
and that share is chosen so that `--target-benign` of ordinary text is not approved by any label
(the default policy's approve band). The evaluation sets under tests/data/ are never read."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .adapter import ADAPTER_FILE, adapter_hash
from .examples import ORDINARY, shipped_examples
from .heads import HEADS_FILE, features

ROOT = Path(__file__).resolve().parents[2]
OLID = ROOT.parent / "shared" / "data" / "olid" / "olid-training-v1.0.tsv"
CORPUS = Path(__file__).with_name("corpus")
CACHE = ROOT / ".cache" / "heads"

# The labels the heads give, in the order the composite reports them. "obscene" is the
# swear-word model alone (a head with one weight), calibrated like the others.
HEAD_LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack",
               "sexual_explicit")
# Corpus kinds: the labels each is harmful for (every harmful kind is toxic). Kinds not listed
# are harmless look-alikes and ordinary comments.
KIND_LABELS: dict[str, frozenset[str]] = {
    "threat": frozenset({"threat"}),
    "veiled_threat": frozenset({"threat"}),
    "doxxing": frozenset({"threat"}),
    "incitement": frozenset({"threat"}),
    "dehumanising": frozenset({"identity_attack"}),
    "coded_hate": frozenset({"identity_attack"}),
    "identity_hate_short": frozenset({"identity_attack"}),
    "group_harassment": frozenset({"identity_attack", "insult"}),
    "insult": frozenset({"insult"}),
    "harassment": frozenset({"insult"}),
    "swearing_abuse": frozenset({"insult"}),
    "sexual_harassment": frozenset({"sexual_explicit"}),
    "severe": frozenset({"severe_toxicity"}),
}
# A harmful text of these labels is neither a positive nor a negative for the key's head
# (a death wish is close to a threat; an attack on a group is close to an insult).
RELATED: dict[str, frozenset[str]] = {
    "severe_toxicity": frozenset({"threat", "insult", "identity_attack", "sexual_explicit"}),
    "threat": frozenset({"severe_toxicity"}),
    "insult": frozenset({"severe_toxicity", "identity_attack"}),
    "identity_attack": frozenset({"severe_toxicity", "insult", "threat"}),
    "sexual_explicit": frozenset({"severe_toxicity"}),
}
UNKNOWN = "unknown"  # an OLID offensive tweet: toxic, but which kind nobody said
WEIGHTS = {"olid": 1.0, "corpus": 2.0, "example": 3.0}
C_GRID = (0.03, 0.1, 0.3, 1.0)


@dataclass
class Item:
    text: str
    labels: frozenset[str]  # empty: harmless
    source: str  # olid | corpus | example
    part: str  # train | calibration | test
    kind: str = ""
    vector: np.ndarray | None = field(default=None, repr=False)
    profanity: float = 0.0

    @property
    def harmful(self) -> bool:
        return bool(self.labels)


def _bucket(key: str, buckets: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % buckets


def olid_part(tweet_id: str) -> str:
    """The fixed split of the OLID training file by id: a test fifth, a calibration tenth."""
    bucket = _bucket(f"olid:{tweet_id}", 10)
    return "test" if bucket >= 8 else "calibration" if bucket == 7 else "train"


def corpus_part(text: str) -> str:
    return "calibration" if _bucket(f"corpus:{text}", 5) == 0 else "train"


def read_olid(path: Path = OLID) -> list[tuple[str, str, bool]]:
    """(id, tweet, offensive) rows."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(row["id"], row["tweet"], row["subtask_a"] == "OFF") for row in reader]


def read_corpus(folder: Path = CORPUS) -> list[tuple[str, str]]:
    """(kind, text) rows of every corpus file."""
    rows = []
    for path in sorted(folder.glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if row.get("text", "").strip():
                    rows.append((row["kind"].strip(), row["text"].strip()))
    return rows


def corpus_fingerprint(folder: Path = CORPUS) -> str:
    digest = hashlib.sha256()
    for kind, text in sorted(read_corpus(folder)):
        digest.update(f"{kind}\t{text}\n".encode())
    return digest.hexdigest()[:8]


def items(olid: Path | None) -> list[Item]:
    found: list[Item] = []
    if olid is not None:
        for tweet_id, text, offensive in read_olid(olid):
            labels = frozenset({"toxicity", UNKNOWN}) if offensive else frozenset()
            found.append(Item(text, labels, "olid", olid_part(tweet_id)))
    for kind, text in read_corpus():
        harm = KIND_LABELS.get(kind)
        labels = frozenset({"toxicity", *harm}) if harm else frozenset()
        found.append(Item(text, labels, "corpus", corpus_part(text), kind))
    for example in shipped_examples():
        labels = frozenset()
        if example.harmful:
            labels = frozenset({"toxicity"} | ({example.label} - {"toxicity", ORDINARY}))
        found.append(Item(example.text, labels, "example", "train", example.label))
    return found


def target(item: Item, label: str) -> int:
    """1 positive, 0 negative, -1 left out of this head's fit."""
    if not item.labels:
        return 0
    if label in item.labels:
        return 1
    if label == "toxicity":
        return 0
    if UNKNOWN in item.labels or item.labels & RELATED.get(label, frozenset()):
        return -1
    return 0


def embed(found: list[Item], cache: Path, adapter: Path | None = ADAPTER_FILE) -> None:
    """Fill in each item's vector and swear-word probability, reusing a cache keyed by the
    encoder's weights (and adapter) and each text."""
    from .embedded import EmbeddedScorer
    from .encoder import SentenceEncoder

    encoder = SentenceEncoder(adapter=adapter if adapter and adapter.is_file() else None)
    key = encoder.identity.version.replace(":", "-").replace("+", "_")
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"vectors-{key}.npz"
    known: dict[str, tuple[np.ndarray, float]] = {}
    if path.is_file():
        stored = np.load(path, allow_pickle=False)
        known = {str(t): (v, float(p)) for t, v, p in
                 zip(stored["texts"], stored["vectors"], stored["profanity"], strict=True)}
    missing = sorted({item.text for item in found} - set(known))
    if missing:
        print(f"embedding {len(missing)} texts (cached: {len(known)})", file=sys.stderr)
        vectors = encoder.encode(missing)
        profanity = [s.labels["toxicity"] for s in EmbeddedScorer().score(missing)]
        known.update({t: (v, p) for t, v, p in zip(missing, vectors, profanity, strict=True)})
        texts = list(known)
        np.savez(path, texts=np.array(texts), vectors=np.array([known[t][0] for t in texts]),
                 profanity=np.array([known[t][1] for t in texts]))
    for item in found:
        item.vector, item.profanity = known[item.text]


def matrix(found: list[Item]) -> np.ndarray:
    return features(np.vstack([item.vector for item in found]),
                    np.array([item.profanity for item in found]))


def _auc(scores, positives) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(positives, scores))


def fit_head(label: str, train: list[Item], check: list[Item]) -> tuple[np.ndarray, float, dict]:
    """Weights over features() (standardisation folded in) and bias; C chosen on `check`."""
    from sklearn.linear_model import LogisticRegression

    if label == "obscene":  # the swear-word model alone
        weights = np.zeros(train[0].vector.shape[0] + 1)
        weights[-1] = 1.0
        return weights, 0.0, {"C": None}
    rows = [(item, target(item, label)) for item in train]
    rows = [(item, t) for item, t in rows if t >= 0]
    x = matrix([item for item, _ in rows])
    y = np.array([t for _, t in rows])
    weight = np.array([WEIGHTS[item.source] for item, _ in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    checked = [(item, target(item, label)) for item in check]
    checked = [(item, t) for item, t in checked if t >= 0]
    x_check = (matrix([item for item, _ in checked]) - mean) / scale
    y_check = np.array([t for _, t in checked])
    best = None
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=3000)
        model.fit((x - mean) / scale, y, sample_weight=weight)
        auc = _auc(model.decision_function(x_check), y_check)
        if best is None or auc > best[0]:
            best = (auc, c, model)
    auc, c, model = best
    weights = model.coef_[0] / scale
    bias = float(model.intercept_[0] - (model.coef_[0] * mean / scale).sum())
    return weights, bias, {"C": c, "calibration_auc": round(auc, 4),
                           "positives": int(y.sum()), "negatives": int((y == 0).sum())}


def _affine(z_approve: float, approve: float, z_reject: float, reject: float
            ) -> tuple[float, float]:
    """slope, offset with logit(score) = slope * raw + offset through both anchors."""
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    slope = (logit(reject) - logit(approve)) / max(z_reject - z_approve, 1e-6)
    return slope, logit(approve) - slope * z_approve


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    position = np.searchsorted(cumulative, q * cumulative[-1])
    return float(values[order][min(position, len(values) - 1)])


def calibrate(raw_benign: dict[str, np.ndarray], weights: np.ndarray,
              thresholds: dict[str, tuple[float, float]], target_benign: float,
              gate: float | None, reject_quantile: float = 0.999
              ) -> tuple[dict[str, tuple[float, float]], float]:
    """Per label (slope, offset), and the per-label (weighted) quantile q of ordinary text
    kept under the approve threshold, chosen so that `target_benign` of it (weighted) is not
    approved by any label once the gate (heads.Heads.gate) caps the specific labels."""
    labels = list(raw_benign)
    general = labels.index("toxicity")
    stacked = np.column_stack([raw_benign[label] for label in labels])
    weights = np.asarray(weights, dtype=np.float64)

    def rules_at(q: float) -> list[tuple[float, float, float]]:
        """(z_approve, slope, offset) per label."""
        found = []
        for i, label in enumerate(labels):
            z_a = weighted_quantile(stacked[:, i], weights, q)
            z_r = max(weighted_quantile(stacked[:, i], weights, reject_quantile), z_a + 1.0)
            found.append((z_a, *_affine(z_a, thresholds[label][0], z_r, thresholds[label][1])))
        return found

    def not_approved(q: float) -> float:
        rules = rules_at(q)
        # Logits past each approve threshold, the specific labels capped by the general one.
        units = np.column_stack([slope * (stacked[:, i] - z_a)
                                 for i, (z_a, slope, _) in enumerate(rules)])
        if gate is not None:
            ceiling = units[:, general] + gate
            for i in range(len(labels)):
                if i != general:
                    units[:, i] = np.minimum(units[:, i], ceiling)
        flagged = (units >= 0).any(axis=1)
        return float(weights[flagged].sum() / weights.sum())

    low, high = 0.5, 0.99999
    for _ in range(40):
        middle = (low + high) / 2
        if not_approved(middle) > target_benign:
            low = middle
        else:
            high = middle
    q = high
    return {label: (slope, offset) for label, (_, slope, offset)
            in zip(labels, rules_at(q), strict=True)}, q


def default_thresholds() -> dict[str, tuple[float, float]]:
    # The policy's defaults, as data (scoring stays free of the app).
    return {"toxicity": (0.30, 0.90), "severe_toxicity": (0.10, 0.50), "obscene": (0.30, 0.90),
            "threat": (0.10, 0.60), "insult": (0.30, 0.90), "identity_attack": (0.15, 0.70),
            "sexual_explicit": (0.30, 0.90)}


def data_arguments(description: str, output: Path) -> argparse.ArgumentParser:
    """The options both training steps take: where OLID, the embedding cache and the output
    are."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--olid", type=Path, default=OLID)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--output", type=Path, default=output)
    return parser


def olid_missing(path: Path, what: str) -> bool:
    if path.is_file():
        return False
    print(f"{path} is missing: {what} trained on the OLID tweets.", file=sys.stderr)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = data_arguments(__doc__.split("\n\n")[0], HEADS_FILE)
    parser.add_argument("--target-benign", type=float, default=0.06,
                        help="share of ordinary calibration text the default policy does not "
                             "approve (default 0.06)")
    parser.add_argument("--gate", type=float, default=GATE,
                        help="how far past its approve threshold a specific label may rise "
                             f"above the general head, in logits (default {GATE})")
    args = parser.parse_args(argv)
    if olid_missing(args.olid, "the heads are"):
        return 2
    found = items(args.olid)
    embed(found, args.cache)
    train = [item for item in found if item.part == "train"]
    check = [item for item in found if item.part == "calibration"]
    fitted, report = {}, {}
    for label in HEAD_LABELS:
        fitted[label] = fit_head(label, train, check)
        report[label] = fitted[label][2]
        print(f"{label}: {report[label]}", file=sys.stderr)
    benign = [item for item in check if not item.harmful]
    x_benign = matrix(benign)
    raw_benign = {label: x_benign @ w + b for label, (w, b, _) in fitted.items()}
    # Tweets and comments written for news pages count half each: the bands are for the latter.
    sources = np.array([item.source for item in benign])
    weights = np.where(sources == "olid", 0.5 / max((sources == "olid").sum(), 1),
                       0.5 / max((sources != "olid").sum(), 1))
    rules, q = calibrate(raw_benign, weights, default_thresholds(), args.target_benign,
                         args.gate)
    output = {
        "features": "all-MiniLM-L6-v2 mean-pooled embedding (384) + logit(alt-profanity-check)",
        "adapter": adapter_hash(),
        "trained_on": {"olid_train": sum(1 for i in train if i.source == "olid"),
                       "corpus_train": sum(1 for i in train if i.source == "corpus"),
                       "examples": sum(1 for i in train if i.source == "example"),
                       "corpus": corpus_fingerprint()},
        "calibration": {"benign_rows": len(benign), "target_benign": args.target_benign,
                        "quantile": round(q, 6)},
        "length_penalty": LENGTH_PENALTY,
        "gate": args.gate,
        "report": report,
        "labels": {label: {"bias": round(b, 8), "slope": round(rules[label][0], 8),
                           "offset": round(rules[label][1], 8),
                           "approve": default_thresholds()[label][0],
                           "reject": default_thresholds()[label][1],
                           "weights": [round(float(v), 7) for v in w]}
                   for label, (w, b, _) in fitted.items()},
    }
    args.output.write_text(json.dumps(output) + "\n", encoding="utf-8")
    print(f"wrote {args.output} (quantile {q:.4f} of ordinary text under each approve "
          "threshold)", file=sys.stderr)
    return 0


LENGTH_PENALTY = 0.5
GATE = 1.0

if __name__ == "__main__":
    raise SystemExit(main())
