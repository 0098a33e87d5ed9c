"""The schema crawl: tables, views, columns and exact counts, read in one read-only transaction.

Synchronous SQLAlchemy, so it runs in a worker thread (service.py), never on the event loop.
PostgreSQL: `SET TRANSACTION READ ONLY` and `SET LOCAL statement_timeout`; SQLite:
`PRAGMA query_only`; MySQL/MariaDB: a read-only session with `max_execution_time`; other
dialects run the same SELECTs without a database-side guard (noted in the summary). Each
count runs under a savepoint, so one that times out is a note on its table, not a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, func, inspect, literal_column, select, table
from sqlalchemy.engine import Connection as SqlConnection
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..datafiles.models import ContextLevel
from .connections import Connection
from .errors import DatabaseTimeout, DatabaseUnavailable
from .models import DatabaseColumn, DatabaseSummary, DatabaseTable

#: Schemas that hold the database's own catalog, never the person's data.
SYSTEM_SCHEMAS = frozenset(
    {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}
)
MAX_SAMPLE_CHARS = 200


@dataclass(frozen=True)
class CrawlLimits:
    statement_timeout: float = 10.0  # seconds, per statement
    connect_timeout: float = 10.0
    max_tables: int = 50
    sample_rows: int = 5


def crawl(conn: Connection, level: ContextLevel, limits: CrawlLimits) -> DatabaseSummary:
    """The structure of `conn`'s database (blocking; call it in a thread)."""
    try:
        with read_only_transaction(conn, limits) as (db, notes):
            summary = _crawl(db, conn, level, limits)
            summary.notes[:0] = notes
            return summary
    except DBAPIError as err:
        raise _failure(conn, err) from None
    except SQLAlchemyError as err:
        raise DatabaseUnavailable(
            f"Could not read the schema of database {conn.name!r}: {conn.redact(_first_line(err))}"
        ) from None


@contextmanager
def read_only_transaction(conn: Connection, limits: CrawlLimits) -> Iterator[tuple[SqlConnection, list[str]]]:
    """A fresh connection (connect timeout) inside a read-only transaction with a statement
    timeout where the dialect has them; with notes saying which guard is missing. Rolled back."""
    engine = create_engine(conn.secret_url(), poolclass=NullPool, connect_args=_connect_args(conn, limits))
    try:
        with engine.connect() as db:
            notes = _read_only(db, conn.dialect, limits)
            with db.begin() as transaction:
                notes += _guard_transaction(db, conn.dialect, limits)
                yield db, notes
                transaction.rollback()  # nothing to keep; a read-only transaction writes nothing
    finally:
        engine.dispose()


def _connect_args(conn: Connection, limits: CrawlLimits) -> dict[str, Any]:
    seconds = max(1, int(limits.connect_timeout))
    if conn.dialect == "postgresql":
        return {"connect_timeout": seconds}
    if conn.dialect in ("mysql", "mariadb"):
        return {"connect_timeout": seconds}
    if conn.dialect == "sqlite":
        return {"timeout": float(seconds)}
    return {}


def _read_only(db: SqlConnection, dialect: str, limits: CrawlLimits) -> list[str]:
    """Session-level guards, set before the transaction begins."""
    if dialect == "sqlite":
        db.exec_driver_sql("PRAGMA query_only = ON")
        db.commit()
    elif dialect in ("mysql", "mariadb"):
        db.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
        db.exec_driver_sql(f"SET SESSION max_execution_time = {int(limits.statement_timeout * 1000)}")
        db.commit()
    elif dialect != "postgresql":
        return [f"The {dialect} dialect has no read-only guard here: the crawl runs only SELECT statements."]
    return []


def _guard_transaction(db: SqlConnection, dialect: str, limits: CrawlLimits) -> list[str]:
    if dialect == "postgresql":
        db.exec_driver_sql("SET TRANSACTION READ ONLY")
        db.exec_driver_sql(f"SET LOCAL statement_timeout = {int(limits.statement_timeout * 1000)}")
    return []


