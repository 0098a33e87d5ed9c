"""A CSV bigger than a small kernel's memory, its exact answer, and that small kernel
(tests/test_out_of_core.py and the Galata out-of-core spec).

The CSV is written by DuckDB (4 M rows, 161 MB in about 2.5 s); its per-region totals come from
the generating formula, never from reading the file back.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROWS = 4_000_000
REGIONS = ["north", "south", "east", "west", "centre"]
#: The data segment a "limited" kernel may use: enough to import pandas and DuckDB (about
#: 155 MB), not enough for pandas to read the CSV whole (about 0.56 GB).
LIMIT = 512 * 2**20


def big_csv(path: Path | str, rows: int = ROWS) -> None:
    """region = REGIONS[i % 5], amount_cents = i * 7919 % 100000 (see `expected`); ';'-separated."""
    import duckdb

    target = str(path).replace("'", "''")
    duckdb.sql(
        "COPY (SELECT i AS id, ['north','south','east','west','centre'][1 + i % 5] AS region, "
        "(i * 7919) % 100000 AS amount_cents, '2024-01-' || lpad(((i % 28) + 1)::VARCHAR, 2, '0') AS day, "
        f"'item' || ((i * 31) % 99991)::VARCHAR AS label FROM range({rows}) t(i)) "
        f"TO '{target}' (HEADER, DELIMITER ';')"
    )


def expected(rows: int = ROWS) -> dict[str, list[int]]:
    """Per region [sum of amount_cents, rows], from the generating formula (no CSV read)."""
    i = np.arange(rows, dtype=np.int64)
    amount = (i * 7919) % 100_000
    return {name: [int(amount[i % 5 == k].sum()), int((i % 5 == k).sum())] for k, name in enumerate(REGIONS)}


def limited_kernelspec(kernels_dir: Path, name: str = "limited", limit: int = LIMIT) -> str:
    """Write kernelspec `name` into `kernels_dir`: ipykernel started under RLIMIT_DATA = `limit`
    (jupyter_nbchat.testing.limited_kernel). Returns `name`."""
    spec = Path(kernels_dir) / name
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "jupyter_nbchat.testing.limited_kernel", str(limit), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": f"Python 3 ({limit // 2**20} MiB)", "language": "python"}))
    return name
