"""Files bigger than the memory where the code runs: the estimate, the hint chosen from what is
installed, and a real kernel under RLIMIT_DATA where pandas fails and the steered read answers.

Sizes (measured on the 2-core test machine): a bare ipykernel with pandas imported uses about
155 MB of data segment (VmData); the kernel here is limited to LIMIT = 512 MiB (at 400 MiB
OpenBLAS could not allocate its buffers when pandas was imported). The CSV is
4 M rows x 5 columns, 161 MB: `pd.read_csv` of it peaks near 490 MB above the interpreter and
raises MemoryError under the limit (it succeeds under 800 MiB); DuckDB aggregates it within
the limit with its memory_limit set from the kernel's report.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_nbchat.datafiles.models import FileSummary, TableSummary
from jupyter_nbchat.datafiles.prompt import prompt_text, read_hint
from jupyter_nbchat.datafiles.summary import inspect_file
from jupyter_nbchat.execution.introspection import _ENVIRONMENT
from jupyter_nbchat.execution.kernel import KernelExecutor
from jupyter_nbchat.llm import out_of_core
from jupyter_nbchat.llm.out_of_core import Memory, out_of_core_hint, pandas_peak, steer
from jupyter_nbchat.testing.big_data import LIMIT, ROWS, big_csv, expected, limited_kernelspec
from jupyter_nbchat.testing.claude_standin import ClaudeStandIn
from jupyter_nbchat.testing.plugin import of_type, serving

MB = 2**20
ALL_READERS = {"duckdb": "2.0.1", "polars": "2.1.0", "pyarrow": "26.0.1"}


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "sales.csv"
    big_csv(path)
    return path


def summary(**fields) -> FileSummary:
    base = dict(path="data/sales.csv", name="sales.csv", size=10**9, mtime_ns=0, sha256="0" * 64, type="csv",
                media_type="text/csv", encoding="utf-8", delimiter=",",
                tables=[TableSummary(columns=["a", "b"], column_count=2, row_count=10_000_000, header_row=1)])
    return FileSummary(**{**base, **fields})


# --- the estimate -----------------------------------------------------------------------------


def test_estimate_rule_from_counts_and_size():
    f = summary()  # 10 M rows x 2 columns = 160 MB of cells; the file is bigger
    assert pandas_peak(f) == 3.5 * 10**9
    wide = summary(size=10**6, tables=[TableSummary(columns=[], column_count=100, row_count=1_000_000)])
    assert pandas_peak(wide) == 3.5 * 100 * 1_000_000 * 8
    assert pandas_peak(summary(type="parquet", size=10**8)) == 3.5 * max(160_000_000, 3 * 10**8)
    assert pandas_peak(summary(type="jsonl", size=10**8)) == 16 * 10**8
    assert pandas_peak(summary(type="xlsx")) is None  # nothing reads a workbook out of core


def test_estimate_holds_against_pandas_on_a_real_file(csv_file):
    """The rule bounds pandas' measured peak from above, within half as much again."""
    path = csv_file
    f = inspect_file(str(path), "sales.csv")
    assert f.delimiter == ";" and f.tables[0].row_count == ROWS
    # VmHWM, not ru_maxrss: the child inherits ru_maxrss from this (possibly big) pytest
    # process across fork and exec, while exec gives it a fresh VmHWM.
    code = (
        "import pandas as pd\n"
        "def hwm():\n"
        "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "before = hwm()\n"
        f"df = pd.read_csv({str(path)!r}, sep=';')\n"
        "print((hwm() - before) * 1024)\n"
    )
    peak = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert peak <= pandas_peak(f) <= 1.5 * peak


# --- the hint ---------------------------------------------------------------------------------


