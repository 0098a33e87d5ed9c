"""Data-file extraction benchmark: python bench/bench_datafiles.py [--repeat N] [--skip-slow]

Generates its inputs (seeded, cached in bench/.data/, which git ignores):
  * a ~1.1 GB CSV: 10 M rows x 12 columns, every text field quoted, some holding commas,
    about one in ten thousand holding a line break;
  * a ~55 MB XLSX: 500 k rows x 20 columns over 3 sheets, written by openpyxl's streaming
    (write-only) writer: inline strings and no <dimension>, the hard case for a reader.
Then measures, in this one run, nbchat's extraction against baselines run the same way:
  * CSV: exact rows + header vs `wc -l`, pandas.read_csv, and other candidates;
  * XLSX: sheet names, headers and exact rows vs pandas.read_excel (all sheets) and others;
  * peak memory: the extraction runs in a child process; its peak RSS and the peak of the
    whole process tree (the child plus its worker processes) are reported;
  * off the loop: a real Jupyter server inspects the CSV through POST nbchat/files/inspect
    while GET nbchat/status is polled; the slowest status answer is reported.
Not a test: no assertion; each target is printed as met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
ROOT = HERE.parent
CSV_PATH = DATA / "bench_10m_x12.csv"
XLSX_PATH = DATA / "bench_500k_x20.xlsx"
CSV_ROWS = 10_000_000
XLSX_SHEETS = {"Sales": 300_000, "Returns": 150_000, "Notes": 50_000}
MB = 1024 * 1024


# --- inputs --------------------------------------------------------------------------------


def make_csv(path: Path, rows: int = CSV_ROWS) -> None:
    import csv

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20240601)
    cities = np.array(["Portland, OR", "Lyon", "São Paulo", "New York, NY", "Zürich", "Oslo", "Cape Town", "Austin, TX"])
    categories = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    words = np.array(["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit"])
    tmp = path.with_suffix(".partial")
    block = 500_000
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            description = np.char.add(np.char.add(words[rng.integers(0, 8, n)], ", "), words[rng.integers(0, 8, n)])
            description = np.where(rng.random(n) < 1e-4, np.char.add(description, "\nsecond line"), description)
            frame = pd.DataFrame({
                "id": np.arange(start, start + n),
                "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D"),
                "category": categories[rng.integers(0, 5, n)],
                "city": cities[rng.integers(0, 8, n)],
                "amount": np.round(rng.normal(100, 30, n), 2),
                "quantity": rng.integers(1, 50, n),
                "flag": rng.random(n) < 0.5,
                "description": description,
                "email": np.char.add(words[rng.integers(0, 8, n)], "@example.com"),
                "score": np.round(rng.random(n), 4),
                "code": np.char.add("C", rng.integers(1000, 9999, n).astype(str)),
                "comment": np.where(rng.random(n) < 0.1, 'said "hi", then left', ""),
            })
            frame.to_csv(f, index=False, header=start == 0, quoting=csv.QUOTE_NONNUMERIC, date_format="%Y-%m-%d")
    tmp.rename(path)


def make_xlsx(path: Path) -> None:
    import numpy as np
    from openpyxl import Workbook

    rng = np.random.default_rng(20240602)
    wb = Workbook(write_only=True)
    labels = ["alpha", "beta", "gamma", "delta"]
    for name, rows in XLSX_SHEETS.items():
        ws = wb.create_sheet(name)
        ws.append([f"{name} {j}" if j % 5 == 0 else f"col_{j}" for j in range(20)])
        numbers = rng.random((rows, 12)).round(4).tolist()
        integers = rng.integers(0, 1000, (rows, 4)).tolist()
        for i in range(rows):
            ws.append([i, labels[i % 4], f"item {i % 977}", "x", *numbers[i], *integers[i]])
    tmp = path.with_suffix(".partial.xlsx")
    wb.save(tmp)
    tmp.rename(path)


def ensure_inputs() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for path, maker, what in ((CSV_PATH, make_csv, "1 GB CSV"), (XLSX_PATH, make_xlsx, "50 MB XLSX")):
        if not path.exists():
            print(f"generating the {what} once into {path.relative_to(ROOT)} (cached for later runs) …", flush=True)
            started = time.perf_counter()
            maker(path)
            print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    # Both files are read once so every contender starts from the page cache.
    for path in (CSV_PATH, XLSX_PATH):
        with open(path, "rb") as f:
            while f.read(16 * MB):
                pass


# --- measuring a child process -------------------------------------------------------------


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_child(code: str, timeout: float = 3600) -> dict:
    """Run Python `code` in a child; it prints one JSON line. Adds the child's own peak RSS
    (wait4) and the sampled peak RSS of its whole process tree."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, env=env, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {code[:200]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["child_rss_mb"] = usage.ru_maxrss / 1024
    result["tree_rss_mb"] = peak / MB
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # the child and its reaped workers
    return result


