"""Parquet: everything at the `headers` level comes from the footer (no data page is read).

pyarrow is optional (the `parquet` extra): without it a Parquet file is refused with a 415 that
says how to install it, and every other format still works.
"""

from __future__ import annotations

from .delimited import set_schema
from .detect import PARQUET_MAGIC, describe_binary, read_head
from .errors import FormatNeedsPackage, UnreadableFile
from .models import ColumnSchema, ContextLevel, TableSummary

#: What a person reads when the server has no pyarrow.
NEEDS_PYARROW = "Parquet files need pyarrow on the server: pip install 'jupyter_nbchat[parquet]'"


def inspect_parquet(path: str, name: str, level: ContextLevel = "headers", sample_rows: int = 5,
                    schema_rows: int = 100_000) -> TableSummary:
    head = read_head(path, 4096)
    if not head:
        raise UnreadableFile(name, "the file is empty (0 bytes).")
    if not head.startswith(PARQUET_MAGIC):
        what = describe_binary(head)
        raise UnreadableFile(name, f"it is {what or 'not a Parquet file'}" + (", not Parquet." if what else
                             " (no PAR1 header)."))
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise FormatNeedsPackage(name, NEEDS_PYARROW) from None

    try:
        pf = pq.ParquetFile(path)
        meta = pf.metadata
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError) as err:
        raise UnreadableFile(name, f"the Parquet file is damaged ({str(err)[:200]}).") from None
    columns = [str(n) for n in schema.names]
    notes = []
    if meta.num_row_groups > 1:
        notes.append(f"{meta.num_row_groups} row groups")
    table = TableSummary(columns=columns[:20_000], column_count=len(columns), row_count=meta.num_rows,
                         header_row=None, notes=notes)
    if level == "headers":
        return table
    try:
        first = next(pf.iter_batches(batch_size=max(1, min(schema_rows, meta.num_rows or 1))), None)
        frame = (first if first is not None else schema.empty_table()).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as err:
        table.notes.append(f"the data pages could not be read ({str(err)[:200]})")
        return table
    set_schema(table, frame, level, sample_rows)
    exact = _null_counts(meta, len(columns))
    if exact is not None and table.column_schema is not None:
        # The footer's statistics count the nulls of the whole file: better than a sample's.
        table.column_schema = [ColumnSchema(name=c.name, dtype=c.dtype, nulls=exact[i]) if i < len(exact) else c
                               for i, c in enumerate(table.column_schema)]
        table.schema_rows = meta.num_rows
    return table


def _null_counts(meta, ncols: int) -> list[int] | None:
    """Null counts of top-level columns from the footer's statistics, when every chunk has them."""
    if meta.num_columns != ncols:
        return None  # nested columns: leaves do not map to columns one to one
    counts = [0] * ncols
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(ncols):
            stats = group.column(c).statistics
            if stats is None or not stats.has_null_count:
                return None
            counts[c] += stats.null_count
    return counts
