"""One file -> one FileSummary: type, hash, and the tables its format holds.

`inspect_file` is synchronous and CPU-bound: the server runs it in a worker process (cache.py);
tests and the benchmark may call it directly.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import posixpath
import threading
from dataclasses import dataclass

import numpy as np

from . import detect, tasks
from .errors import DataFileError, UnreadableFile
from .models import ContextLevel, FileSummary

DEFAULT_SCHEMA_ROWS = 100_000


def sha256_of(path: str) -> str:
    return _Hasher(path).run_inline()


#: Bytes Windows-1252 leaves undefined: `encoding="cp1252"` fails on them (Latin-1 never fails).
CP1252_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)


@dataclass
class TextCheck:
    """What the whole file's bytes say about its encoding (text files; see `_Hasher`)."""

    utf8_bad_at: int | None = None  # offset of the first byte that is not valid UTF-8
    non_ascii_before: bool = False  # valid non-ASCII UTF-8 came before that byte
    cp1252_undefined: bool = False  # some byte Windows-1252 cannot decode


class _Hasher(threading.Thread):
    """Hashes the file while it is being parsed (hashlib releases the GIL).

    With `text`, the same bytes are also checked for what the head's encoding detection cannot
    see: whether the whole file is valid UTF-8, and whether it holds a byte Windows-1252 cannot
    decode. An ASCII megabyte costs one NumPy max (about 3% of hashing it, GIL released); only
    megabytes holding non-ASCII bytes are decoded (incrementally, so characters may straddle
    them)."""

    def __init__(self, path: str, text: bool = False) -> None:
        super().__init__(name="nbchat-sha256", daemon=True)
        self.path = path
        self.text = text
        self.check = TextCheck()
        self.digest = ""
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.run_inline()
        except BaseException as err:  # noqa: BLE001 - reported by result()
            self.error = err

    def run_inline(self) -> str:
        digest = hashlib.sha256()
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        data = np.frombuffer(buf, np.uint8)
        decoder = codecs.getincrementaldecoder("utf-8")() if self.text else None
        offset = 0
        with open(self.path, "rb", buffering=0) as f:
            while n := f.readinto(buf):
                digest.update(view[:n])
                if self.text:
                    decoder = self._check(buf, n, data[:n], offset, decoder)
                offset += n
        if decoder is not None and decoder.getstate()[0] and self.check.utf8_bad_at is None:
            self.check.utf8_bad_at = offset - len(decoder.getstate()[0])  # cut at the end
        self.digest = digest.hexdigest()
        return self.digest

    def _check(self, buf: bytearray, n: int, data: np.ndarray, offset: int, decoder):
        check = self.check
        if int(data.max()) < 0x80 and (decoder is None or not decoder.getstate()[0]):
            return decoder
        if not check.cp1252_undefined:
            check.cp1252_undefined = any(buf.find(b, 0, n) >= 0 for b in CP1252_UNDEFINED)
        if decoder is None:
            return None
        try:
            decoder.decode(memoryview(buf)[:n])
        except UnicodeDecodeError as err:
            # err.object is the decoder's pending bytes, then this chunk
            check.utf8_bad_at = offset + err.start - (len(err.object) - n)
            check.non_ascii_before = check.non_ascii_before or not err.object[: err.start].isascii()
            return None
        check.non_ascii_before = True
        return decoder

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
    hasher = _Hasher(abs_path, text=detect.file_type(name) == "csv")
    hasher.start()
    try:
        fields = _extract(abs_path, name, level, sample_rows, schema_rows)
    finally:
        digest = hasher.result()
    if fields.get("type") == "csv":
        fields = settle_encoding(fields, hasher.check)
    after = os.stat(abs_path)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise UnreadableFile(name, "the file changed while it was being read; try again when it is saved.")
    return FileSummary(
        path=rel_path,
        name=name,
        size=before.st_size,
        mtime_ns=before.st_mtime_ns,
        sha256=digest,
        level=level,
        **{"media_type": detect.media_type(name), **fields},
    )


def settle_encoding(fields: dict, check: TextCheck) -> dict:
    """The head's encoding, corrected by what the whole file holds: the read hint must never
    raise UnicodeDecodeError. ASCII up to a non-UTF-8 byte: a single-byte encoding (Windows-1252,
    or Latin-1, which decodes any byte); UTF-8 text with a bad byte later: UTF-8 with
    encoding_errors='replace' (the names read from the head stay right)."""
    codec, notes = fields.get("encoding"), list(fields.get("notes", []))
    if codec in ("utf-8", "utf-8-sig") and check.utf8_bad_at is not None:
        at = f"{check.utf8_bad_at:,}"
        if codec == "utf-8" and not check.non_ascii_before:
            codec = "latin-1" if check.cp1252_undefined else "cp1252"
            label = "Latin-1 (ISO-8859-1)" if codec == "latin-1" else "Windows-1252 (Western European)"
            notes.insert(0, f"not UTF-8 (its first non-ASCII byte, at offset {at}, is not UTF-8): read as {label}; "
                            f"use encoding='{codec}'")
            return {**fields, "encoding": codec, "notes": notes}
        notes.append(f"UTF-8, but the byte at offset {at} is not: read with encoding_errors='replace' "
                     "(such bytes become U+FFFD)")
        return {**fields, "notes": notes}
    if codec == "cp1252" and check.cp1252_undefined:
        notes = [n for n in notes if "cp1252" not in n]
        notes.insert(0, "not UTF-8, and some bytes are undefined in Windows-1252: read as Latin-1 (ISO-8859-1); "
                        "use encoding='latin-1'")
        return {**fields, "encoding": "latin-1", "notes": notes}
    return fields


def _extract(path: str, name: str, level: ContextLevel, sample_rows: int, schema_rows: int) -> dict:
    kind = detect.file_type(name)
    try:
        if os.path.splitext(name)[1].lower() in detect.DATABASE_EXTENSIONS:
            kind = detect.sniff_database(path, name)
        if kind in ("sqlite", "duckdb"):
            from .database import inspect_duckdb, inspect_sqlite

            db = tasks.call(inspect_sqlite if kind == "sqlite" else inspect_duckdb, path, name, level, sample_rows)
            return {"type": kind, "media_type": detect.DATABASE_MEDIA_TYPES[kind], "tables": db.tables,
                    "table_count": db.table_count, "view_count": db.view_count, "notes": db.notes}
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
