"""docs/performance.md is rendered from make bench's results: the closed loop and the
composite drain must reach the page with the numbers measured, and wrk's units be read right."""

from __future__ import annotations

from bench import load
from bench.performance_doc import render


def test_wrk_latencies_are_read_in_their_units():
    assert load._wrk_ms("500.00us") == 0.5
    assert load._wrk_ms("12.34ms") == 12.3
    assert load._wrk_ms("2.00s") == 2000.0


def _drain(workers: int, per_s: float) -> dict:
    return {"workers": workers, "banded_per_s": per_s, "worker_cpu_ms_per_comment": 6.5,
            "database_server_cpu_ms_per_comment": None, "correct": True}


def test_the_closed_loop_and_the_composite_drain_are_on_the_page():
    closed = {"connections": 8, "seconds": 20, "posts_per_s": 321.5, "answered": 6430,
              "not_2xx_3xx": 0, "rows_stored": 6437, "p50_ms": 20.1, "p90_ms": 41.0,
              "p99_ms": 87.6, "cpu_ms_per_post_all_processes": 9.4,
              "worker_backlog_cleared_s_after_load": 12.5}
    report = {
        "machine": "test machine", "when": "2026-12-08 02:00 UTC",
        "load": {"server": "make run", "scorer": "composite", "seconds_per_rate": 20,
                 "sqlite": {"database": "SQLite", "rates": [], "closed_loop": closed}},
        "pipeline": {"comments": 5000, "source": "tweets", "batch": 64,
                     "sqlite": {"database": "SQLite", "runs": [_drain(1, 1200.0)]}},
        "pipeline_composite": {"comments": 2000, "batch": 32,
                               "sqlite": {"database": "SQLite",
                                          "runs": [_drain(1, 151.0), _drain(2, 240.5)]}},
    }
    page = render(report)
    assert "| SQLite | **321.5** | 20.1 ms | 41.0 ms | **87.6 ms** | 0 | 6,430 (6,437) " \
           "| 9.4 | 12.5 s |" in page
    assert "The same with the default composite scorer: 2,000 comments in batches of 32" in page
    assert "| SQLite | 2 | 240.5 | 6.500 |" in page
