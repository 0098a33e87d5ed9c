"""Files too big for the memory where the code runs: the read hint and the paragraph that
steer Claude to aggregate where the data lives (DuckDB, polars' lazy scans, pandas chunks).

Inputs are the attached files' summaries and the runtime's facts (execution/introspection
`_ENVIRONMENT`: `memory` = {available, bound, bounds} in bytes, `readers` = {duckdb, polars,
pyarrow: version}). A file is steered when pandas' estimated peak while reading it exceeds
SAFE_SHARE of the available memory.

The estimate is the peak resident memory of `pd.read_csv` / `read_parquet` / `read_json` above
the interpreter before it (pandas 3.1 with pyarrow strings; ru_maxrss), measured on generated
files of 0.16-0.4 GB (4 M and 10 M rows x 5 columns, numbers only or with three text columns;
1.5 M rows x 40 integers):
- CSV: the peak was 2.4-3.0 x max(rows x columns x 8 bytes, file bytes); the rule is 3.5 x that
  (parsing keeps the tokens and the columns built from them; text columns cost about their
  bytes). Below about 50 MB the peak is lower still (buffers the interpreter already holds).
  Checked at 5.17 GB (bench/bench_out_of_core.py): the rule says 18.1 GB, pandas reached 15.2.
- Parquet: 2.5-2.8 x rows x columns x 8 (the file was 3.4-5.8 x smaller than that); the rule
  is 3.5 x max(rows x columns x 8, 3 x file bytes).
- JSON Lines / JSON: 14.5 x the file (Python objects per record); the rule is 16 x file bytes.
Excel is not steered: nothing reads a workbook out of core.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..datafiles.models import FileSummary
from ..datafiles.prompt import read_hint

#: A file is steered when pandas' estimated peak exceeds this share of the available memory
#: (the rest is the person's other variables, the result, and copies pandas makes).
SAFE_SHARE = 0.5
#: Under an rlimit DuckDB is told this share of the available memory left once the cell has
#: imported pandas (IMPORTS; DuckDB's own default, 80 % of physical RAM, ignores rlimits: under
#: RLIMIT_DATA 400 MiB its read failed, with memory_limit 100MB it passed). The figure is taken
#: before the cell imports anything, and DuckDB allocates some memory outside its limit.
DUCKDB_SHARE = 0.4
#: What importing pandas (numpy, its BLAS buffers) adds to a kernel's data segment (measured:
#: about 130 MB of VmData).
IMPORTS = 160 * 2**20

#: Encodings DuckDB's read_csv decodes without an extension, by Python codec name.
DUCKDB_ENCODINGS = {"utf-8": None, "utf-8-sig": None, "ascii": None, "latin-1": "latin-1",
                    "iso-8859-1": "latin-1", "utf-16": "utf-16"}


@dataclass(frozen=True)
class Memory:
    """What the runtime reported: bytes its code can use, the bound that sets it."""

    available: int
    bound: str  # meminfo, cgroup, rlimit_as, rlimit_data, physical

    @property
    def rlimit(self) -> bool:
        return self.bound.startswith("rlimit")


BOUND_WORDS = {
    "meminfo": "memory available on the machine",
    "cgroup": "the container's memory limit minus what it uses",
    "rlimit_as": "the process's address-space limit (RLIMIT_AS) minus what it maps",
    "rlimit_data": "the process's data limit (RLIMIT_DATA) minus what it uses",
    "physical": "physical memory",
}


def memory_of(facts: Mapping[str, Any]) -> Memory | None:
    """The memory figure from the runtime's facts; None when it did not say (no steer)."""
    memory = facts.get("memory") or {}
    available = memory.get("available")
    if not isinstance(available, int) or isinstance(available, bool) or available <= 0:
        return None
    return Memory(available, str(memory.get("bound") or "meminfo"))


