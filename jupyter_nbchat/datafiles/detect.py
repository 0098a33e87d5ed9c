"""What a file is: its type (name, then magic bytes), text encoding and delimiter."""

from __future__ import annotations

import codecs
import csv
import io
import mimetypes
import os
import re
from dataclasses import dataclass, field

from .errors import UnreadableFile
from .models import FileType

ZIP_MAGIC = b"PK\x03\x04"
ZIP_EMPTY = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PARQUET_MAGIC = b"PAR1"
SQLITE_MAGIC = b"SQLite format 3\x00"
DUCKDB_MAGIC = b"DUCK"  # at offset 8

DELIMITED_EXTENSIONS = {".csv", ".tsv", ".tab", ".psv", ".txt", ".dat"}
EXTENSIONS: dict[str, FileType] = {
    **{ext: "csv" for ext in DELIMITED_EXTENSIONS},
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db3": "sqlite",
    ".duckdb": "duckdb",
    ".ddb": "duckdb",
}
#: Names a database file may have; the magic bytes decide which engine reads it (`sniff_database`).
DATABASE_EXTENSIONS = {".sqlite", ".sqlite3", ".db", ".db3", ".duckdb", ".ddb"}
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".tab": "text/tab-separated-values",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "application/vnd.ms-excel",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
    ".pq": "application/vnd.apache.parquet",
    ".sqlite": "application/vnd.sqlite3",
    ".sqlite3": "application/vnd.sqlite3",
    ".db3": "application/vnd.sqlite3",
    ".duckdb": "application/x-duckdb",
    ".ddb": "application/x-duckdb",
}
#: A database's media type by its content (a .db file has none by its name).
DATABASE_MEDIA_TYPES = {"sqlite": "application/vnd.sqlite3", "duckdb": "application/x-duckdb"}
DELIMITERS = (",", ";", "\t", "|")
#: How much of a text file is read to decide its encoding and delimiter.
HEAD_BYTES = 1 << 20


def file_type(name: str) -> FileType:
    return EXTENSIONS.get(os.path.splitext(name)[1].lower(), "other")