def test_hint_prefers_duckdb_then_polars_then_pandas_chunks():
    f = summary(delimiter=";")
    plenty = Memory(8 * 10**9, "meminfo")
    duck = out_of_core_hint(f, "data/sales.csv", plenty, ALL_READERS)
    assert duck == "duckdb.sql(\"SELECT … FROM read_csv('data/sales.csv', delim=';', header=true) GROUP BY …\").df()"
    polars = out_of_core_hint(f, "data/sales.csv", plenty, {"polars": "2.1.0", "pyarrow": "26.0.1"})
    assert polars == 'pl.scan_csv("data/sales.csv", separator=";").filter(…).group_by(…).agg(…).collect(engine="streaming")'
    old_polars = out_of_core_hint(f, "data/sales.csv", plenty, {"polars": "0.20.31"})
    assert old_polars.endswith(".collect(streaming=True)")
    chunks = out_of_core_hint(f, "data/sales.csv", plenty, {})
    assert chunks.startswith('for chunk in pd.read_csv("data/sales.csv", sep=";", chunksize=')
    parquet = summary(type="parquet", delimiter=None, encoding=None)
    assert "read_parquet('data/sales.csv')" in out_of_core_hint(parquet, "data/sales.csv", plenty, ALL_READERS)
    assert "iter_batches" in out_of_core_hint(parquet, "data/sales.csv", plenty, {"pyarrow": "26.0.1"})
    assert out_of_core_hint(parquet, "data/sales.csv", plenty, {}) is None


def test_encodings_duckdb_cannot_read_go_to_the_next_reader():
    plenty = Memory(8 * 10**9, "meminfo")
    latin = summary(encoding="latin-1")
    assert "encoding='latin-1'" in out_of_core_hint(latin, "a.csv", plenty, ALL_READERS)
    windows = summary(encoding="cp1252")  # DuckDB and polars decode neither exactly: pandas chunks
    hint = out_of_core_hint(windows, "a.csv", plenty, ALL_READERS)
    assert hint.startswith('for chunk in pd.read_csv("a.csv", encoding="cp1252", chunksize=')


def test_an_rlimit_gives_duckdb_a_memory_limit_and_a_temp_directory():
    f = summary()
    hint = out_of_core_hint(f, "a.csv", Memory(400 * MB, "rlimit_data"), ALL_READERS, tmp="/tmp")
    assert hint.startswith('duckdb.connect(config={"memory_limit": "96MB", "temp_directory": "/tmp/nbchat-duckdb"})')
    assert "memory_limit" not in out_of_core_hint(f, "a.csv", Memory(300 * MB, "cgroup"), ALL_READERS)


def test_the_duckdb_hint_reads_what_pandas_reads(tmp_path):
    """Delimiter, decimal comma, a header below a title line and a quote in the path carried
    into DuckDB: the hinted read, run, gives pandas' numbers for the same file."""
    import duckdb
    import pandas as pd

    folder = tmp_path / "o'brien"
    folder.mkdir()
    path = folder / "prix.csv"
    path.write_text("ville;prix\nSète;1,5\nGenève;2,25\nSète;3,5\n", encoding="utf-8")
    f = inspect_file(str(path), "o'brien/prix.csv")
    assert (f.encoding, f.delimiter) == ("utf-8", ";") and any("decimal comma" in n for n in f.notes)
    hint = out_of_core_hint(f, str(path), Memory(8 * 10**9, "meminfo"), ALL_READERS)
    sql = hint.replace("SELECT …", "SELECT ville, sum(prix) AS prix").replace("GROUP BY …", "GROUP BY ville ORDER BY ville")
    got = eval(sql, {"duckdb": duckdb})  # the hint as Claude would complete it
    want = eval(read_hint(f, str(path)), {"pd": pd}).groupby("ville")["prix"].sum()
    assert dict(zip(got["ville"], got["prix"])) == want.to_dict() == {"Genève": 2.25, "Sète": 5.0}


# --- the steer ----------------------------------------------------------------------------------


def facts(available: int, bound: str = "meminfo", readers=ALL_READERS) -> dict:
    return {"memory": {"available": available, "bound": bound}, "readers": readers, "tmp": "/tmp"}


