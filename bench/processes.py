"""CPU seconds of a server's processes, by role, from /proc (Linux).

`flask supervise` starts gunicorn (web) and scoring workers as its children; PostgreSQL's
postmaster starts a backend per connection plus its background processes. Each process is
counted with the children it has already reaped (utime + stime + cutime + cstime), so a process
that exits between two readings still counts: its time moves into its parent's total. The
difference of two readings is then what the tree spent in between."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
ROLES = ("web", "worker", "supervisor", "database", "other")


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    command: str
    cpu_seconds: float  # its own and its reaped children's


def processes(proc: Path = Path("/proc")) -> dict[int, Process]:
    """Every process we can read right now."""
    found = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
        except OSError:  # it exited while we looked
            continue
        ticks = sum(int(field) for field in fields[11:15])
        found[int(entry.name)] = Process(int(entry.name), int(fields[1]), command, ticks / TICKS)
    return found


def _descendants(table: dict[int, Process], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for process in table.values():
        children.setdefault(process.parent, []).append(process.pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def tree_cpu(table: dict[int, Process], root: int) -> float:
    """CPU seconds of a process and all its descendants (a database server's postmaster)."""
    return sum(table[pid].cpu_seconds for pid in _descendants(table, root))


def _role_of_child(command: str) -> str:
    """A direct child of the supervisor: gunicorn serves, `flask … worker` scores."""
    if "gunicorn" in command:
        return "web"
    if command.split()[-1:] == ["worker"]:
        return "worker"
    return "other"


def cpu_by_role(table: dict[int, Process], supervisor: int,
                database: int | None = None) -> dict[str, float]:
    """CPU seconds of the supervisor's tree split into web, worker and the supervisor itself,
    and of the database server's tree (its postmaster's pid) when given."""
    seconds = dict.fromkeys(ROLES, 0.0)
    if supervisor in table:
        seconds["supervisor"] += table[supervisor].cpu_seconds
    for pid, process in table.items():
        if process.parent != supervisor:
            continue
        role = _role_of_child(process.command)
        seconds[role] += tree_cpu(table, pid)
    if database is not None:
        seconds["database"] += tree_cpu(table, database)
    return seconds


def difference(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {role: after[role] - before.get(role, 0.0) for role in after}