def media_type(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    return MEDIA_TYPES.get(ext) or mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def sniff_database(path: str, name: str) -> FileType:
    """The engine of a file with a database extension, by its magic bytes: a .sqlite file that
    DuckDB wrote is read by DuckDB; a .db file that is neither stays "other"."""
    head = read_head(path, 16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    return file_type(name)


def read_head(path: str, size: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def describe_binary(head: bytes) -> str | None:
    """What a binary file really is, when its magic bytes say so."""
    if head.startswith(ZIP_MAGIC) or head.startswith(ZIP_EMPTY):
        if b"xl/" in head[:4096] or b"[Content_Types].xml" in head[:4096]:
            return "an Excel workbook (.xlsx)"
        return "a zip archive"
    if head.startswith(OLE_MAGIC):
        if is_encrypted_ole(head):
            return "a password-protected Office file"
        return "an old Excel workbook (.xls) or another Office file"
    if head.startswith(PARQUET_MAGIC):
        return "a Parquet file"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "an image"
    if head.startswith((b"\x1f\x8b",)):
        return "a gzip-compressed file"
    if head.startswith(SQLITE_MAGIC):
        return "an SQLite database"
    if head[8:12] == DUCKDB_MAGIC:
        return "a DuckDB database"
    return None


def is_encrypted_ole(data: bytes) -> bool:
    """An OLE compound file holding an encrypted OOXML package or an RC4/CryptoAPI workbook."""
    return "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data


# --- text encodings ------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class Encoding:
    codec: str  # a name pandas' `encoding=` accepts
    bom: int = 0  # bytes of byte-order mark at the start
    ascii_compatible: bool = True  # quote, newline and delimiters are single ASCII bytes
    notes: list[str] = field(default_factory=list)


def detect_encoding(head: bytes, name: str) -> Encoding:
    """The encoding of a text file from its first bytes; UnreadableFile if it is binary."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            if codec == "utf-8-sig":
                return Encoding(codec, len(bom), notes=["starts with a UTF-8 byte-order mark (BOM); "
                                                      "read it with encoding='utf-8-sig'"])
            return Encoding(codec, len(bom), ascii_compatible=False,
                            notes=[f"{codec.upper()} text with a byte-order mark; read it with encoding='{codec}'"])
    sample = head[:65536]
    nul = sample.count(0)
    if nul and len(sample) >= 4:
        even_nul = sample[0::2].count(0) / max(1, len(sample[0::2]))
        odd_nul = sample[1::2].count(0) / max(1, len(sample[1::2]))
        if odd_nul > 0.3 and even_nul < 0.05 and _looks_like_text(sample, "utf-16-le"):
            return Encoding("utf-16-le", 0, ascii_compatible=False,
                            notes=["UTF-16 (little-endian) text without a byte-order mark; read it with encoding='utf-16-le'"])
        if even_nul > 0.3 and odd_nul < 0.05 and _looks_like_text(sample, "utf-16-be"):
            return Encoding("utf-16-be", 0, ascii_compatible=False,
                            notes=["UTF-16 (big-endian) text without a byte-order mark; read it with encoding='utf-16-be'"])
        raise UnreadableFile(name, _binary_reason(head))
    if _control_ratio(sample) > 0.01:
        raise UnreadableFile(name, _binary_reason(head))
    if _decodes(head, "utf-8"):
        return Encoding("utf-8")
    if _decodes(head, "cp1252"):
        return Encoding("cp1252", notes=["not UTF-8: read as Windows-1252 (Western European); "
                                         "use encoding='cp1252'"])
    return Encoding("latin-1", notes=["not UTF-8: read as Latin-1 (ISO-8859-1); use encoding='latin-1'"])


def _decodes(data: bytes, codec: str) -> bool:
    """True if `data` decodes, allowing a multi-byte character cut off at the end."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        decoder.decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _looks_like_text(sample: bytes, codec: str) -> bool:
    """UTF-16 without a byte-order mark: it decodes, has line breaks and few control characters."""
    if not _decodes(sample, codec):
        return False
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(sample, final=False)
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    return "\n" in text and controls <= len(text) // 100


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13, 27))
    return controls / len(sample)


def _binary_reason(head: bytes) -> str:
    what = describe_binary(head)
    if what:
        return f"it is {what}, not text. Give it the right extension, or export it as CSV (UTF-8)."
    return "it is not a text file (it contains binary data). Export it as CSV (UTF-8) and attach it again."


def decode_head(head: bytes, enc: Encoding, complete: bool) -> str:
    """The head as text, without a BOM, cut at the last whole character when not `complete`."""
    decoder = codecs.getincrementaldecoder(enc.codec)(errors="replace")
    return decoder.decode(head, final=complete)


# --- delimiters ----------------------------------------------------------------------------


@dataclass
class Dialect:
    delimiter: str
    records: list[list[str]]  # the first records of the head (blank lines skipped)
    line_numbers: list[int]  # 1-based line on which each record starts
    decimal_comma: bool = False


def sniff_dialect(text: str, name: str, complete: bool, max_records: int = 200) -> Dialect:
    """The delimiter whose field counts are the most regular over the first records.

    Ties go to the order , ; TAB | (a .tsv/.tab file prefers TAB). A single-column file gets ','.
    """
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: cut + 1] if cut > 0 else text
    order = list(DELIMITERS)
    if os.path.splitext(name)[1].lower() in (".tsv", ".tab"):
        order.remove("\t")
        order.insert(0, "\t")
    elif os.path.splitext(name)[1].lower() == ".psv":
        order.remove("|")
        order.insert(0, "|")
    best: tuple[tuple[float, ...], Dialect] | None = None
    for rank, delimiter in enumerate(order):
        records, lines = parse_records(text, delimiter, max_records)
        if not records or len(records[0]) < 2:
            continue
        widths = [len(r) for r in records]
        header_width = widths[0]
        regular = sum(1 for w in widths if w == header_width) / len(widths)
        score = (regular, min(header_width, 1000) ** 0.25, -rank)
        if best is None or score > best[0]:
            best = (score, Dialect(delimiter, records, lines))
    if best is None:
        records, lines = parse_records(text, ",", max_records)
        return Dialect(",", records, lines)
    dialect = best[1]
    dialect.decimal_comma = dialect.delimiter == ";" and _has_decimal_commas(dialect.records[1:50])
    return dialect


def parse_records(text: str, delimiter: str, max_records: int) -> tuple[list[list[str]], list[int]]:
    """Up to `max_records` non-blank records of `text`, with the line each starts on (a line of
    spaces and tabs is blank to pandas)."""
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    records: list[list[str]] = []
    lines: list[int] = []
    try:
        while len(records) < max_records:
            start = reader.line_num + 1
            row = next(reader)
            if row and not (len(row) == 1 and row[0] and not row[0].strip(" \t")):  # pandas skips
                records.append(row)  # blank lines and lines of spaces/tabs
                lines.append(start)
    except StopIteration:
        pass
    except csv.Error:
        pass  # a field cut at the end of the head, or NUL: keep what was read
    return records, lines


_DECIMAL_COMMA = re.compile(r"^-?\d{1,3}(?:\.\d{3})*,\d+$|^-?\d+,\d+$")


def _has_decimal_commas(rows: list[list[str]]) -> bool:
    hits = sum(1 for row in rows for value in row if _DECIMAL_COMMA.match(value.strip()))
    return hits >= max(1, len(rows) // 2)
