"""Excel workbooks: sheet names, headers and exact row counts without loading the cells.

An .xlsx/.xlsm is a zip of XML parts. Each worksheet's XML is inflated as a stream (ISA-L's
inflate when installed: 4-5x zlib), sheets in parallel (inflate releases the GIL):
  * the first rows go through expat (xml.etree's pull parser) for the header, and at the
    `schema`/`sample` levels for the first rows' values;
  * every inflated chunk is searched from its end for the last cell value (`</v>`, `</t>`),
    whose enclosing `<row r="N">` is the last row with data. The declared `<dimension>` is
    not trusted: it counts formatted empty cells and some writers leave it out.
Only the shared strings the header (or sample) uses are read. Memory stays at a few MB per
sheet whatever the workbook's size.

The table of a sheet is what `pandas.read_excel(path, sheet_name=…, header=h, engine=…)`
reads, where h+1 is the first non-empty row (usually row 1), or the first row holding two or
more values below a title of one-value rows (`pick_header`): its columns run from A to the
widest value anywhere in the sheet (pandas pads every row to the widest one: the declared
`<dimension>` bounds it when it is there and plausible, else the XML is screened for wider
cell references, `_widest_value`), blank names become 'Unnamed: i', duplicates 'x.1', and
blank rows inside the table count (pandas keeps them as rows of NaN) while trailing ones do not.

.xls (BIFF) workbooks, limited to 65,536 rows, are read whole with python-calamine.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import struct
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import tasks
from .delimited import pandas_names, set_schema
from .detect import OLE_MAGIC, describe_binary, is_encrypted_ole
from .errors import UnreadableFile
from .models import ContextLevel, TableSummary

try:  # ISA-L inflate: 4-5x faster than zlib on sheet XML
    from isal import isal_zlib as _inflate_lib
except ImportError:  # pragma: no cover - optional speed-up
    import zlib as _inflate_lib

CHUNK_IN = 1 << 17  # compressed bytes read at a time
CHUNK_OUT = 1 << 20  # at most this many inflated bytes per step (zip bombs stay small)
OVERLAP = 4096  # inflated bytes kept from the previous chunk: a row's start tag fits
MAX_XML_BYTES = 8 << 30  # a sheet inflating to more is refused (zip bomb)
HEADER_SEARCH_ROWS = 1000  # rows searched for the first non-empty one
WIDTH_ROWS = 50  # rows after the header that also decide the column count
EXCEL_SCHEMA_ROWS = 10_000  # rows parsed for dtypes and nulls
MAX_TAIL_BYTES = 16 << 20  # XML after </sheetData> kept for <mergeCells>
MAX_SHARED_STRING = 1 << 20  # most shared strings resolved (header and sample only)
PARSE_PIECE = 1 << 16  # XML fed to the parser at a time while the first rows are read

_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*ref\s*=\s*[\"']([A-Z]+\d+(?::[A-Z]+\d+)?)")
_ROOT = re.compile(rb"<(?:(\w+):)?worksheet[\s>]")


@dataclass
class WorkbookInfo:
    sheets: list[str]
    tables: list[TableSummary]
    notes: list[str] = field(default_factory=list)


@dataclass
class _SheetRef:
    name: str
    part: str | None  # zip member of the sheet's XML
    kind: str  # worksheet, chartsheet, dialogsheet, macrosheet
    state: str  # visible, hidden, veryHidden


@dataclass
class _Cell:
    col: int  # 0-based
    t: str  # cell type attribute
    value: str | None  # text of <v>, or of the inline string
    style: int


@dataclass
class _SheetScan:
    rows: list[tuple[int, list[_Cell]]]  # first rows that hold cells: (1-based number, cells)
    last_row: int  # last row holding a value (0: none)
    merged: list[str]
    head_complete: bool  # `rows` has every row of the sheet
    widest: int = -1  # largest 0-based column of a cell holding a value, anywhere in the sheet


# --- the zip container ---------------------------------------------------------------------


def _open_zip(path: str, name: str) -> zipfile.ZipFile:
    with open(path, "rb") as f:
        head = f.read(8)
        if head.startswith(OLE_MAGIC):
            f.seek(0)
            data = f.read(1 << 20)
    if head.startswith(OLE_MAGIC):
        if is_encrypted_ole(data):
            raise UnreadableFile(name, "the workbook is password-protected (encrypted). Open it in Excel, "
                                 "remove the password (File > Info > Protect Workbook) and save it again.")
        raise _NotZip()
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with open(path, "rb") as f:
            start = f.read(4096)
        if start.startswith(b"PK\x03\x04"):
            raise UnreadableFile(name, "the workbook is damaged or incomplete (its zip directory is "
                                 "missing: was the download or copy cut short?).") from None
        what = describe_binary(start)
        if what:
            reason = f"it is {what}, not an Excel workbook (.xlsx)."
        elif _looks_like_text(start):
            reason = ("it is a text file, not an Excel workbook (.xlsx) (a CSV saved with the wrong "
                      "extension?). Rename it to .csv, or save it from Excel as .xlsx.")
        else:
            reason = "it is not an Excel workbook (an .xlsx is a zip archive and this is not one)."
        raise UnreadableFile(name, reason) from None


class _NotZip(Exception):
    """An OLE (old .xls) file with an .xlsx name."""


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def _read_xml(z: zipfile.ZipFile, part: str, name: str) -> ET.Element:
    try:
        with z.open(part) as f:
            return ET.parse(f).getroot()
    except KeyError:
        raise UnreadableFile(name, f"the workbook is incomplete: part {part!r} is missing.") from None
    except (ET.ParseError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise UnreadableFile(name, f"the workbook is damaged ({part}: {err}).") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(elem: ET.Element, local: str) -> str | None:
    for key, value in elem.attrib.items():
        if _local(key) == local:
            return value
    return None


def _rels(z: zipfile.ZipFile, part: str, name: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type's last segment, target part) for a part."""
    folder, base = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    if rels_part not in z.NameToInfo:
        return {}
    out = {}
    for rel in _read_xml(z, rels_part, name):
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], target)
    return out