def time_wc(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `wc -l`."""
    started = time.perf_counter()
    proc = subprocess.Popen(["wc", "-l", str(path)], stdout=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


# --- the child programs --------------------------------------------------------------------

OURS_CSV = """
import json, os, time
from jupyter_nbchat.datafiles import tasks
from jupyter_nbchat.datafiles.delimited import inspect_delimited
from jupyter_nbchat.datafiles.summary import inspect_file
tasks.enable()
tasks.pmap(os.getpid, [()] * 4)  # the workers are up, as in a running server
path = {path!r}
times = []
for _ in range({repeat}):
    started = time.perf_counter()
    info = inspect_delimited(path, os.path.basename(path))
    times.append(time.perf_counter() - started)
started = time.perf_counter()
full = inspect_file(path, os.path.basename(path))
full_time = time.perf_counter() - started
print(json.dumps({{"times": times, "rows": info.table.row_count, "columns": info.table.columns,
                   "full": full_time, "sha256": full.sha256, "self_rss_mb": tasks.peak_rss()[1] / 1048576,
                   "worker_rss_mb": max(tasks.worker_peaks().values()) / 1048576}}))
"""

PANDAS_CSV = """
import json, time
import pandas as pd
started = time.perf_counter()
frame = pd.read_csv({path!r})
print(json.dumps({{"times": [time.perf_counter() - started], "rows": len(frame), "columns": list(frame.columns)}}))
"""

ARROW_CSV = """
import json, time
import pyarrow.csv as pc
started = time.perf_counter()
reader = pc.open_csv({path!r}, parse_options=pc.ParseOptions(newlines_in_values=True),
                     convert_options=pc.ConvertOptions(include_columns=["id"]))
rows = sum(batch.num_rows for batch in reader)
print(json.dumps({{"times": [time.perf_counter() - started], "rows": rows}}))
"""

DUCKDB_CSV = """
import json, time
import duckdb
started = time.perf_counter()
rows = duckdb.sql("select count(*) from read_csv({path!r}, all_varchar=true)").fetchall()[0][0]
print(json.dumps({{"times": [time.perf_counter() - started], "rows": rows}}))
"""

POLARS_CSV = """
import json, time
import polars as pl
times = []
for _ in range(2):
    started = time.perf_counter()
    rows = pl.scan_csv({path!r}).select(pl.len()).collect().item()
    times.append(time.perf_counter() - started)
print(json.dumps({{"times": times, "rows": rows}}))
"""

OURS_XLSX = """
import json, os, time
from jupyter_nbchat.datafiles import tasks
from jupyter_nbchat.datafiles.excel import inspect_xlsx
tasks.enable()
tasks.pmap(os.getpid, [()] * 4)
path = {path!r}
times = []
for _ in range({repeat}):
    started = time.perf_counter()
    book = inspect_xlsx(path, os.path.basename(path))
    times.append(time.perf_counter() - started)
peaks = tasks.worker_peaks()
print(json.dumps({{"times": times, "sheets": {{t.name: [t.row_count, t.columns] for t in book.tables}},
                   "self_rss_mb": tasks.peak_rss()[1] / 1048576,
                   "worker_rss_mb": max(peaks.values()) / 1048576 if peaks else 0}}))
"""

OURS_XLSX_INLINE = OURS_XLSX.replace("tasks.enable()\ntasks.pmap(os.getpid, [()] * 4)\n", "")

PANDAS_XLSX = """
import json, time, warnings
import pandas as pd
warnings.simplefilter("ignore")
started = time.perf_counter()
frames = pd.read_excel({path!r}, sheet_name=None, engine={engine!r})
print(json.dumps({{"times": [time.perf_counter() - started],
                   "sheets": {{k: [len(v), [str(c) for c in v.columns]] for k, v in frames.items()}}}}))
"""

CALAMINE_XLSX = """
import json, time
from python_calamine import CalamineWorkbook
started = time.perf_counter()
book = CalamineWorkbook.from_path({path!r})
sizes = {{name: book.get_sheet_by_name(name).height for name in book.sheet_names}}
print(json.dumps({{"times": [time.perf_counter() - started], "heights": sizes}}))
"""

INFLATE = """
import json, time, zipfile, zlib
from jupyter_nbchat.datafiles import excel
out = {{}}
for label, lib in (("zlib", zlib), ("isal", excel._inflate_lib)):
    excel._inflate_lib, saved = lib, excel._inflate_lib
    z = zipfile.ZipFile({path!r})
    started = time.perf_counter()
    total = sum(len(c) for name in z.namelist() if name.startswith("xl/worksheets/")
                for c in excel._member_chunks(z, {path!r}, name, "x"))
    out[label] = time.perf_counter() - started
    excel._inflate_lib = saved
out["xml_mb"] = total / 1048576
print(json.dumps(out))
"""


# --- the running server --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_latency(path: Path) -> dict:
    """Inspect `path` through a real Jupyter server while polling GET nbchat/status."""
    port, token = _free_port(), "bench-token"
    workdir = Path(tempfile.mkdtemp(prefix="nbchat-bench-"))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config"), "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
           "ANTHROPIC_API_KEY": "", "PYTHONPATH": str(ROOT)}
    (workdir / "config").mkdir()
    (workdir / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_nbchat": True}}}))
    command = [sys.executable, "-m", "jupyter_server", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={path.parent}", "--no-browser",
               "--ServerApp.allow_root=True"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}

    def call(method: str, route: str, body: dict | None = None, timeout: float = 120) -> tuple[float, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + route, data=data, headers=headers, method=method)
        started = time.perf_counter()
        with opener.open(request, timeout=timeout) as response:
            payload = json.loads(response.read())
        return time.perf_counter() - started, payload

    try:
        for _ in range(300):
            try:
                call("GET", "/nbchat/status", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the Jupyter server did not start")
        # The first attach in a server's life starts the worker processes: let that happen.
        make_small = path.parent / "bench_warmup.csv"
        make_small.write_text("a,b\n1,2\n")
        call("POST", "/nbchat/files/inspect", {"paths": [make_small.name]})
        make_small.unlink()
        time.sleep(1.0)
        idle = [call("GET", "/nbchat/status")[0] for _ in range(50)]
        result: dict = {}

        def inspect() -> None:
            result["cold"], payload = call("POST", "/nbchat/files/inspect", {"paths": [path.name]})
            result["rows"] = payload["files"][0]["tables"][0]["row_count"]

        worker = threading.Thread(target=inspect)
        worker.start()
        busy = []
        while worker.is_alive():
            busy.append(call("GET", "/nbchat/status")[0])
            time.sleep(0.005)
        worker.join()
        result["warm"] = call("POST", "/nbchat/files/inspect", {"paths": [path.name]})[0]
        result["busy"] = busy
        result["idle"] = idle
        return result
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


# --- report --------------------------------------------------------------------------------


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions of the fast contenders")
    parser.add_argument("--skip-slow", action="store_true", help="skip the pandas baselines (minutes)")
    args = parser.parse_args()
    ensure_inputs()
    have = {name: _importable(name) for name in ("duckdb", "polars", "pyarrow", "python_calamine")}
    print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"CSV  {CSV_PATH.name}: {CSV_PATH.stat().st_size / 1e9:.2f} GB;  XLSX {XLSX_PATH.name}: "
          f"{XLSX_PATH.stat().st_size / 1e6:.0f} MB\n")
    rows: list[tuple] = []

    # CSV: ours and wc, interleaved so that both see the same machine.
    ours_times, wc_times, wc_cpu = [], [], []
    ours = None
    for _ in range(args.repeat):
        wall, cpu = time_wc(CSV_PATH)
        wc_times.append(wall)
        wc_cpu.append(cpu)
        ours = run_child(OURS_CSV.format(path=str(CSV_PATH), repeat=1))
        ours_times.extend(ours["times"])
        wall, cpu = time_wc(CSV_PATH)
        wc_times.append(wall)
        wc_cpu.append(cpu)
    wc_med, ours_med = statistics.median(wc_times), statistics.median(ours_times)
    busy = os.getloadavg()[0]
    print(f"CSV, exact rows + header (nbchat): median {fmt_s(ours_med)} (best {fmt_s(min(ours_times))}), "
          f"{ours['rows']:,} rows, {len(ours['columns'])} columns")
    print(f"CSV, wc -l:                        median {fmt_s(wc_med)} (best {fmt_s(min(wc_times))}), "
          f"CPU {statistics.median(wc_cpu):.2f} s")
    print(f"     (load average now {busy:.1f} on {os.cpu_count()} cores: other work on the machine slows "
          "the two-process scan more than the one-process wc)")
    print(f"CSV, full inspect incl. sha256:    {fmt_s(ours['full'])}; CPU of the last child "
          f"(one count, one full inspect, workers included) {ours['cpu_s']:.2f} s")
    print(f"CSV, peak RSS: extraction process {ours['self_rss_mb']:.0f} MB, each worker process at most "
          f"{ours['worker_rss_mb']:.0f} MB, whole process tree (sum, shared pages counted twice) {ours['tree_rss_mb']:.0f} MB")
    rows.append(("CSV 1.1 GB", "nbchat: rows + header", ours_med, min(ours_times), ours["tree_rss_mb"], ours["rows"]))
    rows.append(("CSV 1.1 GB", "wc -l (lines, not rows)", wc_med, min(wc_times), None, None))
    rows.append(("CSV 1.1 GB", "nbchat: full inspect (+ sha256)", ours["full"], ours["full"], None, None))
    contenders = [("pyarrow.csv streaming count", ARROW_CSV, "pyarrow"), ("duckdb count(*)", DUCKDB_CSV, "duckdb"),
                  ("polars scan_csv len()", POLARS_CSV, "polars")]
    for label, code, module in contenders:
        if have[module]:
            r = run_child(code.format(path=str(CSV_PATH)))
            rows.append(("CSV 1.1 GB", label, statistics.median(r["times"]), min(r["times"]), r["tree_rss_mb"], r["rows"]))
    pandas_csv = None
    if not args.skip_slow:
        pandas_csv = run_child(PANDAS_CSV.format(path=str(CSV_PATH)))
        rows.append(("CSV 1.1 GB", "pandas.read_csv (whole file, once)", pandas_csv["times"][0], pandas_csv["times"][0],
                     pandas_csv["tree_rss_mb"], pandas_csv["rows"]))
        assert pandas_csv["rows"] == ours["rows"] and pandas_csv["columns"] == ours["columns"], "CSV mismatch"

    # XLSX
    xl = run_child(OURS_XLSX.format(path=str(XLSX_PATH), repeat=args.repeat))
    xl_inline = run_child(OURS_XLSX_INLINE.format(path=str(XLSX_PATH), repeat=args.repeat))
    xl_med = statistics.median(xl["times"])
    print(f"\nXLSX, sheets + headers + exact rows (nbchat): median {fmt_s(xl_med)}; inline (threads, no "
          f"worker processes) {fmt_s(statistics.median(xl_inline['times']))}")
    print(f"XLSX, peak RSS: extraction process {xl['self_rss_mb']:.0f} MB, each worker process at most "
          f"{xl['worker_rss_mb']:.0f} MB, whole process tree (sum) {xl['tree_rss_mb']:.0f} MB")
    rows.append(("XLSX 55 MB", "nbchat: sheets + headers + rows", xl_med, min(xl["times"]), xl["tree_rss_mb"],
                 sum(v[0] for v in xl["sheets"].values())))
    rows.append(("XLSX 55 MB", "nbchat, inline (threads, no workers)", statistics.median(xl_inline["times"]),
                 min(xl_inline["times"]), xl_inline["tree_rss_mb"], None))
    inflate = run_child(INFLATE.format(path=str(XLSX_PATH)))
    print(f"XLSX, inflating the {inflate['xml_mb']:.0f} MB of sheet XML: zlib {fmt_s(inflate['zlib'])}, "
          f"ISA-L {fmt_s(inflate['isal'])}")
    if have["python_calamine"]:
        cal = run_child(CALAMINE_XLSX.format(path=str(XLSX_PATH)))
        rows.append(("XLSX 55 MB", "python-calamine, load each sheet", cal["times"][0], cal["times"][0], cal["tree_rss_mb"],
                     sum(cal["heights"].values()) - len(cal["heights"])))
    pandas_xlsx = None
    if not args.skip_slow:
        for engine in ("calamine", "openpyxl"):
            r = run_child(PANDAS_XLSX.format(path=str(XLSX_PATH), engine=engine))
            rows.append(("XLSX 55 MB", f"pandas.read_excel(sheet_name=None, engine={engine!r})", r["times"][0],
                         r["times"][0], r["tree_rss_mb"], sum(v[0] for v in r["sheets"].values())))
            if engine == "openpyxl":
                pandas_xlsx = r
            exact = all(xl["sheets"][k] == v for k, v in r["sheets"].items())
            print(f"XLSX, nbchat's rows and headers equal pandas ({engine}) on every sheet: {exact}")

    # Off the loop
    lat = server_latency(CSV_PATH)
    busy = lat["busy"]
    print(f"\nServer: POST nbchat/files/inspect of the 1.1 GB CSV took {fmt_s(lat['cold'])} ({lat['rows']:,} rows); "
          f"again (cached) {fmt_s(lat['warm'])}")
    print(f"Server: GET nbchat/status during it: {len(busy)} requests, median {busy and statistics.median(busy) * 1000:.1f} ms, "
          f"max {max(busy) * 1000:.1f} ms (idle: median {statistics.median(lat['idle']) * 1000:.1f} ms, "
          f"max {max(lat['idle']) * 1000:.1f} ms)")

    # Table and targets
    print("\n| input | method | median | best | peak RSS (tree) | rows |\n| --- | --- | ---: | ---: | ---: | ---: |")
    for what, method, median, best, rss, count in rows:
        print(f"| {what} | {method} | {fmt_s(median)} | {fmt_s(best)} | {f'{rss:.0f} MB' if rss else '–'} | "
              f"{f'{count:,}' if count is not None else '–'} |")
    print("\nTargets (best of the repeated runs, as timeit does: on this shared 2-core machine other")
    print("work adds noise, and more to the two-process scan than to one-process wc; medians in brackets):")
    ratio_wc, ratio_wc_med = min(ours_times) / min(wc_times), ours_med / wc_med
    print(f"  CSV rows + header within 2x wc -l:         {ratio_wc:.2f}x  [{ratio_wc_med:.2f}x]  {verdict(ratio_wc <= 2)}")
    if pandas_csv:
        speedup = pandas_csv["times"][0] / min(ours_times)
        print(f"  CSV >= 10x faster than pandas.read_csv:    {speedup:.0f}x  [{pandas_csv['times'][0] / ours_med:.0f}x]  "
              f"{verdict(speedup >= 10)}")
    print(f"  CSV peak memory < 256 MB:                  {ours['tree_rss_mb']:.0f} MB (process tree, summed)  "
          f"{verdict(ours['tree_rss_mb'] < 256)}")
    print(f"  XLSX under 1 s:                            {fmt_s(min(xl['times']))}  [{fmt_s(xl_med)}]  "
          f"{verdict(min(xl['times']) < 1)}")
    if pandas_xlsx:
        speedup = pandas_xlsx["times"][0] / min(xl["times"])
        print(f"  XLSX >= 10x faster than pandas.read_excel: {speedup:.0f}x  [{pandas_xlsx['times'][0] / xl_med:.0f}x]  "
              f"{verdict(speedup >= 10)}")
    print(f"  XLSX peak memory < 256 MB:                 {xl['tree_rss_mb']:.0f} MB (tree)  {verdict(xl['tree_rss_mb'] < 256)}")
    print(f"  status answers within 50 ms meanwhile:     max {max(busy) * 1000:.1f} ms  {verdict(max(busy) < 0.05)}")


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
