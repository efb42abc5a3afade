"""A scoring worker process caps its model's threads and lowers its priority before its model
loads (MODERATION_WORKER_THREADS, MODERATION_WORKER_NICE), so readers' requests on the same
cores are served first. Checked in a child process: niceness cannot be undone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json, os, sys
import numpy  # its BLAS starts a pool of its own at import, before the worker settles
from threadpoolctl import threadpool_info
from moderation import create_app
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                  "SECRET_KEY": "x", "MODERATION_SCORER": "embedded",
                  **json.loads(sys.argv[1])})
from moderation.worker import settle_process
before = os.nice(0)
line = settle_process(app)
import torch
print(json.dumps({"before": before, "after": os.nice(0), "line": line,
                  "omp": os.environ.get("OMP_NUM_THREADS"), "torch": torch.get_num_threads(),
                  "blas": [pool["num_threads"] for pool in threadpool_info()]}))
"""


def _child(settings: dict, env: dict | None = None) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    environment.update(env or {})
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(settings)], cwd=ROOT,
                          env=environment, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_defaults_give_one_thread_and_a_lower_priority():
    seen = _child({})
    assert seen["omp"] == "1" and seen["torch"] == 1
    assert seen["blas"] and set(seen["blas"]) == {1}  # no spinning BLAS threads either
    assert seen["after"] == min(seen["before"] + 10, 19)
    assert "model threads: 1" in seen["line"] and f"nice {seen['after']}" in seen["line"]


def test_zero_leaves_threads_and_priority_alone():
    seen = _child({"MODERATION_WORKER_THREADS": 0, "MODERATION_WORKER_NICE": 0},
                  env={"OMP_NUM_THREADS": "2"})
    assert seen["omp"] == "2" and seen["after"] == seen["before"]
    assert "one per core" in seen["line"] and "unchanged" in seen["line"]


# ---- bad settings stop a worker with a sentence, not a traceback --------------------------

def test_the_default_settings_have_no_problems():
    from moderation.config import DEFAULTS
    from moderation.worker_settings import setting_problems

    assert setting_problems(DEFAULTS) == []


def test_each_bad_value_is_named_with_what_it_should_be():
    from moderation.config import DEFAULTS
    from moderation.worker_settings import setting_problems

    config = {**DEFAULTS, "MODERATION_WORKER_THREADS": "two", "MODERATION_WORKER_NICE": -1,
              "MODERATION_WORKER_BATCH": 2.5, "MODERATION_LEASE_SECONDS": float("nan"),
              "MODERATION_WORKER_RECENT_TEXTS": True, "MODERATION_RETRY_MAX_SECONDS": None}
    problems = setting_problems(config)
    assert len(problems) == 6
    text = " ".join(problems)
    assert "MODERATION_WORKER_THREADS (model threads, 0 for one per core) must be a whole " \
           "number; it is 'two'." in problems
    assert "MODERATION_WORKER_NICE" in text and "must be at least 0; it is -1." in text
    assert "MODERATION_WORKER_BATCH" in text and "it is 2.5" in text
    assert "MODERATION_LEASE_SECONDS" in text and "must be a number" in text
    assert "MODERATION_WORKER_RECENT_TEXTS" in text and "MODERATION_RETRY_MAX_SECONDS" in text


def _app_with(tmp_path, **settings):
    from moderation import create_app
    from tests.conftest import base_config

    return create_app({**base_config(f"sqlite:///{tmp_path / 'w.sqlite3'}"), **settings})


def test_flask_worker_refuses_to_start_on_a_bad_setting(tmp_path):
    app = _app_with(tmp_path, MODERATION_WORKER_THREADS="lots")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 1
    assert "the worker cannot start: MODERATION_WORKER_THREADS" in result.output
    assert "Traceback" not in result.output


def test_flask_supervise_refuses_before_starting_anything(tmp_path, monkeypatch):
    from moderation import supervisor

    def started(*args, **kwargs):
        raise AssertionError("nothing may start with a bad worker setting")

    monkeypatch.setattr(supervisor, "build", started)
    app = _app_with(tmp_path, MODERATION_WORKER_BATCH=0)
    result = app.test_cli_runner().invoke(args=["supervise", "--port", "5999"])
    assert result.exit_code == 1
    assert "the scoring workers cannot start: MODERATION_WORKER_BATCH" in result.output