@dataclass
class _Book:
    sheets: list[_SheetRef]
    shared_strings: str | None
    styles: str | None
    date1904: bool


def _workbook(z: zipfile.ZipFile, name: str) -> _Book:
    root_rels = _rels(z, "", name) if "_rels/.rels" in z.NameToInfo else {}
    part = next((t for kind, t in root_rels.values() if kind == "officeDocument"), "xl/workbook.xml")
    if part not in z.NameToInfo:
        what = "a Word document" if "word/document.xml" in z.NameToInfo else (
            "a PowerPoint file" if "ppt/presentation.xml" in z.NameToInfo else "a zip archive")
        raise UnreadableFile(name, f"it is {what}, not an Excel workbook (no workbook part inside).")
    book = _read_xml(z, part, name)
    rels = _rels(z, part, name)
    sheets = []
    date1904 = False
    for elem in book.iter():
        tag = _local(elem.tag)
        if tag == "workbookPr":
            date1904 = (elem.get("date1904") or "").lower() in ("1", "true")
        elif tag == "sheet":
            kind, target = rels.get(_attr(elem, "id") or "", ("", None))
            sheets.append(_SheetRef(elem.get("name", ""), target if target in z.NameToInfo else None,
                                    kind or "worksheet", elem.get("state", "visible")))
    by_kind = {kind: target for kind, target in rels.values()}
    return _Book(sheets, by_kind.get("sharedStrings"), by_kind.get("styles"), date1904)


def _member_chunks(z: zipfile.ZipFile, path: str, part: str, name: str) -> Iterator[bytes]:
    """The inflated bytes of one zip member, CHUNK_OUT at a time."""
    info = z.getinfo(part)
    if info.flag_bits & 0x1:
        raise UnreadableFile(name, "the workbook's parts are encrypted.")
    if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        with z.open(part) as f:  # rare methods (deflate64, bzip2): the stdlib's reader
            while chunk := f.read(CHUNK_OUT):
                yield chunk
        return
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise UnreadableFile(name, f"the workbook is damaged (bad zip entry for {part}).")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        remaining = info.compress_size
        crc = 0
        total = 0
        if info.compress_type == zipfile.ZIP_STORED:
            while remaining:
                chunk = f.read(min(remaining, CHUNK_OUT))
                if not chunk:
                    break
                remaining -= len(chunk)
                crc = _inflate_lib.crc32(chunk, crc)
                total += len(chunk)
                yield chunk
        else:
            inflater = _inflate_lib.decompressobj(-15)
            try:
                while remaining or inflater.unconsumed_tail:
                    data = inflater.unconsumed_tail
                    if not data:
                        data = f.read(min(remaining, CHUNK_IN))
                        if not data:
                            break
                        remaining -= len(data)
                    chunk = inflater.decompress(data, CHUNK_OUT)
                    if chunk:
                        crc = _inflate_lib.crc32(chunk, crc)
                        total += len(chunk)
                        if total > MAX_XML_BYTES:
                            raise UnreadableFile(name, f"{part} inflates to more than {MAX_XML_BYTES >> 30} GB "
                                                 "(a zip bomb?).")
                        yield chunk
                    if inflater.eof:
                        break
            except _inflate_lib.error as err:
                raise UnreadableFile(name, f"the workbook is damaged ({part} does not inflate: {err}).") from None
        if total != info.file_size or crc != info.CRC:
            raise UnreadableFile(name, f"the workbook is damaged ({part} is incomplete or corrupt).")


