"""SQLite and DuckDB files: every table and view with its columns, SQL types and exact row count.

The file is opened strictly read-only and nothing is ever written to it or beside it where that
can be avoided (the summary's size/mtime check must still pass, and an upload's temporary name
must leave nothing behind):

- SQLite: `mode=ro`, which also reads committed data still in the `-wal` file, exactly what the
  kernel's `sqlite3.connect` will see. A WAL-mode file with no `-wal` beside it holds all its
  data in the main file; `mode=ro` would create empty `-wal`/`-shm` files there, so it is opened
  `immutable=1` instead (which would miss a `-wal`, hence only then).
- DuckDB: `read_only=True` (it replays a `.wal` in memory), external access and extension
  downloads off, so a view cannot read other files of the server into the prompt.

Tables are counted exactly (`SELECT count(*)`); a view runs its query, so its count, null counts
and sample get a time budget and a note when it fails or runs out. At most MAX_TABLES tables and
views are listed; a note counts the rest. duckdb is optional (the `databases` extra), like
pyarrow for Parquet. Runs in a worker process (tasks.call from summary._extract).
"""

from __future__ import annotations

import datetime
import os
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from .detect import DUCKDB_MAGIC, SQLITE_MAGIC, describe_binary, read_head
from .errors import FormatNeedsPackage, UnreadableFile
from .models import MAX_COLUMNS_KEPT, ColumnSchema, ContextLevel, TableSummary
from .text import quote

#: Tables and views listed in full (columns, types, counts); the rest are only counted.
MAX_TABLES = 50
#: Time a view may take to be counted (or sampled) before it gets a note instead.
VIEW_SECONDS = 5.0
#: Columns counted per query at the `schema` level (SQLite allows 2,000 result columns).
COUNT_CHUNK = 500
MAX_VALUE_CHARS = 200

#: What a person reads when the server has no duckdb.
NEEDS_DUCKDB = "DuckDB files need duckdb on the server: pip install 'jupyter_nbchat[databases]'"


@dataclass
class DatabaseInfo:
    tables: list[TableSummary]
    table_count: int  # every table in the file, listed or not
    view_count: int
    notes: list[str] = field(default_factory=list)


@dataclass
class _Relation:
    name: str
    kind: str  # "table" or "view"
    schema: str | None = None  # DuckDB schema, when not the default one


def quote_identifier(name: str) -> str:
    """An SQL identifier in double quotes (the standard; SQLite and DuckDB both take it)."""
    return '"' + name.replace('"', '""') + '"'


# --- SQLite --------------------------------------------------------------------------------


def inspect_sqlite(path: str, name: str, level: ContextLevel = "headers", sample_rows: int = 5) -> DatabaseInfo:
    import sqlite3

    head = read_head(path, 100)
    if not head.startswith(SQLITE_MAGIC):
        what = describe_binary(head)
        raise UnreadableFile(name, f"it is {what}, not an SQLite database." if what else
                             "it is not an SQLite database (no \"SQLite format 3\" header): it may be "
                             "encrypted (SQLCipher) or damaged.")
    try:
        con = sqlite3.connect(_sqlite_uri(path, head), uri=True, check_same_thread=False)
    except sqlite3.Error as err:
        raise UnreadableFile(name, f"SQLite could not open it ({err}).") from None
    try:
        con.execute("PRAGMA trusted_schema = OFF")
        con.execute("PRAGMA query_only = ON")
        try:
            rows = con.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name"
            ).fetchall()
        except sqlite3.DatabaseError as err:
            raise UnreadableFile(name, _sqlite_reason(err)) from None
        relations = [_Relation(str(n), str(t)) for n, t in rows]
        info = _inspect(_SqliteReader(con), relations, level, sample_rows,
                        "list them all with: SELECT name, type FROM sqlite_master")
        info.notes.extend(_log_note(path, name, "-wal"))
        return info
    finally:
        con.close()


def _sqlite_uri(path: str, head: bytes) -> str:
    """`mode=ro`, or `immutable=1` for a WAL-mode file with no -wal file (see the docstring)."""
    wal_mode = len(head) > 19 and head[18] == 2 and head[19] == 2
    mode = "immutable=1" if wal_mode and not os.path.exists(path + "-wal") else "mode=ro"
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + "?" + mode


