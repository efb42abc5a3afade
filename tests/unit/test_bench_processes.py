"""The load bench splits server CPU into web, worker and database: a misattributed process
would move the web-CPU-per-post figure silently."""

from __future__ import annotations

import os
import time

from bench.processes import Process, cpu_by_role, difference, processes

SUPERVISOR, GUNICORN, POSTMASTER = 10, 11, 20


def server(*extra: Process, gunicorn_seconds: float = 1.0) -> dict[int, Process]:
    table = [
        Process(1, 0, "/sbin/init", 99.0),
        Process(SUPERVISOR, 1, "python -m flask --app wsgi supervise --port 5001", 0.5),
        Process(GUNICORN, SUPERVISOR, "python -m gunicorn --bind 127.0.0.1:5001 wsgi:app",
                gunicorn_seconds),
        Process(12, GUNICORN, "python -m gunicorn --bind 127.0.0.1:5001 wsgi:app", 3.0),
        Process(13, GUNICORN, "python -m gunicorn --bind 127.0.0.1:5001 wsgi:app", 4.0),
        Process(14, SUPERVISOR, "python -m flask --app wsgi worker", 2.0),
        Process(POSTMASTER, 1, "/usr/lib/postgresql/15/bin/postgres -D /tmp/data", 0.25),
        Process(21, POSTMASTER, "postgres: postgres bench 127.0.0.1(4242) idle", 6.0),
        Process(30, 1, "python -m bench.load", 50.0),  # the generator is not the server
        *extra,
    ]
    return {process.pid: process for process in table}


def test_gunicorn_and_its_workers_are_web_the_scoring_process_is_worker():
    seconds = cpu_by_role(server(), SUPERVISOR, POSTMASTER)
    assert seconds["web"] == 1.0 + 3.0 + 4.0
    assert seconds["worker"] == 2.0
    assert seconds["supervisor"] == 0.5
    assert seconds["database"] == 0.25 + 6.0
    assert seconds["other"] == 0.0


def test_without_a_database_server_nothing_is_counted_as_database():
    assert cpu_by_role(server(), SUPERVISOR)["database"] == 0.0


def test_a_web_process_that_exited_still_counts_through_its_parent():
    before = cpu_by_role(server(), SUPERVISOR, POSTMASTER)
    after_table = server(gunicorn_seconds=1.0 + 3.5)  # process 12 ran 0.5 s more, then exited
    del after_table[12]
    spent = difference(cpu_by_role(after_table, SUPERVISOR, POSTMASTER), before)
    assert spent["web"] == 0.5
    assert spent["worker"] == spent["database"] == 0.0


def test_this_process_is_read_from_proc_with_its_parent_and_its_cpu():
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    me = processes()[os.getpid()]
    assert me.parent == os.getppid()
    assert "pytest" in me.command or "python" in me.command
    assert me.cpu_seconds >= 0.05