# --- one worksheet -------------------------------------------------------------------------


def _scan_sheet_file(path: str, part: str, name: str, head_rows: int) -> _SheetScan:
    """One worksheet of the workbook at `path` (a task: it opens the zip itself)."""
    try:
        with zipfile.ZipFile(path) as z:
            return _scan_sheet(z, path, part, name, head_rows)
    except zipfile.BadZipFile:
        raise UnreadableFile(name, "the workbook is damaged (its zip directory cannot be read).") from None


def _scan_sheet(z: zipfile.ZipFile, path: str, part: str, name: str, head_rows: int) -> _SheetScan:
    """Stream one worksheet: parse its first rows, find its last row with a value."""
    parser = ET.XMLPullParser(events=("end",))
    rows: list[tuple[int, list[_Cell]]] = []
    parsing = True
    head_complete = False
    next_row = 1  # rows without r="" are numbered in order
    header_at: int | None = None
    prefix: bytes | None = None
    tags: dict[str, bytes] = {}
    carry = b""
    last_value_row = 0
    open_row = 0  # number of the last row element started so far
    count_mode = False  # rows without r="": count their start tags
    rows_before = 0  # count mode: row start tags in earlier chunks
    tail = bytearray()
    in_tail = False
    widest = -1  # widest value found by the screen
    seen = -1  # widest value among the parsed rows
    dimension: tuple[int, int] | None = None  # declared (last column, last row)
    trusted = False  # the dimension let the screen skip a chunk
    for chunk in _member_chunks(z, path, part, name):
        if prefix is None:
            dimension = _dimension(chunk[:65536])
            root = _ROOT.search(chunk[:65536])
            prefix = (root.group(1) + b":") if root and root.group(1) else b""
            tags = {
                "v": b"</" + prefix + b"v>",
                "t": b"</" + prefix + b"t>",
                "row": b"<" + prefix + b"row",
                "end": b"</" + prefix + b"sheetData>",
                "row_end": b"</" + prefix + b"row>",
                "c_end": b"</" + prefix + b"c>",
            }
        if parsing:
            for at in range(0, len(chunk), PARSE_PIECE):  # small pieces: stop soon after the head
                try:
                    parser.feed(chunk[at : at + PARSE_PIECE])
                    for _event, elem in parser.read_events():
                        tag = _local(elem.tag)
                        if tag == "row":
                            number = int(elem.get("r") or next_row)
                            if elem.get("r") is None:
                                count_mode = True
                            next_row = number + 1
                            cells = _row_cells(elem)
                            if cells:
                                rows.append((number, cells))
                                seen = max([seen] + [c.col for c in cells if c.value not in (None, "")])
                                if header_at is None and any(c.value not in (None, "") for c in cells):
                                    header_at = len(rows) - 1
                            elem.clear()
                            if (header_at is not None and len(rows) - header_at > head_rows) or (
                                header_at is None and number > HEADER_SEARCH_ROWS
                            ):
                                parsing = False
                                break
                        elif tag == "sheetData":
                            head_complete = True
                            parsing = False
                            break
                except ET.ParseError as err:
                    raise UnreadableFile(name, f"the workbook is damaged (sheet XML: {err}).") from None
                if not parsing:
                    break
        if in_tail:
            if len(tail) < MAX_TAIL_BYTES:
                tail += chunk
            continue
        buf = carry + chunk
        new_from = len(carry)
        # </sheetData> comes after the last </row>: search only past it (searching a whole
        # chunk of XML for a tag is slow, every other byte being a '<').
        end = buf.find(tags["end"], max(0, buf.rfind(tags["row_end"])))
        limit = end if end >= 0 else len(buf)
        marker = _last_value(buf, limit, tags)
        if marker >= 0:
            known = max(widest, seen)
            last_seen = max(open_row, rows[-1][0] if rows else 0)
            if dimension is not None and dimension[0] <= known and dimension[1] >= last_seen:
                trusted = True  # nothing is declared right of what was seen
            else:
                widest = _widest_value(buf, limit, known, tags)
        if count_mode:
            if marker >= 0:
                last_value_row = rows_before + _count_rows(buf, tags["row"], new_from, marker)
            rows_before += _count_rows(buf, tags["row"], new_from, limit)
        else:
            if marker >= 0:
                start = _rfind_row(buf, tags["row"], marker)
                last_value_row = _row_number(buf, start) if start >= 0 else open_row
            start = _rfind_row(buf, tags["row"], limit)
            if start >= 0:
                open_row = _row_number(buf, start) or open_row
        if end >= 0:
            in_tail = True
            tail += buf[end:]
        carry = buf[-OVERLAP:] if end < 0 else b""
    if head_complete and rows:
        last_value_row = max((n for n, cells in rows if any(c.value not in (None, "") for c in cells)), default=0)
    merged = [m.decode("ascii") for m in _MERGE.findall(bytes(tail))]
    widest = max(widest, seen)  # cells without r="" (numbered by position) are only seen parsed
    if trusted and dimension is not None and dimension[1] < last_value_row:
        widest = _rescan_width(z, path, part, name, widest, tags)  # the dimension was stale
    return _SheetScan(rows, last_value_row, merged, head_complete, widest)


