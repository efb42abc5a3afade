"""A throwaway PostgreSQL server for the test session (RECIPES: about 1-2 s to start), and for
the benches' PostgreSQL halves (bench/load.py, pipeline_speed.py, queue_speed.py).

Started by the test session itself, on 127.0.0.1 and a free port, and stopped by its PID
at the end, so `make test` and CI need nothing running beforehand."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda path: int(Path(path).parent.name))
    for candidate in reversed(candidates):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The suite trades durability for speed. A bench keeps fsync and full-page writes and, like
# SQLite's WAL with synchronous=NORMAL (extensions.py), lets a crash lose only the last commits.
TEST_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
BENCH_SETTINGS = "-c synchronous_commit=off"


class PostgresServer:
    def __init__(self, bin_dir: Path, settings: str = TEST_SETTINGS):
        self.bin_dir = bin_dir
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix="moderation-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.pid: int | None = None

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                   f"{self.settings} -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60",
                  "-o", options, "start")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])

    def __enter__(self) -> PostgresServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        pid_file = self.data / "postmaster.pid"
        if self.pid is None and pid_file.exists():  # start() failed after the server began
            self.pid = int(pid_file.read_text().split()[0])
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGINT)  # "fast" shutdown
                for _ in range(100):
                    os.kill(self.pid, 0)
                    time.sleep(0.1)
            except ProcessLookupError:
                pass
            self.pid = None
        shutil.rmtree(self.root, ignore_errors=True)


def admin_execute(server: PostgresServer, *statements: str) -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                         dbname="postgres", autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)
