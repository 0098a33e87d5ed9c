"""Out-of-core benchmark: a CSV bigger than the memory where the code runs, summarised and one
aggregate answered within a bounded memory, against pandas reading it whole without a limit.

    python bench/bench_out_of_core.py [--gb 5] [--limit-mb 1024] [--keep]

Generates (once, cached in bench/.data/, which git ignores) a CSV of about `--gb` GB written by
DuckDB from a formula, streamed to disk: `id; region; amount_cents; day; label` with
region = one of 5 names by id % 5 and amount_cents = id * 7919 % 100000, so the answer is also
known without reading the file. Then, each in a child process (time, peak RSS of the child):

- summary: `datafiles.summary.inspect_file` (the server's extraction: exact rows, header);
- ours: a kernel-like process under RLIMIT_DATA = `--limit-mb` asks the runtime facts
  (execution/introspection `_ENVIRONMENT`), takes the read hint `llm/out_of_core` gives for
  the summary, completes its SQL (total and rows per region) and runs it;
- baseline: `pd.read_csv` of the whole file, then the same groupby, with no rlimit of ours
  (capped below the machine's free memory so that a pandas that does not fit fails alone
  instead of waking the OOM killer);
- the numbers of both are asserted equal to the formula's.
Not a test: figures printed side by side, as ratios to the baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
BYTES_PER_ROW = 40.3  # 161,199,762 bytes for 4 M rows; longer ids make `--gb 5` a 5.17 GB file
GB = 1e9
REGIONS = ["north", "south", "east", "west", "centre"]


def make_csv(path: Path, rows: int) -> None:
    """DuckDB's COPY streams the generated rows to disk in blocks (nothing held in memory)."""
    import duckdb

    tmp = path.with_suffix(".partial")
    con = duckdb.connect(config={"memory_limit": "1GB"})
    con.sql("SET enable_progress_bar = false")
    con.sql(
        "COPY (SELECT i AS id, ['north','south','east','west','centre'][1 + i % 5] AS region, "
        "(i * 7919) % 100000 AS amount_cents, '2024-01-' || lpad(((i % 28) + 1)::VARCHAR, 2, '0') AS day, "
        f"'item' || ((i * 31) % 99991)::VARCHAR AS label FROM range({rows}) t(i)) "
        f"TO '{tmp}' (HEADER, DELIMITER ';', FORMAT CSV)"
    )
    tmp.rename(path)


def expected(rows: int) -> dict[str, list[int]]:
    """[total, rows] per region from the formula, in blocks (numpy, no file read)."""
    import numpy as np

    totals = {name: [0, 0] for name in REGIONS}
    for start in range(0, rows, 10_000_000):
        i = np.arange(start, min(rows, start + 10_000_000), dtype=np.int64)
        amount = (i * 7919) % 100_000
        for k, name in enumerate(REGIONS):
            mask = i % 5 == k
            totals[name][0] += int(amount[mask].sum())
            totals[name][1] += int(mask.sum())
    return totals


CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, {root!r})
    start = time.perf_counter()
    result = None
    {body}
    # VmHWM: a child inherits ru_maxrss across fork and exec (this bench's numpy totals would
    # count), while exec gives it a fresh VmHWM. Its own children (the summary's workers) by rusage.
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    rss = max(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({{"seconds": time.perf_counter() - start, "peak_rss": rss * 1024, "result": result}}))
    """
)

SUMMARY = """
from jupyter_nbchat.datafiles.summary import inspect_file
result = inspect_file({path!r}, "big.csv").model_dump()
"""

OURS = """
from jupyter_nbchat.datafiles.models import FileSummary
from jupyter_nbchat.execution.introspection import _ENVIRONMENT, _last_json_line
from jupyter_nbchat.llm.out_of_core import memory_of, out_of_core_hint, too_big
import contextlib, io
out = io.StringIO()
with contextlib.redirect_stdout(out):
    exec(_ENVIRONMENT, {{}})
facts = _last_json_line(out.getvalue())
summary = FileSummary(**json.loads(open({summary!r}).read()))
memory = memory_of(facts)
assert too_big(summary, memory), (summary.size, memory)
hint = out_of_core_hint(summary, {path!r}, memory, facts["readers"], facts.get("tmp"))
read = hint.replace("SELECT …", "SELECT region, sum(amount_cents) AS total, count(*) AS n")
read = read.replace("GROUP BY …", "GROUP BY region")
import duckdb
frame = eval(read)
result = {{"hint": hint, "memory": facts["memory"],
          "totals": {{r: [int(t), int(n)] for r, t, n in frame.itertuples(index=False)}}}}