_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s[^>]*ref\s*=\s*[\"']\$?[A-Z]+\$?\d+(?::\$?([A-Z]+)\$?(\d+))?[\"']"
)


def _dimension(head: bytes) -> tuple[int, int] | None:
    """The sheet's declared <dimension ref="A1:T500"> as (last 0-based column, last row).

    Excel, openpyxl and XlsxWriter write it, covering every cell (styled empty ones too), so
    it bounds what pandas sees; openpyxl's write-only mode leaves it out, and a stale one
    (say "A1" on a filled sheet) is noticed when the last row with a value lies below it."""
    match = _DIMENSION.search(head)
    if not match or not match.group(1):
        return None
    return _column_index(match.group(1).decode("ascii")), int(match.group(2))


def _rescan_width(z: zipfile.ZipFile, path: str, part: str, name: str, known: int,
                  tags: dict[str, bytes]) -> int:
    """The widest value of the whole sheet, screened again (its dimension proved stale)."""
    carry = b""
    for chunk in _member_chunks(z, path, part, name):
        buf = carry + chunk
        end = buf.find(tags["end"])
        known = _widest_value(buf, end if end >= 0 else len(buf), known, tags)
        if end >= 0:
            break
        carry = buf[-OVERLAP:]
    return known


def _letters(col: int) -> bytes:
    """0-based column -> its letters (0 -> A, 26 -> AA)."""
    out = b""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = bytes([65 + rem]) + out
    return out


_screen_local = threading.local()


def _screen_scratch(size: int) -> list[np.ndarray]:
    """Per-thread buffers for _widest_value (allocating 1 MB arrays per step costs more than
    the comparisons)."""
    sc = getattr(_screen_local, "arrays", None)
    if sc is None or sc[0].size < size:
        sc = _screen_local.arrays = [np.empty(max(size, CHUNK_OUT + OVERLAP), np.uint8)] + [
            np.empty(max(size, CHUNK_OUT + OVERLAP), np.bool_) for _ in range(4)]
    return sc


def _widest_value(buf: bytes, stop: int, known: int, tags: dict[str, bytes]) -> int:
    """The largest 0-based column of a cell holding a value in buf[:stop], or `known` if none
    is larger.

    pandas pads every row to the widest one, so one value far to the right (or far below the
    first rows) adds columns. A cell right of `known` has a reference (r="U7") whose letters
    come after those of column known+1 (longer, or as long and not smaller): NumPy screens the
    XML for a quote followed by such letters (a dozen vector operations per byte, about 0.5
    ms per MB); only the rare hits are looked at closely (an empty styled cell <c r="Z9"
    s="1"/> holds no value)."""
    a = np.frombuffer(buf, np.uint8, count=stop)
    first = _letters(known + 1)
    size = len(first)
    n = a.size - size - 2
    if n <= 0:
        return known
    sc = _screen_scratch(a.size)
    tmp, upper, hit, ge, eq = sc[0][: a.size], sc[1][: a.size], sc[2][:n], sc[3][:n], sc[4][:n]
    np.subtract(a, np.uint8(65), out=tmp)
    np.less(tmp, 26, out=upper)
    np.equal(a[:n], 0x22, out=hit)
    for j in range(1, size + 1):
        hit &= upper[j : j + n]
    np.greater_equal(a[size : size + n], first[-1], out=ge)
    for j in range(size - 1, 0, -1):
        np.equal(a[j : j + n], first[j - 1], out=eq)
        ge &= eq
        np.greater(a[j : j + n], first[j - 1], out=eq)
        ge |= eq
    ge |= upper[size + 1 : size + 1 + n]  # a longer reference
    hit &= ge
    if not hit.any():
        return known
    quotes = np.flatnonzero(hit)
    if quotes.size > 64:  # styled empty cells (<c r="Z9" s="1"/>) right of the table: drop them at once
        closes = np.flatnonzero(a == 0x3E)
        at = np.searchsorted(closes, quotes)
        ok = at < closes.size
        quotes, at = quotes[ok], at[ok]
        quotes = quotes[a[closes[at] - 1] != 0x2F]
        if not quotes.size:
            return known
    cols = np.zeros(quotes.size, np.int64)
    for j in range(1, 4):
        letter = a[np.minimum(quotes + j, a.size - 1)].astype(np.int64)
        more = (letter >= 65) & (letter <= 90) & ((j == 1) | (cols > 0))
        cols = np.where(more, cols * 26 + (letter - 64), cols)
    cols -= 1
    for i in np.argsort(-cols, kind="stable"):
        col = int(cols[i])
        if col <= known:
            break
        if _cell_has_value(buf, int(quotes[i]), stop, tags):
            return col
    return known


