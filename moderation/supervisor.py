"""What `make run` runs: a production web server (gunicorn, threads and processes sized to the
machine) and scoring workers in their own processes, supervised together.

- Every line a child writes is passed on with its name in front ("web    | …").
- A scoring worker that exits is started again (after 1, 2, 4 … 30 s if it keeps dying).
- If the web server exits, everything stops, with its exit code.
- Ctrl-C or SIGTERM stops the children (SIGTERM, then SIGKILL after a grace period) and then
  the supervisor. The children run in their own process groups, so a terminal's Ctrl-C reaches
  only the supervisor, which stops them in order.

No Flask here: the children are separate programs (python -m gunicorn, python -m flask)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 15
MAX_BACKOFF = 30.0
STEADY_SECONDS = 60.0  # a worker that ran this long before dying is restarted at once


def web_command(host: str, port: int, processes: int, threads: int) -> list[str]:
    # Each gunicorn worker touches a heartbeat file on every loop: in memory, not on disk
    # (gunicorn's own advice where /tmp may be a disk or an overlay).
    heartbeat = ["--worker-tmp-dir", "/dev/shm"] if os.path.isdir("/dev/shm") else []
    return [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
            "--workers", str(processes), "--threads", str(threads),
            "--worker-class", "gthread", "--graceful-timeout", "10",
            "--keep-alive", "5", "--log-level", "warning", *heartbeat, "wsgi:app"]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]


def default_processes() -> int:
    return max(2, os.cpu_count() or 1)


@dataclass
class Child:
    name: str
    command: list[str]
    restart: bool
    process: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = 1.0
    next_start: float = 0.0
    threads: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    def __init__(self, children: list[Child], *, out=None, stop_with_parent: bool = False):
        self.children = children
        # make run: if make itself is killed, do not leave the server running as an orphan.
        self.parent = os.getppid() if stop_with_parent else None
        self.out = out or sys.stdout
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.width = max(len(child.name) for child in children)

    def say(self, name: str, line: str) -> None:
        with self.lock:
            try:
                self.out.write(f"{name:<{self.width}} | {line.rstrip()}\n")
                self.out.flush()
            except (OSError, ValueError):
                pass  # our own output is gone (a closed terminal): keep supervising

    def _pipe(self, child: Child, stream) -> None:
        """Drain the child's output to the end whatever it holds: a child whose pipe is not
        read blocks on its next write."""
        for line in iter(stream.readline, ""):
            try:
                self.say(child.name, line)
            except (OSError, ValueError):
                pass  # our own output is gone (closed terminal): keep draining
        stream.close()

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1,
            start_new_session=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        child.started = time.monotonic()
        reader = threading.Thread(target=self._pipe, args=(child, child.process.stdout),
                                  daemon=True)
        reader.start()
        child.threads = [reader]
        self.say("run", f"started {child.name} (pid {child.process.pid})")

    def _stop(self, signum=None, frame=None) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Until the web server exits or we are told to stop; returns the exit code."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, self._stop)
        try:
            return self._loop()
        finally:  # whatever happened here, no child is left running
            self.shutdown()

    def _loop(self) -> int:
        for child in self.children:
            self.start(child)
        code = 0
        while not self.stopping.wait(0.2):
            if self.parent is not None and os.getppid() != self.parent:
                self.say("run", "the process that started this one is gone: stopping")
                break
            for child in self.children:
                if child.process is None:
                    if time.monotonic() >= child.next_start:
                        self.start(child)
                    continue
                status = child.process.poll()
                if status is None:
                    continue
                if not child.restart:
                    self.say("run", f"{child.name} exited with code {status}: stopping")
                    code = 128 - status if status < 0 else (status or 1)  # killed: 128 + n
                    self.stopping.set()
                    break
                ran = time.monotonic() - child.started
                # 0 s after a long run; 1, 2, 4 … 30 s while it keeps dying young.
                delay = 0.0 if ran >= STEADY_SECONDS else child.backoff
                child.backoff = 1.0 if ran >= STEADY_SECONDS else min(child.backoff * 2,
                                                                         MAX_BACKOFF)
                self.say("run", f"{child.name} exited with code {status}; starting it again"
                                + (f" in {delay:g} s" if delay else ""))
                child.process = None
                child.next_start = time.monotonic() + delay
        return code

    def shutdown(self) -> None:
        if getattr(self, "_shut", False):
            return
        self._shut = True
        live = [child for child in self.children
                if child.process is not None and child.process.poll() is None]
        if live:
            self.say("run", "stopping " + ", ".join(child.name for child in live))
        for child in live:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in live:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("run", f"{child.name} did not stop in {GRACE_SECONDS} s: killing it")
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait(5)
        for child in self.children:
            for thread in child.threads:
                thread.join(timeout=2)
        self.say("run", "stopped")


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def build(host: str, port: int, *, processes: int, threads: int, workers: int,
          stop_with_parent: bool = False) -> Supervisor:
    children = [Child("web", web_command(host, port, processes, threads), restart=False)]
    children += [Child(f"worker{n + 1}" if workers > 1 else "worker", worker_command(),
                       restart=True) for n in range(workers)]
    return Supervisor(children, stop_with_parent=stop_with_parent)
