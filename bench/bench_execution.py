"""Execution benchmarks: overlap of sandbox start with generation, re-uploads, kernel overhead.

    python bench/bench_execution.py

1. First turn on E2B, with the stand-ins' latencies set to a 0.6 s sandbox start and a 2 s
   Claude generation, and a 20 MB attachment: the turn's wall time with the executor started
   early (default) and with it started only when the first cell runs (sequential baseline),
   both against the ideal max(generation, start + upload) + execution + answer, whose parts
   are measured separately in the same run with the same SDKs. Target: early ≤ 1.10 × ideal.
2. The second turn of the same chat: bytes uploaded (target 0 for an unchanged file).
3. Local kernel: per-cell time of KernelExecutor.run_cell("1+1") against raw jupyter_client
   (execute + iopub until idle) on the same kernel, interleaved. Target ≤ 1.2×.

Everything talks to local stand-ins (jupyter_nbchat.testing) through the real SDKs.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anthropic  # noqa: E402
from e2b_code_interpreter import AsyncSandbox  # noqa: E402

from bench.harness import Server  # noqa: E402
from jupyter_nbchat.testing.claude_standin import ClaudeStandIn  # noqa: E402
from jupyter_nbchat.testing.e2b_standin import E2BStandIn  # noqa: E402

START_DELAY = 0.6
GENERATION = 2.0
UPLOAD_MB = 20
REPEATS = 3
CELL = "import pandas as pd\nframe = pd.read_csv('upload.csv')\nprint(len(frame))"


def make_upload(folder: Path) -> Path:
    path = folder / "upload.csv"
    rng = random.Random(5)
    with path.open("w") as f:
        f.write("id,region,amount,note\n")
        i = 0
        while f.tell() < UPLOAD_MB * 1024 * 1024:
            f.write(f"{i},{rng.choice('NSEW')},{rng.random() * 1000:.2f},\"note {i}, free text\"\n")
            i += 1
    return path


async def time_parts(claude: ClaudeStandIn, e2b: E2BStandIn, upload: Path) -> dict[str, float]:
    """Each part of the ideal turn, measured alone with the real SDKs (medians of REPEATS)."""
    runs = [await time_parts_once(claude, e2b, upload) for _ in range(REPEATS)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


async def time_parts_once(claude: ClaudeStandIn, e2b: E2BStandIn, upload: Path) -> dict[str, float]:
    sdk = anthropic.AsyncAnthropic(api_key="sk-ant-bench", base_url=claude.url)
    claude.script({**ClaudeStandIn.code(CELL), "delay": GENERATION}, ClaudeStandIn.text("done"))
    started = time.perf_counter()
    async with sdk.messages.stream(model="m", max_tokens=100, messages=[{"role": "user", "content": "q"}]) as s:
        await s.get_final_message()
    generation = time.perf_counter() - started
    started = time.perf_counter()
    await sdk.messages.create(model="m", max_tokens=100, messages=[{"role": "user", "content": "q"}])
    answer = time.perf_counter() - started

    started = time.perf_counter()
    sandbox = await AsyncSandbox.create(**e2b.sdk_kwargs())
    with upload.open("rb") as f:
        await sandbox.files.write("/home/user/upload.csv", f)
    start_upload = time.perf_counter() - started
    await sandbox.run_code("1")  # the kernel is warm in a real turn by the time the cell runs
    started = time.perf_counter()
    await sandbox.run_code(CELL)
    execution = time.perf_counter() - started
    await sandbox.kill()
    return {"generation": generation, "start_upload": start_upload, "execution": execution, "answer": answer}


async def time_turns(early: bool, claude: ClaudeStandIn, e2b: E2BStandIn, root: Path) -> tuple[list[float], int]:
    config = [
        "c.NbChat.executor = 'e2b'",
        f"c.NbChat.e2b_api_key = {e2b.sdk_kwargs()['api_key']!r}",
        f"c.NbChat.anthropic_base_url = {claude.url!r}",
        f"c.NbChat.start_executor_early = {early}",
    ]
    server = Server(root, config, {**e2b.env(), "ANTHROPIC_API_KEY": "sk-ant-bench"})
    walls, second_upload = [], -1
    try:
        await server.ready()
        for rep in range(REPEATS):
            notebook = f"{'early' if early else 'lazy'}-{rep}.ipynb"
            await server.new_notebook(notebook)
            claude.script({**ClaudeStandIn.code(CELL), "delay": GENERATION}, ClaudeStandIn.text("done"))
            started = time.perf_counter()
            events = await server.ask(notebook, "How many rows?", attachments=["upload.csv"])
            walls.append(time.perf_counter() - started)
            assert events[-1]["status"] == "done", events[-3:]
            if rep == 0:
                sandbox = next(e["state"]["sandbox_id"] for e in events if e["type"] == "executor_state")
                before = e2b.stats.bytes_uploaded[sandbox]
                claude.script(ClaudeStandIn.code("print(len(frame))"), ClaudeStandIn.text("same"))
                await server.ask(notebook, "Again?", attachments=["upload.csv"])
                second_upload = e2b.stats.bytes_uploaded[sandbox] - before
    finally:
        server.stop()
    return walls, second_upload


async def kernel_overhead(cells: int = 200) -> tuple[float, float]:
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from jupyter_server.services.sessions.sessionmanager import SessionManager

    from jupyter_nbchat.execution import KernelExecutor

    folder = tempfile.mkdtemp(prefix="nbchat-bench-kernel-")
    km = AsyncMappingKernelManager(root_dir=folder, connection_dir=folder)
    sm = SessionManager(kernel_manager=km, contents_manager=AsyncLargeFileManager(root_dir=folder))
    executor = KernelExecutor(kernel_manager=km, session_manager=sm, notebook_path="k.ipynb")
    await executor.ensure_ready()
    # Its own kernel with a single client: the first client connected to a kernel gets its
    # iopub messages several ms sooner than a second one, so sharing a kernel is unfair.
    raw = km.get_kernel(await km.start_kernel(kernel_name="python3")).client()
    raw.start_channels()
    await raw.wait_for_ready(timeout=60)

    async def raw_cell() -> None:
        msg_id = raw.execute("1+1")
        while True:
            msg = await raw.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" \
                    and msg["content"]["execution_state"] == "idle":
                return

    ours, theirs = [], []
    for _ in range(20):  # warm-up
        await raw_cell()
        await executor.run_cell("1+1", 30)
    for _ in range(cells):
        started = time.perf_counter()
        await raw_cell()
        theirs.append(time.perf_counter() - started)
        started = time.perf_counter()
        await executor.run_cell("1+1", 30)
        ours.append(time.perf_counter() - started)
    raw.stop_channels()
    await executor.close()
    await km.shutdown_all(now=True)
    return statistics.median(ours), statistics.median(theirs)


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="nbchat-bench-exec-"))
    root = work / "root"
    root.mkdir()
    upload = make_upload(root)
    claude, e2b = ClaudeStandIn(), E2BStandIn()
    await claude.start()
    await e2b.start()
    e2b.faults.start_delay = START_DELAY
    try:
        parts = await time_parts(claude, e2b, upload)
        early, second_early = await time_turns(True, claude, e2b, root)
        lazy, second_lazy = await time_turns(False, claude, e2b, root)
    finally:
        await e2b.stop()
        await claude.stop()
    ours, theirs = await kernel_overhead()

    ideal = max(parts["generation"], parts["start_upload"]) + parts["execution"] + parts["answer"]
    e, s = statistics.median(early), statistics.median(lazy)
    print(f"E2B stand-in: sandbox start {START_DELAY} s, Claude generation {GENERATION} s, upload {UPLOAD_MB} MB\n")
    print("parts (measured alone):  " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
    print(f"ideal = max(generation, start+upload) + execution + answer = {ideal:.2f} s\n")
    print(f"{'first turn (median of ' + str(REPEATS) + ')':<34}{'wall':>8}{'÷ ideal':>10}")
    print(f"{'early start (default)':<34}{e:>7.2f}s{e / ideal:>10.2f}")
    print(f"{'sequential baseline':<34}{s:>7.2f}s{s / ideal:>10.2f}")
    print(f"{'early vs sequential':<34}{'':>8}{e / s:>10.2f}")
    print(f"\nsecond turn, unchanged file: {second_early} bytes uploaded (early), {second_lazy} (sequential)")
    print(f"\nlocal kernel, `1+1` per cell (median of 200): ours {ours * 1000:.2f} ms, "
          f"raw jupyter_client {theirs * 1000:.2f} ms, ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