def pandas_peak(f: FileSummary) -> int | None:
    """Estimated peak bytes while pandas reads `f` whole (rules in the module docstring);
    None for files this module does not steer."""
    cells = sum(t.row_count * max(t.column_count, 1) for t in f.tables) * 8
    if f.type == "csv":
        return int(3.5 * max(cells, f.size))
    if f.type == "parquet":
        return int(3.5 * max(cells, 3 * f.size))
    if f.type in ("json", "jsonl"):
        return 16 * f.size
    return None


def too_big(f: FileSummary, memory: Memory) -> bool:
    peak = pandas_peak(f)
    return peak is not None and peak > SAFE_SHARE * memory.available


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _note(f: FileSummary, text: str) -> bool:
    return any(text in n for n in f.notes)


def _duckdb_source(f: FileSummary, path: str) -> str | None:
    """The DuckDB table function reading `f` with its detected settings, or None if DuckDB
    cannot read it as summarised (an encoding it does not know, undecodable bytes)."""
    if f.type == "parquet":
        return f"read_parquet({_sql_string(path)})"
    if f.type == "jsonl":
        return f"read_json({_sql_string(path)}, format='newline_delimited')"
    if f.type == "json":
        return f"read_json({_sql_string(path)}, format='array')"
    if f.type != "csv":
        return None
    encoding = (f.encoding or "utf-8").lower()
    if encoding not in DUCKDB_ENCODINGS or _note(f, "encoding_errors='replace'"):
        return None
    options = [_sql_string(path)]
    if f.delimiter:
        options.append(f"delim={_sql_string(f.delimiter)}")
    header = next((t.header_row for t in f.tables), 1)
    options.append(f"header={'true' if header else 'false'}")
    if header and header > 1:
        options.append(f"skip={header - 1}")
    if DUCKDB_ENCODINGS[encoding]:
        options.append(f"encoding={_sql_string(DUCKDB_ENCODINGS[encoding])}")
    if _note(f, "decimal comma"):
        options.append("decimal_separator=','")
    return f"read_csv({', '.join(options)})"


def _duckdb_hint(source: str, memory: Memory, tmp: str | None) -> str:
    sql = json.dumps(f"SELECT … FROM {source} GROUP BY …", ensure_ascii=False)
    if not memory.rlimit:  # DuckDB sizes itself from the machine or the cgroup
        return f"duckdb.sql({sql}).df()"
    config = {"memory_limit": f"{max(64, int((memory.available - IMPORTS) * DUCKDB_SHARE) >> 20)}MB"}
    if tmp:
        config["temp_directory"] = posixpath.join(tmp, "nbchat-duckdb")
    return f"duckdb.connect(config={json.dumps(config)}).sql({sql}).df()"


def _polars_hint(f: FileSummary, path: str, version: str) -> str | None:
    p = json.dumps(path, ensure_ascii=False)
    if f.type == "csv":
        if (f.encoding or "utf-8").lower() not in ("utf-8", "utf-8-sig", "ascii"):
            return None
        args = [p]
        if f.delimiter and f.delimiter != ",":
            args.append(f"separator={json.dumps(f.delimiter)}")
        if _note(f, "encoding_errors='replace'"):
            args.append('encoding="utf8-lossy"')
        if _note(f, "decimal comma"):
            args.append("decimal_comma=True")
        scan = f"pl.scan_csv({', '.join(args)})"
    elif f.type == "parquet":
        scan = f"pl.scan_parquet({p})"
    elif f.type == "jsonl":
        scan = f"pl.scan_ndjson({p})"
    else:
        return None
    major, _, rest = version.partition(".")
    modern = major.isdigit() and (int(major) > 1 or (int(major) == 1 and int(rest.partition(".")[0] or 0) >= 23))
    collect = 'collect(engine="streaming")' if modern else "collect(streaming=True)"
    return f"{scan}.filter(…).group_by(…).agg(…).{collect}"


