"""One SQLite writer at a time, woken the moment the last one finishes.

SQLite lets one connection write at a time. A connection that finds the write lock taken
sleeps in SQLite's busy handler, in steps of 1, 2, 5, 10, 15, 20, 25 … 100 ms, and looks
again: a post that arrives while the worker commits a batch waits 18 ms for a 12 ms lock, and
at a few hundred posts a second those sleeps were most of the web's wall time and its tail.

The gate puts writers in line before SQLite sees them: a write statement first takes a
process-wide lock (threads wait on it and are woken at once), then an advisory lock on
`<database>-writer.lock` shared by every process on the file (polled every millisecond at
most), and gives both back when its transaction commits or rolls back. SQLite's own locking
stays the rule: a writer the gate does not know of (another program, a statement it does not
recognise, a second connection in a thread that already holds the gate, a wait past the
connection's timeout) goes straight to SQLite and waits there as before. So the gate only
changes who waits where, never what is written.

Used for file databases (not `:memory:`) through sqlite3's connection factory; settings:
MODERATION_SQLITE_WRITE_GATE (default on)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

try:
    import fcntl
except ImportError:  # not on Windows: SQLite's own busy handler only
    fcntl = None

# Statements that write (or take SQLite's write lock); anything else passes ungated.
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})
_POLL_FIRST, _POLL_MOST = 0.0001, 0.001  # seconds between looks at another process's lock


def _writes(sql: str) -> bool:
    head = sql.lstrip()[:8].split(None, 1)
    return bool(head) and head[0].upper() in _WRITES


class _Gate:
    """One database file's gate in this process: a thread lock, then the file lock."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.owner: int | None = None  # the thread holding it

    def acquire(self, timeout: float) -> bool:
        """True once this thread holds the gate; False (go to SQLite ungated) when this
        thread holds it already through another connection, or after `timeout` seconds."""
        if self.owner == threading.get_ident():
            return False
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=max(0.0, timeout)):
            return False
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            delay = _POLL_FIRST
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        self._lock.release()
                        return False
                    time.sleep(delay)
                    delay = min(delay * 2, _POLL_MOST)
        except OSError:  # no lock file here (read-only folder): SQLite decides alone
            self._lock.release()
            return False
        self.owner = threading.get_ident()
        return True

    def release(self) -> None:
        self.owner = None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()


_gates: dict[tuple[int, str], _Gate] = {}
_gates_lock = threading.Lock()


def gate_for(database: str) -> _Gate | None:
    """This process's gate for a database file; None for an in-memory database. Keyed by
    process too: a forked child opens its own lock file (a shared one would not exclude)."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = os.path.abspath(database) + "-writer.lock"
    key = (os.getpid(), path)
    with _gates_lock:
        if key not in _gates:
            _gates[key] = _Gate(path)
        return _gates[key]


class GatedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        return self.connection._gated(super().execute, sql, parameters)

    def executemany(self, sql, parameters, /):
        return self.connection._gated(super().executemany, sql, parameters)


class GatedConnection(sqlite3.Connection):
    """sqlite3.connect(path, factory=GatedConnection): writes go through the file's gate."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._gate = gate_for(os.fsdecode(database))
        self._held = False
        self._wait = float(kwargs.get("timeout", args[0] if args else 5.0))

    def cursor(self, factory=GatedCursor):
        return super().cursor(factory)

    # The shortcuts make a plain cursor of their own: through ours instead.
    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, parameters, /):
        return self.cursor().executemany(sql, parameters)

    def _gated(self, run, sql, parameters):
        if self._gate is not None and not self._held and _writes(sql):
            self._held = self._gate.acquire(self._wait)
        try:
            return run(sql, parameters)
        finally:
            if self._held and not self.in_transaction:  # autocommit, or it never began
                self._let_go()

    def _let_go(self) -> None:
        self._held = False
        self._gate.release()

    def commit(self):
        self._ending(super().commit)

    def rollback(self):
        self._ending(super().rollback)

    def _ending(self, end) -> None:
        try:
            end()
        finally:
            if self._held and not self.in_transaction:
                self._let_go()

    def close(self):
        try:
            super().close()
        finally:
            if self._held:
                self._let_go()

    def __del__(self):  # dropped without close(): its gate must not stay shut
        if getattr(self, "_held", False):
            self._let_go()


def engine_options(url: str, options: dict) -> dict:
    """SQLAlchemy engine options with the gate added for a SQLite file database."""
    in_memory = ":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite")
    if not url.startswith("sqlite") or in_memory:
        return options
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("factory", GatedConnection)
    return {**options, "connect_args": connect_args}