_VALUE = re.compile(rb"<(?:\w+:)?(?:v|t)(?:\s[^>]*)?>[^<]")


def _cell_has_value(buf: bytes, at: int, stop: int, tags: dict[str, bytes]) -> bool:
    """Whether the cell whose reference starts at `at` holds a non-empty value (<v> or inline
    text); False for what is not a cell's reference (a quote in a string, a row)."""
    opening = buf.rfind(b"<", 0, at)
    if opening < 0 or not re.match(rb"<(?:\w+:)?c\s[^>]*\br\s*=\s*$", buf[opening : at]):
        return False
    end = buf.find(b">", at, stop)
    if end < 0 or buf[end - 1 : end] == b"/":
        return False
    close = buf.find(tags["c_end"], end, stop)
    return bool(_VALUE.search(buf, end, close if close >= 0 else stop))


def _count_rows(buf: bytes, tag: bytes, start: int, stop: int) -> int:
    return buf.count(tag + b" ", max(0, start - len(tag)), stop) + buf.count(tag + b">", max(0, start - len(tag)), stop)


def _last_value(buf: bytes, limit: int, tags: dict[str, bytes]) -> int:
    """Position of the last non-empty cell value's end tag before `limit`, or -1."""
    stop = limit
    while True:
        pos = max(buf.rfind(tags["v"], 0, stop), buf.rfind(tags["t"], 0, stop))
        if pos < 0 or buf[pos - 1 : pos] != b">":
            return pos
        stop = pos  # <v></v>: empty, look further back


def _rfind_row(buf: bytes, tag: bytes, before: int) -> int:
    pos = before
    while True:
        pos = buf.rfind(tag, 0, pos)
        if pos < 0 or buf[pos + len(tag) : pos + len(tag) + 1] in (b" ", b">", b"\t", b"\n", b"\r"):
            return pos


def _row_number(buf: bytes, start: int) -> int:
    close = buf.find(b">", start)
    match = _ROW_NUMBER.search(buf, start, close if close >= 0 else len(buf))
    return int(match.group(1)) if match else 0


def _row_cells(row: ET.Element) -> list[_Cell]:
    cells = []
    position = 0
    for c in row:
        if _local(c.tag) != "c":
            continue
        ref = c.get("r")
        col = _column_index(ref) if ref else position
        position = col + 1
        t = c.get("t", "n")
        value = None
        for part in c:
            local = _local(part.tag)
            if local == "v":
                value = part.text or ""
            elif local == "is":
                value = "".join(x.text or "" for x in part.iter() if _local(x.tag) == "t" and not _in_phonetic(part, x))
        cells.append(_Cell(col, t, value, int(c.get("s") or 0)))
    return cells


def _in_phonetic(root: ET.Element, node: ET.Element) -> bool:
    return any(node in list(rph.iter()) for rph in root if _local(rph.tag) == "rPh")


def _column_index(ref: str) -> int:
    match = _CELL_REF.match(ref)
    letters = match.group(1) if match else ref.rstrip("0123456789")
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch.upper()) - 64)
    return max(0, index - 1)


# --- shared strings and styles -------------------------------------------------------------


