"""Wire models of the data-file routes (mirrored in src/types.ts).

`FileSummary` is also what the notebook's `metadata.nbchat` file manifest records, and what
`prompt_text()` turns into the words Claude reads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ContextLevel = Literal["headers", "schema", "sample"]
FileType = Literal["csv", "xlsx", "xls", "json", "jsonl", "parquet", "sqlite", "duckdb", "other"]

#: At most this many column names are kept in a TableSummary (the prompt lists fewer).
MAX_COLUMNS_KEPT = 20_000


class ColumnSchema(BaseModel):
    """One column at the `schema`/`sample` level, computed locally from the first rows."""

    name: str
    dtype: str = Field(description="pandas dtype as read by default: int64, float64, str, bool, datetime64[ns] …; "
                       "database files: the SQL type")
    nulls: int = Field(description="missing values among the rows examined (`schema_rows`)")


class TableSummary(BaseModel):
    """One table: the whole of a CSV/JSON/Parquet file, one sheet of a workbook, or one table or
    view of a database file."""

    name: str | None = Field(default=None, description="sheet, table or view name; None for single-table files")
    kind: Literal["table", "view"] | None = Field(default=None, description="database files: a table or a view")
    columns: list[str] = Field(
        description="column names as pandas reads them by default (duplicates get '.1', blanks "
        f"'Unnamed: n'); at most {MAX_COLUMNS_KEPT}, see column_count"
    )
    column_count: int
    row_count: int = Field(description="exact number of data rows, header excluded")
    counted: bool = Field(
        default=True, description="False when the rows could not be counted (a database view that failed or "
        "took too long; row_count is 0 then)"
    )
    column_types: list[str | None] | None = Field(
        default=None, description="database files: each column's SQL type, in order (None where none is declared)"
    )
    header_row: int | None = Field(
        default=None, description="1-based line (CSV) or row (sheet) of the header; None if no header"
    )
    schema_rows: int | None = Field(
        default=None, description="rows dtypes and null counts were computed on (schema/sample levels)"
    )
    column_schema: list[ColumnSchema] | None = None
    sample: list[list[str | None]] | None = Field(
        default=None, description="first rows as text, one list per row (sample level)"
    )
    notes: list[str] = Field(default_factory=list)


class FileSummary(BaseModel):
    """What nbchat knows about one attached file."""

    path: str = Field(description="relative to the server root, '/'-separated")
    name: str
    size: int
    mtime_ns: int
    sha256: str
    type: FileType
    media_type: str
    encoding: str | None = Field(default=None, description="text files: the Python codec that reads them")
    delimiter: str | None = Field(default=None, description="delimited text: ',', ';', '\\t' or '|'")
    sheets: list[str] = Field(default_factory=list, description="workbooks: every sheet, in order")
    tables: list[TableSummary] = Field(default_factory=list)
    table_count: int | None = Field(
        default=None, description="database files: every table, listed in `tables` or not (see MAX_TABLES)"
    )
    view_count: int | None = Field(default=None, description="database files: every view, listed or not")
    level: ContextLevel = "headers"
    notes: list[str] = Field(default_factory=list)


class InspectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(min_length=1, max_length=1000)
    level: ContextLevel | None = Field(default=None, description="default: the server's context_level")
    notebook_path: str | None = Field(
        default=None, max_length=4096, description="prompt paths are relative to this notebook's folder"
    )

    @field_validator("notebook_path")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None:
            parts = value.replace("\\", "/").split("/")
            if value.startswith("/") or ".." in parts or "\x00" in value:
                raise ValueError("the notebook path must be relative to the server root")
        return value


class InspectResult(BaseModel):
    files: list[FileSummary]
    prompt: str = Field(description="the exact text Claude is given about these files")


class UploadResult(BaseModel):
    file: FileSummary
