"""Fit the per-label calibration of the example-sentence scores and write calibration.json.

    python -m moderation.scoring.calibrate [--check]

The labelled data is the shipped examples themselves, each scored leave-one-out (compared with
every example but itself): a label's harmful examples are positives, every look-alike is a
negative, and harmful examples of unrelated labels are negatives too (a threat is not sexual).
Examples of a closely related label are left out rather than called negative. No evaluation set
is used here: tests/data/harm_devset.tsv stays unseen by the fit."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .encoder import SentenceEncoder
from .examples import (
    CALIBRATION_FILE,
    FEATURES,
    SEMANTIC_LABELS,
    Example,
    ExampleIndex,
    fingerprint,
    shipped_examples,
)

# Harmful examples of these labels are neither positives nor negatives for the key's label.
RELATED: dict[str, set[str]] = {
    "severe_toxicity": set(SEMANTIC_LABELS),
    "insult": {"toxicity", "severe_toxicity"},
    "threat": {"severe_toxicity"},
    "identity_attack": {"toxicity", "severe_toxicity", "insult"},
    "sexual_explicit": {"toxicity", "severe_toxicity"},
}


def targets(label: str, examples: list[Example]) -> np.ndarray:
    """1 positive, 0 negative, -1 left out, per example."""
    out = np.zeros(len(examples), dtype=np.int8)
    for i, example in enumerate(examples):
        if not example.harmful:
            continue
        if label == "toxicity" or example.label == label:
            out[i] = 1
        elif example.label in RELATED.get(label, set()):
            out[i] = -1
    return out


def fit(examples: list[Example], vectors: np.ndarray) -> dict:
    from sklearn.linear_model import LogisticRegression

    index = ExampleIndex(examples, vectors)
    features, _ = index.features(vectors, exclude=np.arange(len(examples)))
    labels = {}
    for label in SEMANTIC_LABELS:
        target = targets(label, examples)
        keep = target >= 0
        model = LogisticRegression(C=10.0, max_iter=1000)
        model.fit(features[label][keep], target[keep])
        labels[label] = {"weights": [round(float(w), 6) for w in model.coef_[0]],
                         "bias": round(float(model.intercept_[0]), 6),
                         "positives": int((target == 1).sum()),
                         "negatives": int((target == 0).sum())}
    return {"features": list(FEATURES), "examples": fingerprint(examples),
            "fitted_on": "the shipped examples, leave-one-out", "labels": labels}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only say whether calibration.json matches the shipped examples")
    args = parser.parse_args(argv)
    examples = shipped_examples()
    if args.check:
        current = json.loads(CALIBRATION_FILE.read_text())["examples"]
        ok = current == fingerprint(examples)
        print("calibration matches the examples" if ok else
              f"calibration was fitted on examples {current}, the files are now "
              f"{fingerprint(examples)}: run python -m moderation.scoring.calibrate")
        return 0 if ok else 1
    encoder = SentenceEncoder()
    vectors = encoder.encode([example.text for example in examples])
    calibration = fit(examples, vectors)
    CALIBRATION_FILE.write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {CALIBRATION_FILE} for {len(examples)} examples", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
