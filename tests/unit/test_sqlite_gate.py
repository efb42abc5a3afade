"""The SQLite write gate (moderation/sqlite_gate.py): writers queue at a lock file and are let
go when a transaction ends; whatever the gate does, SQLite's own locking decides what is
written."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading

import pytest

from moderation import create_app
from moderation.extensions import db
from moderation.sqlite_gate import GatedConnection, engine_options, gate_for


def _connect(path, **kwargs) -> GatedConnection:
    return sqlite3.connect(path, factory=GatedConnection, check_same_thread=False, **kwargs)


@pytest.fixture()
def database(tmp_path):
    path = str(tmp_path / "gate.sqlite3")
    setup = _connect(path)
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    return path


def _try_lock(path: str, answer) -> None:
    """In another process: could it take the gate's file lock right now?"""
    fd = os.open(path + "-writer.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        answer.put(True)
    except BlockingIOError:
        answer.put(False)
    finally:
        os.close(fd)


def _other_process_can_write(path: str) -> bool:
    context = multiprocessing.get_context("spawn")
    answer = context.Queue()
    child = context.Process(target=_try_lock, args=(path, answer))
    child.start()
    result = answer.get(timeout=60)
    child.join(60)
    return result


def test_a_write_holds_the_gate_until_commit_for_every_process(database):
    connection = _connect(database)
    connection.execute("SELECT count(*) FROM t").fetchall()
    assert not connection._held  # reads pass without the gate
    assert _other_process_can_write(database)
    connection.execute("INSERT INTO t VALUES (1)")
    assert connection._held and connection.in_transaction
    assert not _other_process_can_write(database)
    connection.commit()
    assert not connection._held
    assert _other_process_can_write(database)


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_rollback_and_close_let_go(database, end):
    connection = _connect(database)
    connection.cursor().execute("UPDATE t SET x = 2")
    assert connection._held
    getattr(connection, end)()
    assert not connection._held
    assert _other_process_can_write(database)


def test_a_statement_outside_a_transaction_lets_go_at_once(database):
    connection = _connect(database)
    connection.execute("CREATE TABLE u (y INTEGER)")  # DDL: autocommit
    assert not connection._held
    with pytest.raises(sqlite3.OperationalError):
        connection.execute("INSERT INTO missing VALUES (1)")  # failed: no transaction began
    assert not connection._held
    assert _other_process_can_write(database)


def test_a_waiting_thread_writes_once_the_holder_commits(database, monkeypatch):
    from moderation import sqlite_gate

    first, second = _connect(database), _connect(database)
    first.execute("INSERT INTO t VALUES (1)")
    waiting, done = threading.Event(), threading.Event()
    acquire = sqlite_gate._Gate.acquire

    def noted(gate, timeout):
        if threading.current_thread() is not threading.main_thread():
            waiting.set()  # the second writer has reached the gate
        return acquire(gate, timeout)

    monkeypatch.setattr(sqlite_gate._Gate, "acquire", noted)

    def write():
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert waiting.wait(30)
    # It waits at the gate, outside any transaction (in SQLite's busy handler it would be
    # inside its BEGIN already).
    assert not second.in_transaction
    first.commit()
    thread.join(60)
    assert done.is_set()
    assert sorted(row[0] for row in first.execute("SELECT x FROM t")) == [1, 2]


def test_a_second_connection_in_the_same_thread_goes_to_sqlite_not_a_deadlock(database):
    holder = _connect(database)
    holder.execute("INSERT INTO t VALUES (1)")
    other = _connect(database, timeout=0.2)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("INSERT INTO t VALUES (2)")  # SQLite's answer, as without the gate
    assert not other._held
    holder.commit()
    other.execute("INSERT INTO t VALUES (3)")
    other.commit()
    assert sorted(row[0] for row in holder.execute("SELECT x FROM t")) == [1, 3]


def _hold_lock(path: str, ready, release) -> None:
    fd = os.open(path + "-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    ready.set()
    release.wait(120)
    os.close(fd)


def test_a_gate_held_too_long_elsewhere_does_not_stop_the_write(database):
    """Another process holds the lock file but not SQLite's lock (a stuck process, say): after
    the connection's timeout the write goes to SQLite ungated and is stored."""
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    child = context.Process(target=_hold_lock, args=(database, ready, release))
    child.start()
    try:
        assert ready.wait(60)
        connection = _connect(database, timeout=0.2)
        connection.execute("INSERT INTO t VALUES (7)")
        assert not connection._held
        connection.commit()
        assert [row[0] for row in connection.execute("SELECT x FROM t")] == [7]
    finally:
        release.set()
        child.join(60)


def test_in_memory_databases_have_no_gate(tmp_path):
    assert gate_for(":memory:") is None
    assert gate_for("file::memory:?cache=shared") is None
    path = str(tmp_path / "a.sqlite3")
    assert gate_for(path) is gate_for(path)


def test_a_forked_child_gets_its_own_gate(tmp_path, monkeypatch):
    path = str(tmp_path / "a.sqlite3")
    parent = gate_for(path)
    monkeypatch.setattr(os, "getpid", lambda: os.getppid() + 10**7)
    assert gate_for(path) is not parent


def test_engine_options_only_for_sqlite_files():
    assert engine_options("sqlite:////tmp/x.sqlite3", {})["connect_args"]["factory"] \
        is GatedConnection
    assert engine_options("sqlite://", {}) == {}
    assert engine_options("sqlite:///:memory:", {}) == {}
    assert engine_options("postgresql+psycopg://u@h/d", {"pool_size": 3}) == {"pool_size": 3}
    kept = engine_options("sqlite:////tmp/x.sqlite3", {"connect_args": {"timeout": 3}})
    assert kept["connect_args"] == {"timeout": 3, "factory": GatedConnection}


@pytest.mark.parametrize("setting, gated", [(True, True), (False, False)])
def test_the_app_uses_the_gate_on_a_sqlite_file_unless_turned_off(tmp_path, setting, gated):
    app = create_app({"SECRET_KEY": "gate", "MODERATION_SQLITE_WRITE_GATE": setting,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite3'}"})
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            assert isinstance(raw.dbapi_connection, GatedConnection) is gated
        finally:
            raw.close()
    assert app.config["RATELIMIT_STORAGE_OPTIONS"]["write_gate"] is setting


def test_a_connection_dropped_without_closing_lets_go(database):
    import gc

    connection = _connect(database)
    connection.execute("INSERT INTO t VALUES (1)")
    assert not _other_process_can_write(database)
    del connection
    gc.collect()
    assert _other_process_can_write(database)
