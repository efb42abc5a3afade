"""`make bench`: measure, write bench/results/latest.json, print a table for the README.

Compare ratios measured within one run: this machine is shared and noisy."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench import (
    detoxify_speed,
    load,
    offline_scoring,
    pipeline_speed,
    post_profile,
    queue_speed,
    replay_speed,
)
from bench.corpus import texts

RESULTS = Path(__file__).resolve().parent / "results"


def embedded_speed(count: int = 5000) -> dict:
    from moderation.scoring import EmbeddedScorer

    scorer = EmbeddedScorer()
    started = time.perf_counter()
    scorer.load()
    load_seconds = time.perf_counter() - started
    batch, source = texts(count)
    started = time.perf_counter()
    scorer.score(batch)
    batched = time.perf_counter() - started
    started = time.perf_counter()
    for text in batch[:200]:
        scorer.score([text])
    one_by_one = (time.perf_counter() - started) / 200
    return {"texts": count, "source": source, "load_seconds": round(load_seconds, 2),
            "batched_per_s": round(count / batched), "one_at_a_time_per_s": round(1 / one_by_one)}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    report = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        steps = [
            ("embedded", "embedded model", embedded_speed),
            ("composite", "offline composite: speed, swear-free harm devset, OLID site model",
             lambda: offline_scoring.run(folder)),
            ("pipeline", "pipeline (form posts, then 1 and 2 workers draining, SQLite and "
             "PostgreSQL)", lambda: pipeline_speed.run(folder)),
            ("pipeline_composite", "pipeline with the default composite (1 and 2 workers, "
             "SQLite and PostgreSQL)",
             lambda: pipeline_speed.run(folder, comments=2000, scorer="composite", batch=32)),
            ("post_cpu_in_process", "a comment post's web CPU in process (SQLite and "
             "PostgreSQL)", post_profile.measure),
            ("load", "open-loop load on make run's server (50-400 posts/s, a burst and a closed "
             "loop, SQLite and PostgreSQL, the default scorer)", lambda: load.run(folder)),
            ("detoxify", "Detoxify bert-base (random weights)", lambda: detoxify_speed.run(folder)),
            ("queue", "queue at growing sizes (SQLite, and PostgreSQL when installed)",
             lambda: queue_speed.run(folder)),
            ("replay", "policy replay and suggestions (100k scored comments, SQLite)",
             lambda: replay_speed.run(folder)),
        ]
        for key, what, step in steps:
            print(f"{what} ...", flush=True)
            report[key] = step()
            # Written after every step: a step that fails keeps what the others measured.
            (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"\nwritten to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
