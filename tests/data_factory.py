"""Writers of real data files, odd ones included, for the data-file tests.

Everything is generated (no binary fixtures in the repository): CSV in any encoding, xlsx
through openpyxl (normal and write-only), a real Excel 97-2003 .xls (BIFF8 records in an OLE
compound file, written by hand below), an encrypted-looking OLE package, truncated zips.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_text(path: Path, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    data = text.encode(encoding)
    if bom:
        data = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding] + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def csv_text(rows: Sequence[Sequence[Any]], delimiter: str = ",", newline: str = "\n") -> str:
    """RFC 4180 text: fields quoted when they hold the delimiter, a quote or a line break."""
    out = []
    for row in rows:
        fields = []
        for value in row:
            text = "" if value is None else str(value)
            if any(ch in text for ch in (delimiter, '"', "\n", "\r")):
                text = '"' + text.replace('"', '""') + '"'
            fields.append(text)
        out.append(delimiter.join(fields))
    return newline.join(out) + newline


def wide_csv(path: Path, columns: int, rows: int) -> Path:
    header = [f"c{i}" for i in range(columns)]
    body = [[str(r * columns + i) for i in range(columns)] for r in range(rows)]
    return write_text(path, csv_text([header, *body]))


# --- xlsx --------------------------------------------------------------------------------


def xlsx(path: Path, sheets: dict[str, Sequence[Sequence[Any]]], merged: dict[str, list[str]] | None = None,
         write_only: bool = False, hidden: Sequence[str] = ()) -> Path:
    """A workbook with one sheet per entry (rows from A1); openpyxl's normal mode writes shared
    strings and <dimension>, write-only mode inline strings and no dimension."""
    from openpyxl import Workbook

    wb = Workbook(write_only=write_only)
    if not write_only:
        wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
        if not write_only:
            for ref in (merged or {}).get(name, []):
                ws.merge_cells(ref)
            if name in hidden:
                ws.sheet_state = "hidden"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def xlsx_cells(path: Path, sheet: str, cells: dict[str, Any], formats: dict[str, str] | None = None) -> Path:
    """A one-sheet workbook with values at given cells ("B3": 1), optional number formats."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for ref, value in cells.items():
        ws[ref] = value
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    wb.save(path)
    return path


def truncated(source: Path, target: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    return write_bytes(target, data[: int(len(data) * keep)])


# --- OLE compound files ------------------------------------------------------------------

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def ole(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file (512-byte sectors) holding `streams` (each padded to 4 KiB so
    no mini stream is needed; at most ~60 KiB in all, one FAT sector)."""
    streams = {name: data + b"\x00" * max(0, 4096 - len(data)) for name, data in streams.items()}
    sectors: list[bytes] = []
    starts = []
    fat = [FATSECT]
    for data in streams.values():
        count = (len(data) + 511) // 512
        first = len(fat)
        starts.append(first)
        for i in range(count):
            sectors.append(data[i * 512 : (i + 1) * 512].ljust(512, b"\x00"))
            fat.append(first + i + 1 if i < count - 1 else ENDOFCHAIN)
    entries = [("Root Entry", 5, ENDOFCHAIN, 0)] + [(n, 2, s, len(d)) for (n, d), s in zip(streams.items(), starts)]
    directory = b""
    for index, (name, kind, start, size) in enumerate(entries):
        encoded = (name + "\x00").encode("utf-16-le")
        child = 1 if index == 0 and len(entries) > 1 else NOSTREAM
        right = index + 1 if 0 < index < len(entries) - 1 else NOSTREAM
        directory += (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBBIII", len(encoded), kind, 1, NOSTREAM, right, child)
            + b"\x00" * 16 + struct.pack("<I", 0) + b"\x00" * 16
            + struct.pack("<IQ", start, size)
        )
    directory = directory.ljust((len(directory) + 511) // 512 * 512, b"\x00")
    dir_start = len(fat)
    for i in range(len(directory) // 512):
        fat.append(dir_start + i + 1 if i < len(directory) // 512 - 1 else ENDOFCHAIN)
        sectors.append(directory[i * 512 : (i + 1) * 512])
    assert len(fat) <= 128, "test OLE files must fit one FAT sector"
    fat_sector = struct.pack("<128I", *(fat + [FREESECT] * (128 - len(fat))))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
        + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9) + struct.pack("<H", 6) + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, dir_start, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
        + struct.pack("<109I", 0, *([FREESECT] * 108))
    )
    assert len(header) == 512
    return header + fat_sector + b"".join(sectors)


def encrypted_xlsx(path: Path) -> Path:
    """What Excel writes for a password-protected .xlsx: an OLE file, not a zip."""
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<?xml version=\"1.0\"?><encryption/>"
    return write_bytes(path, ole({"EncryptionInfo": info, "EncryptedPackage": struct.pack("<Q", 1024) + b"\x5a" * 1024}))


# --- xls (BIFF8) -------------------------------------------------------------------------


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))


def _label(row: int, col: int, text: str) -> bytes:
    return _record(0x0204, struct.pack("<HHHHB", row, col, 15, len(text), 1) + text.encode("utf-16-le"))


def _number(row: int, col: int, value: float) -> bytes:
    return _record(0x0203, struct.pack("<HHHd", row, col, 15, float(value)))


def xls(path: Path, sheets: dict[str, Sequence[Sequence[Any]]]) -> Path:
    """A real Excel 97-2003 workbook: BIFF8 records (text as LABEL, numbers as NUMBER) in the
    OLE stream "Workbook", as read by python-calamine and xlrd."""
    xf = _record(0x00E0, struct.pack("<HHHBBBBIIH", 0, 0, 0xFFF5, 0x20, 0, 0, 0, 0, 0, 0x20C0))
    font = _record(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + b"\x05\x01" + "Arial".encode("utf-16-le"))
    sheet_streams = []
    for rows in sheets.values():
        body = io.BytesIO()
        body.write(_bof(0x0010))
        width = max((len(r) for r in rows), default=0)
        body.write(_record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0)))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                body.write(_number(r, c, value) if isinstance(value, (int, float)) else _label(r, c, str(value)))
        body.write(_record(0x000A))
        sheet_streams.append(body.getvalue())

    def globals_part(offsets: list[int]) -> bytes:
        out = _bof(0x0005) + _record(0x0042, struct.pack("<H", 1200)) + font * 5 + xf * 16
        for (name, _rows), offset in zip(sheets.items(), offsets):
            out += _record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 1) + name.encode("utf-16-le"))
        return out + _record(0x000A)

    size = len(globals_part([0] * len(sheets)))
    offsets = []
    for stream in sheet_streams:
        offsets.append(size)
        size += len(stream)
    workbook = globals_part(offsets) + b"".join(sheet_streams)
    return write_bytes(path, ole({"Workbook": workbook}))


# --- database files ----------------------------------------------------------------------


def sqlite_db(path: Path, script: str, wal: bool = False) -> Path:
    """An SQLite file made by running `script` (rollback journal, or WAL mode, checkpointed)."""
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        if wal:
            con.execute("PRAGMA journal_mode=WAL")
        con.executescript(script)
        con.commit()
    finally:
        con.close()
    return path


def duckdb_db(path: Path, script: str) -> Path:
    """A DuckDB file made by running `script` (checkpointed on close: no .wal left)."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(script)
    finally:
        con.close()
    return path