def _crawl(db: SqlConnection, conn: Connection, level: ContextLevel, limits: CrawlLimits) -> DatabaseSummary:
    inspector = inspect(db)
    has_schemas = conn.dialect != "sqlite"
    if has_schemas:
        schemas = sorted(s for s in inspector.get_schema_names() if s not in SYSTEM_SCHEMAS and not s.startswith("pg_"))
    else:
        schemas = [None]  # type: ignore[list-item]
    found: list[tuple[str | None, str, str]] = []
    for schema in schemas:
        found += [(schema, name, "table") for name in sorted(inspector.get_table_names(schema=schema))]
        found += [(schema, name, "view") for name in sorted(inspector.get_view_names(schema=schema))]
    found.sort(key=lambda t: (t[0] or "", t[1]))
    shown, rest = found[: limits.max_tables], len(found) - min(len(found), limits.max_tables)
    tables = [_table(db, inspector, schema, name, kind, level, limits) for schema, name, kind in shown]
    return DatabaseSummary(
        name=conn.name,
        dialect=conn.dialect,
        description=conn.description,
        level=level,
        env_var=conn.env_var,
        schemas=[s for s in schemas if s is not None],
        tables=tables,
        more_tables=rest,
    )


def _table(db: SqlConnection, inspector: Any, schema: str | None, name: str, kind: str,
           level: ContextLevel, limits: CrawlLimits) -> DatabaseTable:
    notes: list[str] = []
    raw = inspector.get_columns(name, schema=schema)
    primary = set()
    if kind == "table":
        primary = set(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or [])
    columns = [
        DatabaseColumn(name=c["name"], type=_type_name(c["type"]), nullable=bool(c.get("nullable", True)),
                       primary_key=c["name"] in primary)
        for c in raw
    ]
    target = table(name, schema=schema)
    row_count = None
    try:
        with db.begin_nested():
            row_count = int(db.execute(select(func.count()).select_from(target)).scalar_one())
    except DBAPIError as err:
        if _is_timeout(err):
            notes.append(f"row count not known: counting took longer than {limits.statement_timeout:g} s "
                         "(the statement timeout)")
        else:
            notes.append(f"row count not known: {_first_line(err.orig or err)[:200]}")
    sample = None
    if level == "sample" and limits.sample_rows > 0:
        try:
            with db.begin_nested():
                rows = db.execute(select(literal_column("*")).select_from(target).limit(limits.sample_rows)).all()
            sample = [[None if v is None else str(v)[:MAX_SAMPLE_CHARS] for v in row] for row in rows]
        except DBAPIError:
            notes.append("no sample: reading the first rows failed or took too long")
    return DatabaseTable(schema_name=schema, name=name, kind=kind, columns=columns,  # type: ignore[arg-type]
                         column_count=len(columns), row_count=row_count, sample=sample, notes=notes)


def _type_name(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a type the dialect cannot compile on its own
        return type(value).__name__


def _is_timeout(err: DBAPIError) -> bool:
    orig = err.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code == "57014":  # PostgreSQL query_canceled (statement_timeout)
        return True
    message = str(orig).lower()
    return "statement timeout" in message or "max_execution_time" in message or "interrupted" in message


def _failure(conn: Connection, err: DBAPIError) -> DatabaseUnavailable:
    reason = conn.redact(_first_line(err.orig or err))
    if _is_timeout(err) or "timeout expired" in reason.lower():
        return DatabaseTimeout(f"Reading the schema of database {conn.name!r} timed out: {reason}")
    if isinstance(err, OperationalError):
        return DatabaseUnavailable(f"Could not connect to database {conn.name!r} ({conn.dialect}): {reason}")
    return DatabaseUnavailable(f"Could not read the schema of database {conn.name!r}: {reason}")


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__
