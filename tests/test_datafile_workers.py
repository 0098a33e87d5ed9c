"""Data-file worker processes die with the server, whatever kills it (even SIGKILL, which
runs no cleanup): none stays behind holding memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

#: "Did not stay behind": generous, never a performance assertion.
BOUND = 20.0
POOL_OWNER = """
import os, sys, time
from jupyter_nbchat.datafiles import tasks
tasks.enable(2)
assert tasks.pmap(os.getpid, [()] * 8)  # the workers exist and have run a task
print('ready', flush=True)
time.sleep(600)
"""


def children(pid: int) -> set[int]:
    """Every live descendant of `pid` (from /proc: its children, theirs, and so on)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p for p in found if alive(p)}


def alive(pid: int) -> bool:
    """Running (a zombie no one reaps has ended: it holds no memory)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_workers_die_when_the_server_is_killed():
    owner = subprocess.Popen([sys.executable, "-c", POOL_OWNER], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout.readline() == "ready\n"
        descendants = children(owner.pid)
        assert len(descendants) >= 2  # the workers (and the forkserver that started them)
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(BOUND)
        deadline = time.monotonic() + BOUND
        while {p for p in descendants if alive(p)} and time.monotonic() < deadline:
            time.sleep(0.1)

        assert {p for p in descendants if alive(p)} == set()
    finally:
        owner.kill()
        for pid in children(owner.pid) if owner.poll() is None else []:
            os.kill(pid, signal.SIGKILL)