def _shared_strings(z: zipfile.ZipFile, path: str, part: str | None, needed: int, name: str) -> list[str]:
    """The first `needed` shared strings (stops reading there)."""
    if part is None or needed <= 0 or part not in z.NameToInfo:
        return []
    needed = min(needed, MAX_SHARED_STRING)
    out: list[str] = []
    parser = ET.XMLPullParser(events=("end",))
    try:
        for chunk in _member_chunks(z, path, part, name):
            parser.feed(chunk)
            for _event, elem in parser.read_events():
                if _local(elem.tag) == "si":
                    out.append("".join(
                        x.text or "" for x in elem.iter() if _local(x.tag) == "t" and not _in_phonetic(elem, x)
                    ))
                    elem.clear()
                    if len(out) >= needed:
                        return out
    except ET.ParseError as err:
        raise UnreadableFile(name, f"the workbook is damaged (shared strings: {err}).") from None
    return out


@dataclass
class _Styles:
    dates: set[int]  # cell style indexes that format numbers as dates or times


def _styles(z: zipfile.ZipFile, part: str | None, name: str) -> _Styles:
    if part is None or part not in z.NameToInfo:
        return _Styles(set())
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    root = _read_xml(z, part, name)
    custom = {}
    dates = set()
    for elem in root.iter():
        if _local(elem.tag) == "numFmt":
            custom[int(elem.get("numFmtId", "-1"))] = elem.get("formatCode", "")
    for elem in root.iter():
        if _local(elem.tag) == "cellXfs":
            for index, xf in enumerate(x for x in elem if _local(x.tag) == "xf"):
                fmt_id = int(xf.get("numFmtId", "0"))
                code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, ""))
                if code and is_date_format(code) or 14 <= fmt_id <= 22 or 45 <= fmt_id <= 47:
                    dates.add(index)
            break
    return _Styles(dates)


# --- values --------------------------------------------------------------------------------


def _python_value(cell: _Cell, strings: list[str], styles: _Styles | None, date1904: bool) -> Any:
    """The value openpyxl (and so pandas) gives a cell."""
    value = cell.value
    if value is None:
        return None
    if cell.t == "s":
        try:
            return strings[int(value)]
        except (ValueError, IndexError):
            return None
    if cell.t in ("str", "inlineStr", "e"):
        return value
    if cell.t == "b":
        return value.strip() in ("1", "true")
    if cell.t == "d":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    try:
        number: float | int = float(value) if any(ch in value for ch in ".eE") else int(value)
    except ValueError:
        return value
    if styles is not None and cell.style in styles.dates:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

        try:
            return from_excel(number, CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900)
        except (ValueError, OverflowError):
            return number
    return number


def _name_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)


# --- the workbook --------------------------------------------------------------------------


def inspect_xlsx(path: str, name: str, level: ContextLevel = "headers", sample_rows: int = 5,
                 schema_rows: int = EXCEL_SCHEMA_ROWS) -> WorkbookInfo:
    try:
        z = _open_zip(path, name)
    except _NotZip:
        info = inspect_xls(path, name, level, sample_rows)
        info.notes.insert(0, "saved in the old .xls format despite its .xlsx name; read it with engine='calamine'")
        return info
    with z:
        book = _workbook(z, name)
        if not book.sheets:
            raise UnreadableFile(name, "the workbook lists no sheets.")
        head_rows = max(WIDTH_ROWS, min(schema_rows, EXCEL_SCHEMA_ROWS) if level != "headers" else 0)
        worksheets = [s for s in book.sheets if s.part and s.kind == "worksheet"]
        # Largest first: the biggest sheet bounds the time, the others fill in around it.
        worksheets.sort(key=lambda s: -z.getinfo(s.part).compress_size)
        found = tasks.pmap(_scan_sheet_file, [(path, s.part, name, head_rows) for s in worksheets], inline_threads=True)
        scans = {s.part: scan for s, scan in zip(worksheets, found)}
        needed = _strings_needed(scans.values(), level)
        strings = _shared_strings(z, path, book.shared_strings, needed, name)
        styles = _styles(z, book.styles, name) if level != "headers" or _numeric_headers(scans.values()) else None
        tables = []
        for sheet in book.sheets:
            scan = scans.get(sheet.part) if sheet.part else None
            tables.append(_table(sheet, scan, strings, styles, book.date1904, level, sample_rows))
    return WorkbookInfo([s.name for s in book.sheets], tables)


def _strings_needed(scans, level: ContextLevel) -> int:
    """1 + the largest shared-string index the header rows (or, past `headers`, any row) use."""
    top = -1
    for scan in scans:
        header = _header_index(scan)
        rows = scan.rows if level != "headers" else scan.rows[header : header + 1] if header is not None else []
        for _n, cells in rows:
            for c in cells:
                if c.t == "s" and c.value and c.value.isdigit():
                    top = max(top, int(c.value))
    return top + 1


