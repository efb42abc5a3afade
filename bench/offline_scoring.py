"""The offline composite scorer: its speed, how it ranks the swear-free harm devset against the
swear-word model alone, and what a site model learns from OLID's labels as moderator decisions.

The devset (tests/data/harm_devset.tsv) was written apart from the examples and is used only
here and in tests, never to fit anything. The OLID numbers are 5-fold cross-validated: every
tweet is scored by a site model that never saw it."""

from __future__ import annotations

import csv
import statistics
import time
from pathlib import Path

from bench.corpus import OLID, comments_of_words, texts

DEVSET = Path(__file__).resolve().parents[1] / "tests" / "data" / "harm_devset.tsv"
SHORT = "I know where you live and I will make you pay for this"


def speed(scorer) -> dict:
    started = time.perf_counter()
    scorer.load()
    load_seconds = time.perf_counter() - started
    batch, source = texts(1000, seed=3)
    scorer.score(batch[:32])  # warm up
    started = time.perf_counter()
    scorer.score(batch)
    batched = time.perf_counter() - started
    single = []
    for _ in range(30):
        started = time.perf_counter()
        scorer.score([SHORT])
        single.append(time.perf_counter() - started)
    long_ones = comments_of_words(20, 800, 1000, seed=4)
    started = time.perf_counter()
    scorer.score(long_ones)
    long_seconds = time.perf_counter() - started
    # A restarted worker: the examples' embeddings come from the cache the first one wrote.
    started = time.perf_counter()
    again = type(scorer)(cache_dir=scorer.cache_dir)
    again.score([SHORT])
    restart_seconds = time.perf_counter() - started
    return {"source": source, "load_seconds": round(load_seconds, 2),
            "restart_to_first_score_seconds": round(restart_seconds, 2),
            "batched_per_s": round(len(batch) / batched, 1),
            "single_short_ms": round(statistics.median(single) * 1000, 1),
            "long_comments_per_s": round(len(long_ones) / long_seconds, 2)}


def _approved(labels, thresholds) -> bool:
    return all(value < thresholds[label][0] for label, value in labels.items())


def devset(composite, swear_words) -> dict:
    from sklearn.metrics import roc_auc_score

    from moderation.services.policy import DEFAULT_THRESHOLDS

    with DEVSET.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    texts_ = [row["text"] for row in rows]
    harmful = [row["label"] == "harmful" for row in rows]
    report = {"rows": len(rows), "harmful": sum(harmful)}
    for name, scorer in (("swear_word_model", swear_words), ("composite", composite)):
        scored = scorer.score(texts_)
        kept_out = [not _approved(s.labels, DEFAULT_THRESHOLDS)
                    for s, h in zip(scored, harmful, strict=True) if h]
        approved_harmless = [_approved(s.labels, DEFAULT_THRESHOLDS)
                             for s, h in zip(scored, harmful, strict=True) if not h]
        report[name] = {
            "roc_auc": round(roc_auc_score(harmful, [s.risk for s in scored]), 3),
            "harmful_kept_out_of_approve": round(sum(kept_out) / len(kept_out), 3),
            "harmless_approved": round(sum(approved_harmless) / len(approved_harmless), 3),
        }
    return report


def olid_site_model(workdir: Path, composite) -> dict:
    """Import OLID as decisions (OFF = rejected), score it with the composite as the worker
    would, then cross-validate a site model against the composite alone."""
    import flask_migrate
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from moderation import create_app
    from moderation.extensions import db
    from moderation.models import Role
    from moderation.rescoring import rescore
    from moderation.scoring.train_heads import olid_part, read_olid
    from moderation.services import importer, site_evidence
    from moderation.services.users import create_user

    if not OLID.is_file():
        return {"skipped": f"{OLID} is absent"}
    # Only the held-out fifth: the composite's heads were trained on the rest.
    rows = [(text, offensive) for tweet_id, text, offensive in read_olid(OLID)
            if olid_part(tweet_id) == "test"]
    csv_path = workdir / "olid-decisions.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "decision"])
        writer.writerows((text, "rejected" if offensive else "approved")
                         for text, offensive in rows)
    app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'olid.sqlite3'}",
                      "MODERATION_SCORER_OBJECT": composite})
    with app.app_context():
        flask_migrate.upgrade()
        admin = create_user("bench", "bench password 12345", Role.ADMIN)
        with csv_path.open("rb") as handle:
            result = importer.import_decisions(handle, "olid.csv", admin,
                                               max_bytes=50 * 1024 * 1024)
        db.session.commit()
        started = time.perf_counter()
        rescore(result.comment_ids, composite, batch_size=256, reband=False, lease_seconds=3600)
        scoring_seconds = time.perf_counter() - started
        data = site_evidence.decided(composite.identity.name)
        obscene = data.values[:, 2]  # alt-profanity-check's own probability
        cv = site_evidence.cross_validate(composite.identity.name, folds=5)
        db.session.remove()
    cv.pop("per_fold")
    return {"tweets": len(rows), "offensive": int(data.rejected.sum()),
            "scoring_per_s": round(len(rows) / scoring_seconds, 1),
            "swear_word_model_auc": round(float(roc_auc_score(data.rejected, obscene)), 3),
            "composite_risk_auc": cv["base_auc"],
            "site_model_cv_auc": cv["site_auc"], "site_model_cv_auc_sd": cv["site_auc_sd"],
            "reject_band_precision": [cv["base_precision"], cv["site_precision"]],
            "reject_band_recall": [cv["base_recall"], cv["site_recall"]],
            "embedding_used": bool(data.embeddings is not None and np.isfinite(
                data.embeddings).all())}


def quality(composite) -> dict:
    """`flask quality`'s figures under the default thresholds, on the held-out sets."""
    from moderation.scoring import quality as measure
    from moderation.services.policy import DEFAULT_THRESHOLDS

    bands = measure.Bands({label: rule for label, rule in DEFAULT_THRESHOLDS.items()
                           if label in composite.produces})
    score = composite.score
    def figures(result, *drop):
        return {"rows": result.rows, **{k: v for k, v in result.figures.items()
                                        if k not in drop}}

    report = {"benign": figures(measure.benign(score, bands,
                                               measure.SETS / "benign_news_comments.tsv"),
                                "examples_not_approved")}
    for path in sorted(measure.SETS.glob("harm_devset*.tsv")):
        report[path.stem] = figures(measure.devset(score, bands, path), "harm_published")
    summary, terms = measure.identity(score, bands)
    report["identity"] = {**summary.figures, "per_term": [vars(t) for t in terms]}
    if OLID.is_file():
        report["olid_test"] = figures(measure.olid_test(score, bands))
    return report


def run(workdir: Path) -> dict:
    from moderation.scoring import CompositeScorer, EmbeddedScorer

    composite = CompositeScorer(cache_dir=workdir / "cache")
    swear_words = EmbeddedScorer()
    report = {"speed": speed(composite)}
    print(f"  composite: {report['speed']}", flush=True)
    report["quality"] = quality(composite)
    print(f"  quality: { {k: v for k, v in report['quality'].items() if k != 'identity'} }",
          flush=True)
    report["devset"] = devset(composite, swear_words)
    print(f"  devset: {report['devset']}", flush=True)
    report["olid"] = olid_site_model(workdir, composite)
    print(f"  OLID: {report['olid']}", flush=True)
    return report