def test_steer_replaces_the_hint_of_a_file_that_does_not_fit_and_says_why():
    small = summary(path="data/small.csv", name="small.csv", size=1000,
                    tables=[TableSummary(columns=["a"], column_count=1, row_count=10)])
    big = summary()
    prompt = prompt_text([small, big], notebook_dir="data")
    steered = steer(prompt, [small, big], facts(2 * 10**9), "data")
    assert 'read with: pd.read_csv("small.csv")' in steered  # fits: unchanged
    assert 'read with: pd.read_csv("sales.csv")' not in steered
    assert "read with (out of core): duckdb.sql(\"SELECT … FROM read_csv('sales.csv'" in steered
    assert "The code can use about 2.00 GB of memory" in steered
    assert '"sales.csv" (1.00 GB) needs about 3.50 GB when pandas reads it whole.' in steered
    assert "never load the whole file" in steered and '"small.csv" (' not in steered.split("<memory>")[1]
    assert steer(prompt, [small, big], facts(100 * 10**9), "data") == prompt  # everything fits
    assert steer(prompt, [small, big], {}, "data") == prompt  # no memory figure: no steer


def test_environment_reports_the_smallest_memory_bound_and_the_readers():
    """The hidden snippet, run in a process under RLIMIT_DATA: that limit is the bound."""
    def limit():
        resource.setrlimit(resource.RLIMIT_DATA, (LIMIT, LIMIT))

    out = subprocess.run([sys.executable, "-c", _ENVIRONMENT], capture_output=True, text=True, check=True,
                         preexec_fn=limit).stdout
    reported = json.loads(out.strip().splitlines()[-1])
    memory = reported["memory"]
    assert memory["bound"] == "rlimit_data"
    assert 0 < memory["available"] < LIMIT and memory["available"] == min(memory["bounds"].values())
    assert memory["bounds"]["meminfo"] > memory["available"]
    assert set(reported["readers"]) == {"duckdb", "polars", "pyarrow"}
    assert reported["tmp"]


# --- a real kernel under a memory limit, a full turn ---------------------------------------------


class FollowsTheHint(ClaudeStandIn):
    """'Claude' that runs the read its system prompt hints, completed with the question's SQL."""

    def next_response(self):
        body = self.requests[-1]["body"]
        if len(body["messages"]) > 1:  # the cell ran: answer
            return self.text("Cell [1] shows the totals per region.")
        system = "\n".join(b["text"] for b in body["system"])
        hint = re.search(r"read with \(out of core\): (.*)", system)
        if hint is None:
            return self.code("import pandas as pd\nsales = pd.read_csv('sales.csv', sep=';')\nprint(len(sales))")
        read = hint.group(1).replace("SELECT …", "SELECT region, sum(amount_cents) AS total, count(*) AS n")
        read = read.replace("GROUP BY …", "GROUP BY region ORDER BY region")
        return self.code(
            f"import json\nimport duckdb\nimport pandas as pd\ntotals = {read}\n"
            "print(json.dumps({r: [int(t), int(n)] for r, t, n in totals.itertuples(index=False)}))"
        )


@pytest.fixture
def claude_standin(jp_asyncio_loop, monkeypatch):
    yield from serving(FollowsTheHint(), jp_asyncio_loop, monkeypatch)


@pytest.fixture
def limited_kernel(jp_kernel_dir) -> str:
    """A kernelspec whose kernel starts under RLIMIT_DATA = LIMIT."""
    return limited_kernelspec(jp_kernel_dir)