def _sqlite_reason(err: Exception) -> str:
    text = str(err)
    if "not a database" in text or "malformed" in text:
        return f"the SQLite database is damaged or encrypted ({text})."
    return f"SQLite could not read it ({text[:200]})."


class _SqliteReader:
    def __init__(self, con) -> None:
        self.con = con

    def columns(self, rel: _Relation) -> list[tuple[str, str | None]]:
        rows = self.con.execute("SELECT name, type, hidden FROM pragma_table_xinfo(?)", (rel.name,)).fetchall()
        return [(str(n), str(t) if t else None) for n, t, hidden in rows if hidden != 1]

    def query(self, sql: str, seconds: float | None) -> list[tuple]:
        if seconds is None:
            return self.con.execute(sql).fetchall()
        deadline = time.monotonic() + seconds
        self.con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            return self.con.execute(sql).fetchall()
        finally:
            self.con.set_progress_handler(None, 0)

    def error_types(self) -> tuple[type[Exception], ...]:
        import sqlite3

        return (sqlite3.Error,)

    def timed_out(self, err: Exception) -> bool:
        return "interrupted" in str(err)


# --- DuckDB --------------------------------------------------------------------------------


def inspect_duckdb(path: str, name: str, level: ContextLevel = "headers", sample_rows: int = 5) -> DatabaseInfo:
    head = read_head(path, 16)
    if head[8:12] != DUCKDB_MAGIC:
        what = describe_binary(head)
        raise UnreadableFile(name, f"it is {what}, not a DuckDB database." if what else
                             "it is not a DuckDB database (no \"DUCK\" header): it may be damaged.")
    try:
        import duckdb
    except ImportError:
        raise FormatNeedsPackage(name, NEEDS_DUCKDB) from None
    config = {"enable_external_access": False, "autoinstall_known_extensions": False,
              "autoload_known_extensions": False, "threads": 2}
    try:
        con = duckdb.connect(path, read_only=True, config=config)
    except duckdb.Error as err:
        raise UnreadableFile(name, _duckdb_reason(err)) from None
    try:
        try:
            rows = con.execute(
                "SELECT s, n, k FROM (SELECT schema_name s, table_name n, 'table' k FROM duckdb_tables() "
                "WHERE database_name = current_database() AND NOT internal AND NOT temporary "
                "UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() "
                "WHERE database_name = current_database() AND NOT internal AND NOT temporary) "
                "ORDER BY k, s <> 'main', s, n"
            ).fetchall()
        except duckdb.Error as err:
            raise UnreadableFile(name, _duckdb_reason(err)) from None
        relations = [_Relation(str(n), str(k), None if s == "main" else str(s)) for s, n, k in rows]
        info = _inspect(_DuckReader(con), relations, level, sample_rows,
                        "list them all with: SELECT table_schema, table_name, table_type FROM "
                        "information_schema.tables")
        info.notes.extend(_log_note(path, name, ".wal"))
        return info
    finally:
        con.close()


def _duckdb_reason(err: Exception) -> str:
    text = str(err)
    if "could not set lock" in text.lower() or "conflicting lock" in text.lower():
        return ("it is open for writing in another program (DuckDB lets no one else open a file "
                "while it is written); close it there and attach it again.")
    if "encrypt" in text.lower():
        return f"the DuckDB database is encrypted ({text[:200]})."
    if "corrupt" in text.lower() or "checksum" in text.lower():
        return f"the DuckDB database is damaged ({text[:200]})."
    return f"DuckDB could not read it ({text[:200]})."


class _DuckReader:
    def __init__(self, con) -> None:
        self.con = con

    def columns(self, rel: _Relation) -> list[tuple[str, str | None]]:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [rel.schema or "main", rel.name],
        ).fetchall()
        return [(str(n), str(t) if t else None) for n, t in rows]

    def query(self, sql: str, seconds: float | None) -> list[tuple]:
        if seconds is None:
            return self.con.execute(sql).fetchall()
        timer = threading.Timer(seconds, self.con.interrupt)
        timer.start()
        try:
            return self.con.execute(sql).fetchall()
        finally:
            timer.cancel()

    def error_types(self) -> tuple[type[Exception], ...]:
        import duckdb

        return (duckdb.Error,)

    def timed_out(self, err: Exception) -> bool:
        return "interrupt" in str(err).lower()


# --- both ----------------------------------------------------------------------------------


