"""Verify notebook benchmark: the whole job against plain nbclient on the same notebook.

    python bench/bench_verify.py

A generated notebook of 30 code cells (pandas, numpy, a matplotlib chart, prints, a
DataFrame table, a cell that raises), its outputs saved from an nbclient run, and a record
whose answer quotes numbers. Timed, interleaved, REPEATS times each:

- ours: `POST nbchat/verify` on a real `jupyter server` with the extension, polled until
  done (fresh kernel started, every cell run, outputs compared, the answer's numbers looked
  up, kernel shut down); the figure is the job's own `elapsed_seconds` and, beside it, the
  wall time the client saw (includes the polling interval, POLL seconds).
- baseline: `nbclient.NotebookClient(nb).async_execute()` in this process (kernel start,
  every cell, kernel shutdown) — executing alone, with nothing compared.
"""

from __future__ import annotations

import asyncio
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook  # noqa: E402

from bench.harness import Server  # noqa: E402

REPEATS = 5
POLL = 0.02
CELLS = 30


def make_notebook() -> nbformat.NotebookNode:
    """30 code cells of a small analysis, with a few markdown cells between."""
    sources = [
        "import numpy as np\nimport pandas as pd",
        "import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt",
        "rng = np.random.default_rng(7)",
        "frame = pd.DataFrame({'region': rng.choice(list('NSEW'), 500), 'amount': rng.gamma(2, 50, 500).round(2)})",
        "frame.head()",
        "print(len(frame))",
        "totals = frame.groupby('region')['amount'].sum().round(2)\ntotals",
        "print(totals.idxmax(), totals.max())",
        "frame.describe()",
        "fig, ax = plt.subplots(figsize=(4, 3))\ntotals.plot.bar(ax=ax)\nplt.show()",
    ]
    sources += [f"value_{i} = sum(range({i * 100}))\nprint(value_{i})" for i in range(CELLS - len(sources) - 2)]
    sources += ["frame['amount'].mean().round(3)", "frame.loc[0, 'missing_column']"]
    assert len(sources) == CELLS
    cells = []
    for index, source in enumerate(sources):
        if index % 10 == 0:
            cells.append(new_markdown_cell(f"## Part {index // 10 + 1}"))
        cells.append(new_code_cell(source))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def client(nb: nbformat.NotebookNode, folder: Path) -> NotebookClient:
    return NotebookClient(
        nb, kernel_name="python3", allow_errors=True, timeout=300, resources={"metadata": {"path": str(folder)}}
    )


async def baseline(nb: nbformat.NotebookNode, folder: Path) -> float:
    fresh = copy.deepcopy(nb)
    started = time.perf_counter()
    await client(fresh, folder).async_execute()
    return time.perf_counter() - started


async def ours(server: Server, path: str) -> tuple[float, float, dict]:
    started = time.perf_counter()
    verify_id = (await server.fetch("nbchat/verify", "POST", {"notebook_path": path}))["verify_id"]
    while (info := await server.fetch(f"nbchat/verify/{verify_id}"))["status"] == "running":
        await asyncio.sleep(POLL)
    wall = time.perf_counter() - started
    assert info["status"] == "done", info
    return info["report"]["elapsed_seconds"], wall, info["report"]


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="nbchat-bench-verify-"))
    root = work / "root"
    root.mkdir()
    nb = make_notebook()
    await client(nb, root).async_execute()  # the saved outputs
    totals = next(c for c in nb.cells if c.source.startswith("print(totals.idxmax()"))
    quoted = totals.outputs[0]["text"].split()[1]
    nb.metadata["nbchat"] = {
        "turns": [{"turn_id": "a" * 32, "question": "Which region sells most?", "answer": f"It sells {quoted}."}]
    }
    nbformat.write(nb, root / "analysis.ipynb")

    server = Server(root, [], {})
    job, walls, plain = [], [], []
    try:
        await server.ready()
        await ours(server, "analysis.ipynb")  # warm-up: imports, first kernel spawn
        await baseline(nb, root)
        for _ in range(REPEATS):
            elapsed, wall, report = await ours(server, "analysis.ipynb")
            job.append(elapsed)
            walls.append(wall)
            plain.append(await baseline(nb, root))
    finally:
        server.stop()

    j, w, p = statistics.median(job), statistics.median(walls), statistics.median(plain)
    print(f"{CELLS} code cells; report: {report['same']} same, {report['different']} different "
          f"({[c['differences'] for c in report['cells']]}); answer numbers {report['answers']}\n")
    print(f"{'median of ' + str(REPEATS):<40}{'seconds':>9}{'÷ nbclient':>12}")
    print(f"{'nbclient async_execute (baseline)':<40}{p:>9.2f}{1:>12.2f}")
    print(f"{'Verify notebook, job elapsed_seconds':<40}{j:>9.2f}{j / p:>12.2f}")
    print(f"{'Verify notebook, client wall (polled)':<40}{w:>9.2f}{w / p:>12.2f}")


if __name__ == "__main__":
    asyncio.run(main())