async def test_a_file_bigger_than_the_kernel_memory_is_aggregated_where_it_lives(
    nbchat, claude_standin, notebook_path, jp_root_dir, jp_serverapp, csv_file, limited_kernel
):
    os.link(csv_file, jp_root_dir / "sales.csv")
    await jp_serverapp.session_manager.create_session(
        path=notebook_path, name=notebook_path, type="notebook", kernel_name=limited_kernel
    )
    events = await nbchat.ask(notebook_path, "Total amount per region?", attachments=["sales.csv"])
    assert of_type(events, "turn_finished")[0]["status"] == "done"

    files_block = claude_standin.requests[0]["body"]["system"][-1]["text"]
    figure = re.search(r"The code can use about ([\d.]+) GB of memory where it runs \(([^)]*)\)", files_block)
    assert figure is not None and 0.1 < float(figure.group(1)) < LIMIT / 1e9
    assert "RLIMIT_DATA" in figure.group(2)
    assert '"sales.csv" (0.16 GB) needs about 0.56 GB when pandas reads it whole.' in files_block
    assert "read with (out of core): duckdb.connect(config={\"memory_limit\": " in files_block
    assert of_type(events, "manifest")[-1]["prompt"] == files_block  # the chip shows what Claude read

    cell = [c for c in of_type(events, "cell") if c["role"] == "code"][-1]["cell"]
    assert not [o for o in cell["outputs"] if o["output_type"] == "error"], cell["outputs"]
    printed = "".join(o.get("text", "") for o in cell["outputs"] if o["output_type"] == "stream")
    assert json.loads(printed.strip().splitlines()[-1]) == expected(), cell["outputs"]

    # Without the steer: the pandas read Claude would otherwise be given fails in that kernel.
    executor = KernelExecutor(
        kernel_manager=jp_serverapp.kernel_manager, session_manager=jp_serverapp.session_manager,
        notebook_path=notebook_path,
    )
    try:
        result = await executor.run_cell("import pandas as pd\nsales = pd.read_csv('sales.csv', sep=';')", 60)
    finally:
        await executor.close()
    error = result.error
    died = any("died" in n or "restart" in n for n in result.notices)
    assert died or (error is not None and error["ename"] == "MemoryError"), result.outputs
    assert out_of_core.too_big(inspect_file(str(csv_file), "sales.csv"),
                               Memory(LIMIT, "rlimit_data"))  # even the whole limit would not do


def test_the_environment_tells_the_memory_and_the_readers():
    from jupyter_nbchat.llm.prompts import describe_environment

    where = describe_environment("kernel", facts(1_500_000_000), 60)
    assert "- Memory the code can use: about 1.50 GB." in where
    assert "- Out-of-core readers installed: duckdb 2.0.1, polars 2.1.0, pyarrow 26.0.1." in where
    assert "Memory" not in describe_environment("kernel", {}, 60)


class TestSandbox:
    """E2B: the facts (memory included) are asked once the sandbox is up, so the steer can work
    from the chat's second turn; the first is not held up waiting for them."""

    @pytest.fixture
    def nbchat_config(self, e2b_standin):
        return {"e2b_api_key": e2b_standin.sdk_kwargs()["api_key"]}

    @pytest.fixture
    def claude_standin(self, jp_asyncio_loop, monkeypatch):
        yield from serving(ClaudeStandIn(), jp_asyncio_loop, monkeypatch)

    async def test_memory_reaches_claude_from_the_second_turn(self, nbchat, claude_standin, jp_root_dir):
        (jp_root_dir / "a.csv").write_text("x\n1\n")
        claude_standin.script(claude_standin.code("print(1)"), claude_standin.text("1"),
                              claude_standin.code("print(2)"), claude_standin.text("2"))

        def environment(request) -> str:
            blocks = request["body"]["messages"][-1]["content"]
            return next((b["text"] for b in blocks if b.get("text", "").startswith("Where the code runs")), "")

        events = await nbchat.ask("s.ipynb", "one", attachments=["a.csv"], write="server")
        assert of_type(events, "executor_state")[0]["executor"] == "e2b"
        assert "Memory the code can use" not in environment(claude_standin.requests[0])
        await nbchat.ask("s.ipynb", "two", attachments=["a.csv"], write="server")
        second = environment(claude_standin.requests[2])
        assert re.search(r"- Memory the code can use: about [\d.]+ GB\.", second), second
        assert "duckdb" in second
