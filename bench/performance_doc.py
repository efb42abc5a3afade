"""Write docs/performance.md from bench/results/latest.json (`make bench` runs it last), so the
performance page holds only what the last run measured on the current code, with its date and
machine: no row outlives the run that produced it.

python -m bench.performance_doc [--results bench/results/latest.json]
                                [--output docs/performance.md]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import load

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
OUTPUT = ROOT / "docs" / "performance.md"

INTRO = """# Performance

Everything below is from one `make bench` run on the code of this commit (`bench/run.py` writes
`bench/results/latest.json`, and this page is rendered from it by `bench/performance_doc.py`).
This machine is shared and noisy: compare ratios measured in one run, not runs with each other.
Scoring quality (benign rate, harm kept out, fairness) is in [scoring.md](scoring.md).
"""


def _number(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def scoring(report: dict) -> list[str]:
    composite = report.get("composite", {}).get("speed", {})
    embedded = report.get("embedded", {})
    detoxify = report.get("detoxify", {})
    return [
        "## Scoring speed", "",
        "| scorer | measure | result |", "|---|---|---|",
        f"| offline composite (default; int8 encoder, {composite.get('source', '')}) "
        f"| batched | **{_number(composite.get('batched_per_s'))} comments/s** |",
        f"| offline composite | one short comment per call "
        f"| {_number(composite.get('single_short_ms'))} ms |",
        f"| offline composite | ~900-word comments, sentence by sentence "
        f"| {_number(composite.get('long_comments_per_s'), 2)} comments/s |",
        f"| offline composite | a restarted worker's first score "
        f"| {_number(composite.get('restart_to_first_score_seconds'), 2)} s (first start "
        f"ever: {_number(composite.get('load_seconds'), 1)} s, spent by `make run` in "
        "`flask model prepare`) |",
        f"| swear-word model alone | one batched call "
        f"| {_number(embedded.get('batched_per_s'))} texts/s |",
        f"| Detoxify `original` (bert-base, random weights, {detoxify.get('threads')} threads) "
        f"| `Detoxify.predict` on {detoxify.get('comments')} comments at once "
        f"| {_number(detoxify.get('detoxify_predict_whole_list_per_s'), 2)} comments/s |",
        "| Detoxify | our length-sorted batches of 16 (torch) "
        f"| {_number(detoxify.get('ours_sorted_batches_of_16_per_s'), 2)} comments/s |",
        "| Detoxify | ONNX Runtime int8 (`MODERATION_DETOXIFY_RUNTIME=onnx`) "
        f"| **{_number(detoxify.get('onnx_int8_sorted_batches_of_16_per_s'), 2)} comments/s** "
        f"({_number(detoxify.get('onnx_int8_vs_predict_whole_list'), 1)}x `Detoxify.predict` "
        "on the list) |",
        "",
    ]


def peak(report: dict) -> list[str]:
    measured = report.get("load", {})
    lines = ["## Readers posting to `make run`", "",
             f"Server: {measured.get('server', '')}, scoring with `{measured.get('scorer', '')}`"
             f". An open-loop generator on the same cores sends each post at its scheduled time "
             f"({_number(measured.get('seconds_per_rate'), 0)} s per rate, a different real "
             "tweet each); latency is from the scheduled time. CPU per post counts every server "
             "process until the worker's backlog is gone.",
             load.table(measured), "",
             "A burst: 2,000 posts offered at once.", "",
             "| database | all answered after | p99 | acknowledged = stored "
             "| last comment scored after the first post |", "|---|---|---|---|---|"]
    for database, burst in _measured(measured, "burst"):
        lines.append(f"| {database} | {burst['all_answered_s']} s "
                     f"| {_number(burst['p99_ms'])} ms "
                     f"| {burst['acknowledged']:,} = {burst['rows_stored']:,} "
                     f"| **{burst['last_scored_s_after_first_post']} s** |")
    closed = _measured(measured, "closed_loop")
    if closed:
        lines += ["", f"A closed loop: wrk with {closed[0][1]['connections']} connections "
                  "posting as fast as answers come, each post a different tweet, while the "
                  "worker scores.", "",
                  "| database | posts/s | p50 | p90 | p99 | not 2xx/3xx | answered (stored) "
                  "| CPU ms per post, all server processes | backlog gone after |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for database, row in closed:
            lines.append(f"| {database} | **{_number(row['posts_per_s'])}** "
                         f"| {_number(row['p50_ms'])} ms | {_number(row['p90_ms'])} ms "
                         f"| **{_number(row['p99_ms'])} ms** | {row['not_2xx_3xx']} "
                         f"| {row['answered']:,} ({row['rows_stored']:,}) "
                         f"| {_number(row['cpu_ms_per_post_all_processes'])} "
                         f"| {row['worker_backlog_cleared_s_after_load']} s |")
    return lines + [""]


def _measured(measured: dict, part: str) -> list[tuple[str, dict]]:
    """(database name, its `part`) for each database the load bench measured it on."""
    return [(measured[kind]["database"], measured[kind][part]) for kind in load.DATABASES
            if isinstance(measured.get(kind), dict) and measured[kind].get(part)]


def pipeline(report: dict) -> list[str]:
    measured = report.get("pipeline", {})
    lines = ["## The worker's drain (claim, score, band, commit)", "",
             f"{_number(measured.get('comments'))} {measured.get('source', '')} posted through "
             f"the form, then banded by the swear-word model in batches of "
             f"{measured.get('batch')} (this measures the pipeline, not a scorer); every "
             "comment checked banded exactly once.", ""]
    lines += _drain_table(measured)
    composite = report.get("pipeline_composite")
    if isinstance(composite, dict):
        lines += ["", f"The same with the default composite scorer: "
                  f"{_number(composite.get('comments'))} comments in batches of "
                  f"{composite.get('batch')}, each worker process with one model thread "
                  "(as `flask worker` runs). On two cores two workers are the most that can "
                  "help.", ""]
        lines += _drain_table(composite)
    return lines + [""]


def _drain_table(measured: dict) -> list[str]:
    lines = ["| database | workers | comments/s | worker CPU ms per comment "
             "| database CPU ms per comment | banded exactly once |", "|---|---|---|---|---|---|"]
    for kind in ("sqlite", "postgresql"):
        run = measured.get(kind)
        if not isinstance(run, dict):
            continue
        for result in run.get("runs", []):
            lines.append(f"| {run['database']} | {result.get('workers')} "
                         f"| {_number(result.get('banded_per_s'))} "
                         f"| {_number(result.get('worker_cpu_ms_per_comment'), 3)} "
                         f"| {_number(result.get('database_server_cpu_ms_per_comment'), 3)} "
                         f"| {result.get('correct')} |")
    return lines


def pages(report: dict) -> list[str]:
    lines = ["## Moderators' pages", ""]
    queue = report.get("queue", {})
    lines += ["The queue at growing sizes (about 10% waiting), median ms, page of "
              f"{queue.get('page_size')}:", "",
              "| database | comments | first page | deep page | filtered | band counts "
              "| `GET /queue/` rendered |", "|---|---|---|---|---|---|---|"]
    for kind in ("sqlite", "postgresql"):
        run = queue.get(kind)
        if not isinstance(run, dict):
            continue
        for size, timing in run.get("sizes", {}).items():
            lines.append(f"| {kind} | {int(size):,} | {timing['first_page_ms']} "
                         f"| {timing['deep_page_ms']} | {timing['filtered_page_ms']} "
                         f"| {timing['state_counts_ms']} | {timing['render_queue_ms']} |")
    replay = report.get("replay", {})
    if replay:
        lines += ["", f"The policy editor on {replay.get('comments', 0):,} scored comments "
                  f"({replay.get('decided', 0):,} decided by moderators), SQLite, median ms:", "",
                  "| step | ms |", "|---|---|",
                  f"| read the history | {replay.get('load_history_ms')} |",
                  f"| replay (numpy) | {replay.get('replay_compute_ms')} |",
                  f"| suggestions for all labels | {replay.get('suggest_ms')} |",
                  "| `GET /admin/policy/replay`, rendered "
                  f"| {replay.get('replay_panel_http_ms')} |",
                  f"| `GET /admin/policy`, rendered | {replay.get('editor_page_http_ms')} |"]
    return lines + [""]


def render(report: dict) -> str:
    lines = [INTRO, f"Run of {report.get('when')} on {report.get('machine')}.", ""]
    # A step measured again after a fix to its bench (or to what it measures) says so.
    lines += [f"- {value}" for key, value in sorted(report.items()) if key.endswith("_note")]
    if lines[-1].startswith("- "):
        lines.append("")
    for part in (scoring, peak, pipeline, pages):
        lines += part(report)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    report = json.loads(args.results.read_text(encoding="utf-8"))
    args.output.write_text(render(report), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