def _chunked_hint(f: FileSummary, path: str, memory: Memory, readers: Mapping[str, str]) -> str | None:
    """pandas in pieces, each a fraction of the memory; the pieces' partial results combined."""
    rows = sum(t.row_count for t in f.tables)
    peak = pandas_peak(f) or 0
    per_row = max(1, peak // max(rows, 1))
    chunk = max(10_000, min(1_000_000, int(memory.available * SAFE_SHARE / 4 // per_row)))
    chunk = int(float(f"{chunk:.1g}"))  # one significant digit: a round figure
    whole = read_hint(f, path) or ""
    if f.type == "csv" and whole.endswith(")"):
        return f"for chunk in {whole[:-1]}, chunksize={chunk:_}): … (aggregate each chunk, then combine)"
    if f.type == "jsonl" and whole.endswith(")"):
        return f"for chunk in {whole[:-1]}, chunksize={chunk:_}): … (aggregate each chunk, then combine)"
    if f.type == "parquet" and "pyarrow" in readers:
        p = json.dumps(path, ensure_ascii=False)
        return (f"for batch in pyarrow.parquet.ParquetFile({p}).iter_batches(batch_size={chunk:_}, columns=[…]): "
                "chunk = batch.to_pandas(); … (aggregate each chunk, then combine)")
    return None


def out_of_core_hint(
    f: FileSummary, path: str, memory: Memory, readers: Mapping[str, str], tmp: str | None = None
) -> str | None:
    """The read that keeps `f` out of memory, with what is installed where the code runs:
    DuckDB, else polars' lazy scan, else pandas in chunks; None if none of them reads `f`."""
    if "duckdb" in readers:
        source = _duckdb_source(f, path)
        if source is not None:
            return _duckdb_hint(source, memory, tmp)
    if "polars" in readers:
        hint = _polars_hint(f, path, str(readers["polars"]))
        if hint is not None:
            return hint
    return _chunked_hint(f, path, memory, readers)


def _gb(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size < 10e9 else f"{size / 1e9:.0f} GB"


def steer(prompt: str, files: Sequence[FileSummary], facts: Mapping[str, Any], notebook_dir: str = "") -> str:
    """`prompt` (datafiles.prompt_text of `files`) with the read hint of each file that would
    not fit replaced by an out-of-core read, and one paragraph saying why; `prompt` itself
    when every file fits or the runtime did not report its memory."""
    memory = memory_of(facts)
    if memory is None or not prompt:
        return prompt
    readers = {str(k): str(v) for k, v in (facts.get("readers") or {}).items()}
    tmp = facts.get("tmp") if isinstance(facts.get("tmp"), str) else None
    reasons = []
    for f in files:
        if not too_big(f, memory):
            continue
        path = posixpath.relpath(f.path, notebook_dir) if notebook_dir else f.path
        hint = out_of_core_hint(f, path, memory, readers, tmp)
        old = read_hint(f, path)
        line = f"   read with: {old}"
        name = json.dumps(f.name, ensure_ascii=False)
        reasons.append(f"{name} ({_gb(f.size)}) needs about {_gb(pandas_peak(f) or 0)} when pandas reads it whole.")
        if hint is not None and old is not None and line in prompt:
            prompt = prompt.replace(line, f"   read with (out of core): {hint}", 1)
        elif hint is not None:
            reasons.append(f"Read {name} with: {hint}")
    if not reasons:
        return prompt
    names = ", ".join(sorted(readers)) or "none of duckdb, polars, pyarrow"
    paragraph = (
        "<memory>\n"
        f"The code can use about {_gb(memory.available)} of memory where it runs "
        f"({BOUND_WORDS.get(memory.bound, memory.bound)}). Files that do not fit: " + " ".join(reasons) + " "
        "Aggregate where the data lives, never load the whole file: use the out-of-core read given for it, "
        "select only the columns and rows the question needs (column names in double quotes in SQL), and let the "
        "engine compute the counts, sums and groups, so that only the small result becomes a pandas DataFrame. The numbers are the same as a full "
        f"pandas read would give. Out-of-core readers installed there: {names}.\n"
        "</memory>"
    )
    return prompt + "\n\n" + paragraph