def _numeric_headers(scans) -> bool:
    for scan in scans:
        header = _header_index(scan)
        if header is not None and any(c.t == "n" and c.style for c in scan.rows[header][1]):
            return True
    return False


def _header_index(scan: _SheetScan) -> int | None:
    return pick_header([
        (sum(1 for c in cells if c.value not in (None, "")),
         all(c.t in ("s", "str", "inlineStr") for c in cells if c.value not in (None, "")))
        for _n, cells in scan.rows[:HEADER_SEARCH_ROWS]
    ])


#: At most this many rows, each holding a single text value, are taken for a title above a table.
TITLE_ROWS = 3


def pick_header(rows: list[tuple[int, bool]]) -> int | None:
    """Index of the header among rows given as (number of values, all of them text?).

    The first row holding a value, unless it starts a title: up to TITLE_ROWS rows holding one
    text value each ("Sales 2024", "Source: …"), blank rows between, then a row holding two
    or more values: that row is the header (pandas needs header=<its row - 1>, or it names the
    columns after the title and 'Unnamed: i')."""
    first = next((i for i, (count, _text) in enumerate(rows) if count), None)
    if first is None:
        return None
    titles = 0
    for i in range(first, len(rows)):
        count, text = rows[i]
        if count == 0:
            continue
        if count >= 2:
            return i if titles else first
        if not text or titles == TITLE_ROWS:
            return first
        titles += 1
    return first


def _table(sheet: _SheetRef, scan: _SheetScan | None, strings: list[str], styles: _Styles | None,
           date1904: bool, level: ContextLevel, sample_rows: int) -> TableSummary:
    notes = []
    if sheet.state != "visible":
        notes.append(f"{'very hidden' if sheet.state == 'veryHidden' else 'hidden'} sheet")
    if scan is None:
        what = {"chartsheet": "a chart sheet", "dialogsheet": "a dialog sheet",
                "macrosheet": "an Excel 4 macro sheet"}.get(sheet.kind, "a sheet without cells")
        return TableSummary(name=sheet.name, columns=[], column_count=0, row_count=0,
                            notes=notes + [f"{what}: no table"])
    header = _header_index(scan)
    if header is None or scan.last_row == 0:
        return TableSummary(name=sheet.name, columns=[], column_count=0, row_count=0,
                            notes=notes + ["empty sheet: no cells with values"])
    header_number, header_cells = scan.rows[header]
    body = [cells for n, cells in scan.rows[header + 1 :] if n <= scan.last_row]
    width = 1 + max(
        max((c.col for c in header_cells if c.value not in (None, "")), default=0),
        max((c.col for cells in body[:WIDTH_ROWS] for c in cells if c.value not in (None, "")), default=0),
        scan.widest,  # pandas pads every row, titles above the header included, to the widest
    )
    raw = [""] * width
    for c in header_cells:
        if c.col < width:
            raw[c.col] = _name_text(_python_value(c, strings, styles, date1904))
    columns, name_notes = pandas_names(raw)
    notes.extend(name_notes)
    rows = max(0, scan.last_row - header_number)
    if header_number > 1:
        if header > 0 and any(c.value not in (None, "") for _n, cells in scan.rows[:header] for c in cells):
            notes.append(f"rows 1-{header_number - 1} hold a title above the table: the header is row "
                         f"{header_number}; read it with header={header_number - 1}")
        else:
            notes.append(f"rows 1-{header_number - 1} are empty: the table starts at row {header_number}; "
                         f"read it with header={header_number - 1} (pandas' default header is row 1)")
    if rows == 0:
        notes.append("header only: the sheet has no data rows")
    header_merges = [m for m in scan.merged if _merge_touches_row(m, header_number)]
    if header_merges:
        shown = ", ".join(header_merges[:10]) + (" …" if len(header_merges) > 10 else "")
        notes.append(f"merged header cells ({shown}): pandas puts the text in the first column of each "
                     "merge and names the others 'Unnamed: <i>'; the row below may hold sub-headers")
    elif scan.merged:
        notes.append(f"{len(scan.merged)} merged cell range(s) in the sheet: only their top-left cell holds a value")
    table = TableSummary(name=sheet.name, columns=columns[:20_000], column_count=len(columns), row_count=rows,
                         header_row=header_number, notes=notes)
    if level != "headers":
        import pandas as pd

        data = []
        expected = header_number + 1
        for number, cells in scan.rows[header + 1 :]:
            if number > scan.last_row:
                break
            data.extend([[None] * width] * (number - expected))  # blank rows between are rows of NaN
            values = [None] * width
            for c in cells:
                if c.col < width:
                    values[c.col] = _python_value(c, strings, styles, date1904)
            data.append(values)
            expected = number + 1
        frame = pd.DataFrame(data, columns=pd.Index(columns, dtype=object)).infer_objects()
        set_schema(table, frame, level, sample_rows)
    return table


