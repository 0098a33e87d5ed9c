"""Soak: does the server keep its size over hundreds of turns?

    python bench/bench_soak.py [--turns 300] [--warmup N] [--settle 35]

A real `jupyter server` with nbchat (bench/harness.py) and the Claude stand-in runs short
turns one after another in one chat on the local kernel, each followed to its end like the
panel follows it: the stand-in asks for one small cell, then answers. Measured on the server
process, after the warm-up and at the end: resident memory (/proc/<pid>/status VmRSS), open
file descriptors (/proc/<pid>/fd), threads (/proc/<pid>/task), and kernels alive
(GET api/kernels).

The warm-up is as many turns as the server keeps finished turns in memory
(`turn_registry.KEEP_FINISHED_TURNS`): until then every turn legitimately adds its event log,
and after it each new turn evicts the oldest, so growth past it is what a turn leaves behind.
Each sample is taken after the server has been idle `--settle` seconds: jupyter_server's
WebSocketMixin keeps a closed socket's handler (about 14 KiB with its request) until its next
keep-alive ping, 30 s later, so a sample right after a fast run counts the sockets of the last
30 s as growth (bounded by time, not by turns: a second burst reuses the memory).

Baseline: a second server, same turn counts, each turn a text-only answer (no cell), so the
ratio of the two growths isolates execution. Targets: RSS growth after the warm-up under 10 %;
descriptors, threads and kernels the same at start and end. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import Server, kernel_chat  # noqa: E402
from jupyter_nbchat.testing.claude_standin import ClaudeStandIn  # noqa: E402
from jupyter_nbchat.turn_registry import KEEP_FINISHED_TURNS  # noqa: E402

CELL = "total = sum(range(1000))\nprint(total)"
NOTEBOOK = "soak.ipynb"


@dataclass
class Sample:
    rss: int  # bytes
    fds: int
    threads: int
    kernels: int


@dataclass
class Run:
    name: str
    warm: Sample | None = None
    end: Sample | None = None
    turn_seconds: list[float] = field(default_factory=list)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def sample(server: Server) -> Sample:
    pid = server.process.pid
    kernels = await server.fetch("api/kernels")
    return Sample(
        rss=rss_bytes(pid),
        fds=len(list(Path(f"/proc/{pid}/fd").iterdir())),
        threads=len(list(Path(f"/proc/{pid}/task").iterdir())),
        kernels=len(kernels),
    )


async def one_turn(server: Server, claude: ClaudeStandIn, with_cell: bool) -> float:
    """One turn followed to its end (the follower writes nothing: the notebook stays the same)."""
    responses = [ClaudeStandIn.code(CELL)] if with_cell else []
    claude.script(*responses, ClaudeStandIn.text("The total is 499500."))
    started = time.perf_counter()
    created = await server.fetch("nbchat/turns", "POST", {"notebook_path": NOTEBOOK, "question": "Sum it"})
    events = await server.events(created["turn_id"])
    assert events[-1]["type"] == "turn_finished" and events[-1]["status"] == "done", events[-3:]
    cells = [e for e in events if e["type"] == "cell" and e.get("role") == "code"]
    assert len(cells) == with_cell and (not cells or cells[0]["cell"]["outputs"][0]["text"] == "499500\n")
    return time.perf_counter() - started


async def soak(name: str, with_cell: bool, turns: int, warmup: int, settle: float) -> Run:
    run = Run(name)
    async with kernel_chat(f"nbchat-bench-soak-{name}-") as (server, claude, _):
        await server.new_notebook(NOTEBOOK)
        # The kernel starts with the first turn in both runs: a baseline turn runs no cell.
        await server.fetch("nbchat/executor/warm", "POST", {"notebook_path": NOTEBOOK})
        for _ in range(warmup):
            await one_turn(server, claude, with_cell)
        await asyncio.sleep(settle)
        run.warm = await sample(server)
        for _ in range(turns):
            run.turn_seconds.append(await one_turn(server, claude, with_cell))
        await asyncio.sleep(settle)
        run.end = await sample(server)
    return run


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def report(runs: list[Run], turns: int, warmup: int) -> None:
    ours, base = runs
    print(f"{turns} turns after a warm-up of {warmup}, one chat, local kernel; samples settled\n")
    print(f"{'':<34}{'with a cell':>18}{'text only':>18}{'ratio':>8}")

    def row(label: str, a: str, b: str, ratio: str = "") -> None:
        print(f"{label:<34}{a:>18}{b:>18}{ratio:>8}")

    row("RSS after warm-up", mib(ours.warm.rss), mib(base.warm.rss))
    row("RSS at end", mib(ours.end.rss), mib(base.end.rss))
    growth = [(r.end.rss - r.warm.rss) for r in runs]
    pct = [g / r.warm.rss * 100 for g, r in zip(growth, runs)]
    ratio = f"{growth[0] / growth[1]:.2f}" if growth[1] > 0 else "-"
    row("RSS growth", f"{mib(growth[0])} ({pct[0]:+.1f} %)", f"{mib(growth[1])} ({pct[1]:+.1f} %)", ratio)
    row("RSS growth per turn", f"{growth[0] / turns / 1024:.1f} KiB", f"{growth[1] / turns / 1024:.1f} KiB")
    for label, key in (("open fds start -> end", "fds"), ("threads start -> end", "threads"),
                       ("kernels alive start -> end", "kernels")):
        row(label, *(f"{getattr(r.warm, key)} -> {getattr(r.end, key)}" for r in runs))
    row("turn time, median", *(f"{statistics.median(r.turn_seconds) * 1000:.0f} ms" for r in runs))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=KEEP_FINISHED_TURNS)
    parser.add_argument("--settle", type=float, default=35.0, help="idle seconds before a sample")
    args = parser.parse_args()
    started = time.monotonic()
    runs = [
        await soak("with a cell", True, args.turns, args.warmup, args.settle),
        await soak("text only", False, args.turns, args.warmup, args.settle),
    ]
    report(runs, args.turns, args.warmup)
    print(f"\nwall time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