def _log_note(path: str, name: str, suffix: str) -> list[str]:
    """Committed changes still in the write-ahead log beside the file: counted here (the kernel
    next to the file reads them too), but a copy of the file alone (E2B, a remote kernel) lacks
    them until the database is checkpointed."""
    try:
        size = os.path.getsize(path + suffix)
    except OSError:
        return []
    if not size:
        return []
    return [f"some committed changes are still in its write-ahead log {quote(name + suffix)} "
            f"({size:,} bytes), counted here; a sandbox or remote kernel gets the main file only and "
            "does not see them until the database is checkpointed (closed by the program writing it)"]


def _inspect(reader, relations: list[_Relation], level: ContextLevel, sample_rows: int,
             list_all: str) -> DatabaseInfo:
    table_count = sum(1 for r in relations if r.kind == "table")
    view_count = len(relations) - table_count
    shown = relations[:MAX_TABLES]
    notes = []
    if len(relations) > MAX_TABLES:
        rest_tables = sum(1 for r in relations[MAX_TABLES:] if r.kind == "table")
        rest_views = len(relations) - MAX_TABLES - rest_tables
        parts = [f"{n:,} more {kind}{'s' if n != 1 else ''}"
                 for n, kind in ((rest_tables, "table"), (rest_views, "view")) if n]
        notes.append(f"{' and '.join(parts)} not listed here ({len(relations):,} in all); {list_all}")
    tables = [_summarise(reader, rel, level, sample_rows) for rel in shown]
    return DatabaseInfo(tables=tables, table_count=table_count, view_count=view_count, notes=notes)


def _summarise(reader, rel: _Relation, level: ContextLevel, sample_rows: int) -> TableSummary:
    errors = reader.error_types()
    notes = [f"in schema {quote(rel.schema)}"] if rel.schema else []
    target = (quote_identifier(rel.schema) + "." if rel.schema else "") + quote_identifier(rel.name)
    seconds = VIEW_SECONDS if rel.kind == "view" else None
    try:
        columns = reader.columns(rel)
    except errors as err:
        columns = []
        notes.append(f"its columns could not be read ({_short(err)})")
    names = [c for c, _ in columns]
    table = TableSummary(name=rel.name, kind=rel.kind, columns=names[:MAX_COLUMNS_KEPT],
                         column_count=len(names), row_count=0,
                         column_types=[t for _, t in columns[:MAX_COLUMNS_KEPT]], notes=notes)
    try:
        table.row_count = int(reader.query(f"SELECT count(*) FROM {target}", seconds)[0][0])
    except errors as err:
        table.counted = False
        table.notes.append(_failed("its rows could not be counted", err, reader))
        return table
    if level == "headers" or not names:
        return table
    try:
        present = _non_null_counts(reader, target, names, seconds)
        table.column_schema = [ColumnSchema(name=n, dtype=t or "", nulls=table.row_count - present[i])
                               for i, (n, t) in enumerate(columns[:MAX_COLUMNS_KEPT])]
        table.schema_rows = table.row_count
    except errors as err:
        table.notes.append(_failed("its missing values could not be counted", err, reader))
    if level == "sample" and sample_rows > 0:
        try:
            rows = reader.query(f"SELECT * FROM {target} LIMIT {int(sample_rows)}", seconds)
            table.sample = [[_text(v) for v in row[:MAX_COLUMNS_KEPT]] for row in rows]
        except errors as err:
            table.notes.append(_failed("its first rows could not be read", err, reader))
    return table


def _non_null_counts(reader, target: str, names: list[str], seconds: float | None) -> list[int]:
    """count(column) of every column, in one scan per COUNT_CHUNK columns."""
    counts: list[int] = []
    for start in range(0, min(len(names), MAX_COLUMNS_KEPT), COUNT_CHUNK):
        chunk = names[start:start + COUNT_CHUNK]
        exprs = ", ".join(f"count({quote_identifier(n)})" for n in chunk)
        counts.extend(int(v) for v in reader.query(f"SELECT {exprs} FROM {target}", seconds)[0])
    return counts


def _failed(what: str, err: Exception, reader) -> str:
    if reader.timed_out(err):
        return f"{what}: its query took longer than {VIEW_SECONDS:g} s"
    return f"{what} ({_short(err)})"


def _short(err: Exception) -> str:
    """A database error as note text: one line, bounded, quoted (it may repeat names from the file)."""
    return quote(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}", 200)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value)):,} bytes>"
    if isinstance(value, (datetime.date, datetime.time)):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"
