"""Live outputs: what a cell that prints a lot costs the server, the wire and the page.

    python bench/bench_live_outputs.py

A real `jupyter server` with nbchat runs turns on the local kernel (the Claude stand-in
scripts the cell); a follower reads the events socket like the panel does.

1. A cell printing 20 MB (200,000 lines of 100 bytes): the cell's time inside a turn against
   the same code run through raw jupyter_client on its own kernel (baseline: execute, read
   iopub until idle, nothing kept). Target ≤ 1.3×. Bytes sent to the follower against bytes
   printed (target ≤ 0.25: outputs are bounded and batched, never one event per line), and
   the number of `cell_outputs` events per second of cell time (target ≤ 5).
2. The server's event loop during that cell: the slowest `GET nbchat/status` answered while
   the cell prints, against the slowest while idle (same number of probes). Target ≤ 5×
   (and absolute figures printed, since an idle loop answers in about a millisecond).
3. A cell printing 2,000 short lines 1 ms apart: `cell_outputs` events per second (target ≤ 5).

Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import Server, kernel_chat  # noqa: E402
from jupyter_nbchat.testing.claude_standin import ClaudeStandIn  # noqa: E402

LINES, WIDTH = 200_000, 100
BIG = f"for i in range({LINES}):\n    print('x' * {WIDTH - 1})"
TRICKLE = "import time\nfor i in range(2000):\n    print('line', i, flush=True)\n    time.sleep(0.001)"
PROBES = 60


async def follow(server: Server, turn_id: str) -> tuple[list[dict], int, dict[str, float]]:
    """Every event of a turn, the bytes received, and when the code cell started and ended."""
    ws = await websocket_connect(
        HTTPRequest(
            f"ws://127.0.0.1:{server.port}/nbchat/turns/{turn_id}/events",
            headers={"Authorization": f"token {server.token}"},
        ),
        max_message_size=1 << 30,
    )
    events, size, marks = [], 0, {}
    while (message := await ws.read_message()) is not None:
        size += len(message)
        event = json.loads(message)
        events.append(event)
        if event["type"] == "cell_started":
            marks["started"] = time.perf_counter()
        elif event["type"] == "cell" and event.get("role") == "code":
            marks["ended"] = time.perf_counter()
    return events, size, marks


async def probe_status(server: Server, stop: asyncio.Event) -> list[float]:
    """Latencies of GET nbchat/status, one probe every 50 ms until `stop`."""
    latencies = []
    while not stop.is_set() and len(latencies) < 10_000:
        started = time.perf_counter()
        await server.fetch("nbchat/status")
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    return latencies


async def turn(server: Server, claude: ClaudeStandIn, notebook: str, code: str, probe: bool):
    await server.new_notebook(notebook)
    claude.script(ClaudeStandIn.code(code), ClaudeStandIn.text("done"))
    created = await server.fetch(
        "nbchat/turns", "POST", {"notebook_path": notebook, "question": "print", "write": "server"}
    )
    stop = asyncio.Event()
    prober = asyncio.ensure_future(probe_status(server, stop)) if probe else None
    events, size, marks = await follow(server, created["turn_id"])
    stop.set()
    latencies = await prober if prober else []
    assert events[-1]["status"] == "done", events[-3:]
    return events, size, marks, latencies


async def raw_cell_seconds(code: str) -> float:
    """The same code through raw jupyter_client on its own kernel, iopub read until idle."""
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(kernel_name="python3")
    await km.start_kernel()
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    try:
        started = time.perf_counter()
        msg_id = client.execute(code)
        while True:
            msg = await client.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" \
                    and msg["content"]["execution_state"] == "idle":
                return time.perf_counter() - started
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


async def idle_latencies(server: Server) -> list[float]:
    stop = asyncio.Event()
    prober = asyncio.ensure_future(probe_status(server, stop))
    await asyncio.sleep(PROBES * 0.05)
    stop.set()
    return await prober


async def main() -> None:
    async with kernel_chat("nbchat-bench-live-") as (server, claude, _):
        await turn(server, claude, "warm.ipynb", "print('warm')", probe=False)  # kernel up
        idle = await idle_latencies(server)
        big_runs, raw_runs = [], []
        for rep in range(3):
            raw_runs.append(await raw_cell_seconds(BIG))
            big_runs.append(await turn(server, claude, f"big-{rep}.ipynb", BIG, probe=True))
        trickle_events, _, trickle_marks, _ = await turn(server, claude, "trickle.ipynb", TRICKLE, False)

    printed = LINES * WIDTH
    cell_times = [m["ended"] - m["started"] for _, _, m, _ in big_runs]
    ours, raw = statistics.median(cell_times), statistics.median(raw_runs)
    sizes = [size for _, size, _, _ in big_runs]
    snapshots = [sum(e["type"] == "cell_outputs" for e in ev) for ev, _, _, _ in big_runs]
    busy = [max(lat) for _, _, _, lat in big_runs]
    kept = next(
        len(o.get("text", ""))
        for e in big_runs[0][0]
        if e["type"] == "cell" and e.get("role") == "code"
        for o in e["cell"]["outputs"]
        if o.get("output_type") == "stream"
    )
    trickle_time = trickle_marks["ended"] - trickle_marks["started"]
    trickle_snaps = sum(e["type"] == "cell_outputs" for e in trickle_events)

    print(f"20 MB cell ({LINES:,} lines of {WIDTH} bytes), median of 3\n")
    print(f"{'':<44}{'ours':>10}{'baseline':>10}{'ratio':>8}")
    print(f"{'cell time in a turn vs raw jupyter_client':<44}{ours:>9.2f}s{raw:>9.2f}s{ours / raw:>8.2f}")
    wire = statistics.median(sizes)
    print(f"{'bytes to the follower vs bytes printed':<44}{wire / 1e6:>8.2f}MB{printed / 1e6:>8.2f}MB{wire / printed:>8.3f}")
    rate = statistics.median(s / t for s, t in zip(snapshots, cell_times))
    print(f"{'cell_outputs events per second of cell':<44}{rate:>10.2f}")
    print(f"{'stream text kept in the notebook':<44}{kept / 1e6:>8.2f}MB")
    print(f"{'slowest status probe, printing vs idle':<44}{statistics.median(busy) * 1000:>8.1f}ms"
          f"{max(idle) * 1000:>8.1f}ms{statistics.median(busy) / max(idle):>8.2f}")
    print(f"\ntrickle (2,000 lines, 1 ms apart): {trickle_snaps} cell_outputs in {trickle_time:.2f} s "
          f"= {trickle_snaps / trickle_time:.2f} per second")


if __name__ == "__main__":
    asyncio.run(main())
