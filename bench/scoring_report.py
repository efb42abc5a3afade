"""Measure the offline composite on the held-out sets and write the tables of docs/scoring.md
(between its results markers), with the date and the machine.

    python -m bench.scoring_report      (`make bench` runs it too)

Every figure comes from this run on the current code: nothing in the tables is typed by hand."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.offline_scoring import SHORT, quality, speed
from bench.run import machine

DOC = Path(__file__).resolve().parents[1] / "docs" / "scoring.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
# How moving every approve threshold by this many logits changes the trade (the curve).
SHIFTS = (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5)


def pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def curve(composite) -> list[tuple[float, float, float, float]]:
    """(shift, ordinary not approved, look-alikes not approved, harm kept out) when every
    label's approve threshold moves by `shift` logits (negative: stricter)."""
    import csv

    from moderation.scoring.quality import SETS
    from moderation.services.policy import DEFAULT_THRESHOLDS

    def rows(name):
        with (SETS / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))

    benign = [row["text"] for row in rows("benign_news_comments.tsv")]
    devset = rows("harm_devset2.tsv")
    labels = [label for label in composite.produces]

    def units(texts):
        scored = composite.score(texts)
        table = np.array([[s.labels[label] for label in labels] for s in scored])
        approve = np.array([DEFAULT_THRESHOLDS[label][0] for label in labels])
        clipped = np.clip(table, 1e-12, 1 - 1e-12)
        return (np.log(clipped / (1 - clipped)) - np.log(approve / (1 - approve))).max(axis=1)

    benign_units = units(benign)
    dev_units = units([row["text"] for row in devset])
    harmful = np.array([row["label"] == "harmful" for row in devset])
    return [(shift, float((benign_units >= shift).mean()),
             float((dev_units[~harmful] >= shift).mean()),
             float((dev_units[harmful] >= shift).mean())) for shift in SHIFTS]


def tables(report: dict, speed_: dict, points) -> str:
    q = report
    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}, "
             f"scorer `{q['scorer']}`, default policy thresholds.", ""]
    lines += ["| goal | set | result |", "|---|---|---|"]
    benign = q["benign"]
    lines.append(f"| ordinary comments publish (≤ 10% not approved) | "
                 f"benign_news_comments.tsv, {benign['rows']} comments | "
                 f"**{pct(benign['not_approved'])} not approved** ({pct(benign['held'])} held); "
                 f"over 80 words {pct(benign['long_not_approved'])}, shorter "
                 f"{pct(benign['short_not_approved'])} |")
    if q.get("olid_test"):
        olid = q["olid_test"]
        lines.append(f"| ordinary tweets | OLID's held-out fifth, not offensive | "
                     f"{pct(olid['not_offensive_not_approved'])} not approved |")
    for name in ("harm_devset", "harm_devset2"):
        dev = q[name]
        lines.append(f"| harm stays out (≥ 90% kept out) | {name}.tsv, {dev['rows']} rows | "
                     f"**{pct(dev['harm_kept_out'])} of harm kept out** ({pct(dev['harm_held'])} "
                     f"held); look-alikes not approved {pct(dev['benign_not_approved'])}; "
                     f"risk ROC-AUC {dev['risk_auc']:.3f} |")
    if q.get("olid_test"):
        lines.append(f"| ranking (ROC-AUC ≥ 0.86) | OLID's held-out fifth, "
                     f"{q['olid_test']['rows']:,} tweets | "
                     f"**risk ROC-AUC {q['olid_test']['risk_auc']:.3f}**"
                     + (" (goal not met)" if q["olid_test"]["risk_auc"] < 0.86 else "") + " |")
    identity = q["identity"]
    lines.append(f"| fairness (every term ≥ 0.90, benign ≤ 10% not approved) | identity "
                 f"templates, {identity['terms']} terms | worst subgroup "
                 f"{identity['worst_subgroup_auc']:.3f}, **BPSN {identity['worst_bpsn_auc']:.3f}**"
                 f", BNSP {identity['worst_bnsp_auc']:.3f}; **benign not approved "
                 f"{pct(identity['benign_not_approved'])}**, hateful kept out "
                 f"{pct(identity['hateful_kept_out'])} |")
    lines.append(f"| speed (≥ 150/s batched, < 30 ms one) | 1,000 {speed_['source']} | "
                 f"**{speed_['batched_per_s']} comments/s** batched; one short comment "
                 f"{speed_['single_short_ms']} ms; ~900-word comments "
                 f"{speed_['long_comments_per_s']}/s; a restarted worker's first score "
                 f"{speed_['restart_to_first_score_seconds']} s after it starts (first ever "
                 f"start {speed_['load_seconds']} s) |")
    lines += ["", "Harm kept out and look-alikes not approved, per kind (harm_devset2.tsv):", "",
              "| kind | share |", "|---|---|"]
    for kind, share in q["harm_devset2"]["by_category"].items():
        label, name = kind.split(":", 1)
        lines.append(f"| {name} ({'harm, kept out' if label == 'harmful' else 'not approved'})"
                     f" | {pct(share)} |")
    lines += ["", "Identity bias per term (Borkan et al. 2019; templates in the style of Dixon "
              "et al. 2018):", "",
              "| term | subgroup AUC | BPSN AUC | BNSP AUC | benign not approved | "
              "hateful approved |", "|---|---|---|---|---|---|"]
    for row in identity["per_term"]:
        lines.append(f"| {row['term']} | {row['subgroup_auc']:.3f} | {row['bpsn_auc']:.3f} | "
                     f"{row['bnsp_auc']:.3f} | {pct(row['benign_not_approved'])} | "
                     f"{pct(row['hateful_approved'])} |")
    lines += ["", "The curve: every approve threshold moved by the same number of logits "
              "(negative: stricter), on the ordinary comments and harm_devset2.tsv:", "",
              "| shift | ordinary comments not approved | look-alikes not approved | "
              "harm kept out |", "|---|---|---|---|"]
    for shift, ordinary, lookalikes, kept in points:
        mark = " (shipped)" if shift == 0 else ""
        lines.append(f"| {shift:+.1f}{mark} | {pct(ordinary)} | {pct(lookalikes)} | "
                     f"{pct(kept)} |")
    return "\n".join(lines)


def main() -> None:
    from moderation.scoring import CompositeScorer

    with tempfile.TemporaryDirectory() as workdir:
        composite = CompositeScorer(cache_dir=Path(workdir))
        speed_ = speed(composite)
        composite.score([SHORT])
        report = quality(composite)
        report["scorer"] = composite.identity.label
        points = curve(composite)
    text = DOC.read_text(encoding="utf-8")
    body = tables(report, speed_, points)
    text = re.sub(re.escape(START) + ".*?" + re.escape(END),
                  lambda _: f"{START}\n{body}\n{END}", text, flags=re.S)
    DOC.write_text(text, encoding="utf-8")
    print(body)


if __name__ == "__main__":
    main()