"""

BASELINE = """
import pandas as pd
frame = pd.read_csv({path!r}, sep=";")
groups = frame.groupby("region")["amount_cents"].agg(["sum", "count"])
result = {{"totals": {{r: [int(s), int(n)] for r, (s, n) in groups.iterrows()}}}}
"""


def run_child(body: str, rlimit_data: int | None = None) -> dict:
    code = CHILD.format(root=str(ROOT), body=textwrap.dedent(body).strip())

    def limit() -> None:
        if rlimit_data is not None:
            resource.setrlimit(resource.RLIMIT_DATA, (rlimit_data, rlimit_data))

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, preexec_fn=limit)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["exit %d" % done.returncode])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def mem_available() -> int:
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=5.0, help="size of the generated CSV (default 5)")
    parser.add_argument("--limit-mb", type=int, default=1024, help="RLIMIT_DATA of our process (default 1024)")
    parser.add_argument("--skip-pandas", action="store_true", help="no baseline")
    args = parser.parse_args()

    rows = int(args.gb * GB / BYTES_PER_ROW)
    DATA.mkdir(exist_ok=True)
    path = DATA / f"out_of_core_{rows}.csv"
    if not path.exists():
        began = time.perf_counter()
        make_csv(path, rows)
        print(f"generated {path.name}: {path.stat().st_size / GB:.2f} GB, {rows:,} rows "
              f"in {time.perf_counter() - began:.0f} s")
    size = path.stat().st_size
    want = expected(rows)

    summary = run_child(SUMMARY.format(path=str(path)))
    if "error" in summary:
        sys.exit(f"summary failed: {summary['error']}")
    summary_file = DATA / f"out_of_core_{rows}.summary.json"
    summary_file.write_text(json.dumps(summary["result"]))
    assert summary["result"]["tables"][0]["row_count"] == rows

    ours = run_child(OURS.format(path=str(path), summary=str(summary_file)), rlimit_data=args.limit_mb << 20)
    if "error" in ours:
        sys.exit(f"the out-of-core read failed under {args.limit_mb} MiB: {ours['error']}")
    assert ours["result"]["totals"] == want, ours["result"]["totals"]

    baseline: dict = {"error": "skipped"}
    if not args.skip_pandas:
        cap = mem_available() - 3 * 2**30  # leave the machine 3 GiB; pandas fails alone beyond
        baseline = run_child(BASELINE.format(path=str(path)), rlimit_data=max(cap, 2**30))
        if "error" not in baseline:
            assert baseline["result"]["totals"] == want
        else:
            baseline["error"] += f" (pandas capped at {cap / GB:.1f} GB, the free memory less 3 GiB)"

    print(f"\nCSV {size / GB:.2f} GB, {rows:,} rows x 5 columns; our process under RLIMIT_DATA {args.limit_mb} MiB "
          f"(reported available {ours['result']['memory']['available'] / 2**20:.0f} MiB)")
    print(f"hint: {ours['result']['hint']}")
    print(f"numbers: DuckDB = formula{' = pandas' if 'error' not in baseline else ''}")
    print(f"\n{'':<44}{'seconds':>9}{'peak RSS GB':>13}{'÷ pandas s':>12}{'÷ pandas RSS':>14}")
    rows_out = [("summary: inspect_file (exact rows, header)", summary), ("ours: steered DuckDB read, rlimited", ours)]
    if "error" not in baseline:
        rows_out.append(("baseline: pandas read_csv whole + groupby", baseline))
    for label, figures in rows_out:
        ratio_s = ratio_m = ""
        if "error" not in baseline:
            ratio_s = f"{figures['seconds'] / baseline['seconds']:.2f}"
            ratio_m = f"{figures['peak_rss'] / baseline['peak_rss']:.3f}"
        print(f"{label:<44}{figures['seconds']:>9.1f}{figures['peak_rss'] / GB:>13.2f}{ratio_s:>12}{ratio_m:>14}")
    if "error" in baseline:
        print(f"baseline: pandas did not run: {baseline['error']}")


if __name__ == "__main__":
    main()