def _merge_touches_row(ref: str, row: int) -> bool:
    cells = [_CELL_REF.match(part) for part in ref.split(":")]
    numbers = [int(m.group(2)) for m in cells if m]
    return bool(numbers) and min(numbers) <= row <= max(numbers)


# --- .xls --------------------------------------------------------------------------------


def inspect_xls(path: str, name: str, level: ContextLevel = "headers", sample_rows: int = 5) -> WorkbookInfo:
    """An Excel 97-2003 workbook, read whole with python-calamine (at most 65,536 rows a sheet)."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if head.startswith(b"PK\x03\x04"):
        info = inspect_xlsx(path, name, level, sample_rows)
        info.notes.insert(0, "saved in the .xlsx format despite its .xls name; read it with engine='openpyxl'")
        return info
    if not head.startswith(OLE_MAGIC):
        lowered = head[:2048].lstrip().lower()
        if lowered.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")):
            raise UnreadableFile(name, "it is an HTML/XML table saved with an .xls name, not an Excel workbook; "
                                 "open it in Excel and save as .xlsx, or read it with pandas.read_html.")
        what = describe_binary(head)
        raise UnreadableFile(name, f"it is {what or 'not an Excel 97-2003 workbook'}"
                             + (", not an Excel workbook." if what else " (no OLE header)."))
    if is_encrypted_ole(head):
        raise UnreadableFile(name, "the workbook is password-protected (encrypted). Open it in Excel, remove "
                             "the password and save it again.")
    from python_calamine import CalamineWorkbook

    try:
        with open(path, "rb") as f:  # by content: from_path goes by the extension (an .xlsx name fails)
            book = CalamineWorkbook.from_filelike(f)
        names = list(book.sheet_names)
        tables = []
        for sheet_name in names:
            rows = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            tables.append(_table_from_values(sheet_name, rows, level, sample_rows))
    except UnreadableFile:
        raise
    except Exception as err:  # noqa: BLE001 - calamine raises its own error types
        text = str(err)
        if "password" in text.lower() or "encrypt" in text.lower():
            raise UnreadableFile(name, "the workbook is password-protected (encrypted). Open it in Excel, "
                                 "remove the password and save it again.") from None
        raise UnreadableFile(name, f"the workbook is damaged or not an Excel file ({text[:200]}).") from None
    return WorkbookInfo(names, tables)


def _table_from_values(sheet_name: str, rows: list[list[Any]], level: ContextLevel, sample_rows: int) -> TableSummary:
    def empty(v: Any) -> bool:
        return v is None or v == ""

    last = max((i for i, row in enumerate(rows) if any(not empty(v) for v in row)), default=-1)
    if last < 0:
        return TableSummary(name=sheet_name, columns=[], column_count=0, row_count=0,
                            notes=["empty sheet: no cells with values"])
    header = pick_header([
        (sum(1 for v in row if not empty(v)), all(isinstance(v, str) for v in row if not empty(v)))
        for row in rows[:HEADER_SEARCH_ROWS]
    ])
    width = 1 + max(max((j for j, v in enumerate(row) if not empty(v)), default=0) for row in rows[: last + 1])
    raw = [_name_text(v) if not empty(v) else "" for v in (rows[header] + [None] * width)[:width]]
    columns, notes = pandas_names(raw)
    count = last - header
    if header and any(not empty(v) for row in rows[:header] for v in row):
        notes.append(f"rows 1-{header} hold a title above the table: the header is row {header + 1}; "
                     f"read it with header={header}")
    elif header:
        notes.append(f"rows 1-{header} are empty: the table starts at row {header + 1}; read it with header={header}")
    if count == 0:
        notes.append("header only: the sheet has no data rows")
    table = TableSummary(name=sheet_name, columns=columns, column_count=len(columns), row_count=count,
                         header_row=header + 1, notes=notes)
    if level != "headers":
        import pandas as pd

        body = [[None if empty(v) else v for v in (row + [None] * width)[:width]] for row in rows[header + 1 : last + 1]]
        frame = pd.DataFrame(body[:EXCEL_SCHEMA_ROWS], columns=pd.Index(columns, dtype=object)).infer_objects()
        set_schema(table, frame, level, sample_rows)
    return table

