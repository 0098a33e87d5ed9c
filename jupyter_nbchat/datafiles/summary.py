"""One file -> one FileSummary: type, hash, and the tables its format holds.

`inspect_file` is synchronous and CPU-bound: the server runs it in a worker process (cache.py);
tests and the benchmark may call it directly.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import threading

from . import detect, tasks
from .errors import DataFileError, UnreadableFile
from .models import ContextLevel, FileSummary

DEFAULT_SCHEMA_ROWS = 100_000


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


class _Hasher(threading.Thread):
    """Hashes the file while it is being parsed (hashlib releases the GIL)."""

    def __init__(self, path: str) -> None:
        super().__init__(name="nbchat-sha256", daemon=True)
        self.path = path
        self.digest = ""
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.digest = sha256_of(self.path)
        except BaseException as err:  # noqa: BLE001 - reported by result()
            self.error = err

    def result(self) -> str:
        self.join()
        if self.error is not None:
            raise self.error
        return self.digest


def inspect_file(
    abs_path: str,
    rel_path: str,
    level: ContextLevel = "headers",
    sample_rows: int = 5,
    schema_rows: int = DEFAULT_SCHEMA_ROWS,
) -> FileSummary:
    """Summary of the file at `abs_path`, shown as `rel_path` (whose name decides the format)."""
    name = posixpath.basename(rel_path)
    before = os.stat(abs_path)
    if before.st_size == 0:
        raise UnreadableFile(name, "the file is empty (0 bytes).")
    hasher = _Hasher(abs_path)
    hasher.start()
    try:
        fields = _extract(abs_path, name, level, sample_rows, schema_rows)
    finally:
        digest = hasher.result()
    after = os.stat(abs_path)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise UnreadableFile(name, "the file changed while it was being read; try again when it is saved.")
    return FileSummary(
        path=rel_path,
        name=name,
        size=before.st_size,
        mtime_ns=before.st_mtime_ns,
        sha256=digest,
        media_type=detect.media_type(name),
        level=level,
        **fields,
    )


def _extract(path: str, name: str, level: ContextLevel, sample_rows: int, schema_rows: int) -> dict:
    kind = detect.file_type(name)
    try:
        if kind == "csv":
            from .delimited import inspect_delimited

            ext = os.path.splitext(name)[1].lower()
            info = inspect_delimited(path, name, level, sample_rows, schema_rows,
                                     require_delimiter=ext in (".txt", ".dat"))
            if info is None:
                return {"type": "other", "notes": ["plain text without columns: Claude is told its name and size"]}
            return {"type": "csv", "encoding": info.encoding, "delimiter": info.delimiter,
                    "tables": [info.table], "notes": info.notes}
        if kind == "xlsx":
            from .excel import inspect_xlsx

            book = inspect_xlsx(path, name, level, sample_rows)  # one task per worksheet
            return {"type": kind, "sheets": book.sheets, "tables": book.tables, "notes": book.notes}
        if kind == "xls":
            from .excel import inspect_xls

            book = tasks.call(inspect_xls, path, name, level, sample_rows)
            return {"type": kind, "sheets": book.sheets, "tables": book.tables, "notes": book.notes}
        if kind in ("json", "jsonl"):
            from .jsonish import inspect_json

            info = tasks.call(inspect_json, path, name, level, sample_rows, schema_rows,
                              True if kind == "jsonl" else None)
            return {"type": info.type, "encoding": info.encoding,
                    "tables": [info.table] if info.table else [], "notes": info.notes}
        if kind == "parquet":
            from .parquet import inspect_parquet

            return {"type": "parquet", "tables": [tasks.call(inspect_parquet, path, name, level, sample_rows, schema_rows)]}
    except DataFileError:
        raise
    except tasks.WorkerCrashed as err:
        raise UnreadableFile(name, f"{err}. Try again.") from None
    except MemoryError:
        raise UnreadableFile(name, "it is too large to inspect in the server's memory.") from None
    except Exception as err:  # noqa: BLE001 - a parser's surprise must not become a 500
        raise UnreadableFile(name, f"it could not be parsed ({type(err).__name__}: {str(err)[:200]}).") from None
    return {"type": "other", "notes": ["not a format nbchat reads: Claude is told its name, size and type only"]}
