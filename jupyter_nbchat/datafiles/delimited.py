"""Delimited text (CSV, TSV, semicolon, pipe): header, exact row count, schema and sample.

The row count is exact without parsing fields. Rows end at newlines outside double quotes,
and whether a newline is inside quotes is the parity of the quote bytes before it (RFC 4180:
an escaped quote "" flips twice). NumPy turns the text into bit masks, one bit per byte
(newlines, quotes, delimiters; compared in L2-sized pieces), and a prefix XOR within each
64-bit word plus a carry across words gives "inside quotes". Each block is counted under both
states it may start in, so blocks are independent: large files are split into ranges scanned
by the worker processes over populated memory maps (tasks.py), and a short sequential pass
stitches the blocks together. Blank lines, which pandas skips, come from the same masks.

Parity is right exactly when every quote opens or closes a field the way the csv module and
pandas read it: a quote that opens a field follows a delimiter, a line end or another quote.
The masks check that too; a file with a stray quote (`5" pipe`), or one ending inside quotes,
is counted with Python's csv module instead (exact, slower). So is a file holding a line end
the masks do not count (a lone CR in an LF file, an LF in a CR file) or a line of only spaces
and tabs, both of which pandas reads otherwise (`_odd_lines`). UTF-16/32 files are counted
with the csv module directly.
"""

from __future__ import annotations

import csv
import io
import mmap
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .detect import (
    Dialect,
    Encoding,
    HEAD_BYTES,
    decode_head,
    detect_encoding,
    read_head,
    sniff_dialect,
)
from . import tasks
from .errors import UnreadableFile
from .models import ColumnSchema, ContextLevel, TableSummary
from .text import quote as _quote

csv.field_size_limit(2**31 - 1)  # a header cell may be long; the default 128 KiB raises

MAX_HEAD_BYTES = 64 << 20


@dataclass
class DelimitedInfo:
    encoding: str
    delimiter: str
    table: TableSummary
    notes: list[str] = field(default_factory=list)


SUB = 384 << 10  # bytes compared at a time: they stay in the L2 cache between comparisons
BLOCK = 2 << 20  # bytes whose bit masks are combined at once (fewer, larger numpy calls)
TASK = 16 << 20  # bytes per worker task
MAP_WINDOW = 8 << 20  # bytes mapped at a time (a multiple of BLOCK)
PARALLEL_MIN_BYTES = 64 << 20  # smaller files are scanned inline
QUOTE, LF, CR = 0x22, 0x0A, 0x0D


@dataclass
class _Chunk:
    """Counts for SUB bytes under both states at their start (index 0: outside quotes)."""

    rows: tuple[int, int]  # newlines ending a row
    blank: tuple[int, int]  # of those, the ends of blank lines
    stray: tuple[bool, bool]  # a quote opens a field where the csv module reads a character
    flips: int  # parity of the quotes in the chunk
    head: bytes  # first two bytes
    tail: bytes  # last two bytes
    odd: tuple[bool, bool] = (False, False)  # a line end or line pandas reads otherwise (see _odd_lines)
    head_ws: int = 0  # the first (partial) line: 0 not only spaces/tabs, 1 empty, 2 spaces/tabs
    tail_ws: int = 0  # the same for the last (partial) line


@dataclass
class Count:
    records: int  # non-blank records, header included
    multiline: int  # newlines inside quoted fields
    exact_by: str  # "scan" or "csv module"


_SHIFTS = tuple(np.uint64(s) for s in (1, 2, 4, 8, 16, 32))
_U1, _U63 = np.uint64(1), np.uint64(63)
_local = threading.local()

class _Scratch:
    """Per-thread buffers, allocated once: scanning allocates (almost) nothing."""

    def __init__(self) -> None:
        self.shape = (SUB, BLOCK)
        self.buf = bytearray(BLOCK + 64)
        self.view = memoryview(self.buf)
        self.bytes = np.frombuffer(self.buf, np.uint8)
        self.eq = np.empty(SUB, np.bool_)
        words = (BLOCK + 63) // 64
        self.n, self.q, self.d, self.r, self.d2, self.ins, self.t1, self.t2, self.t3, self.t4 = (
            np.zeros(words, np.uint64) for _ in range(10)
        )
        self.counts, self.counts2 = np.zeros(words, np.uint8), np.zeros(words, np.uint8)
        self.flags = np.zeros(words, np.bool_)


def _scratch() -> _Scratch:
    scratch = getattr(_local, "scratch", None)
    if scratch is None or scratch.shape != (SUB, BLOCK):
        scratch = _local.scratch = _Scratch()
    return scratch


def _pack(a: np.ndarray, byte: int, eq: np.ndarray, out: np.ndarray) -> None:
    """`out` = one bit per byte of `a` where a == byte (little-endian within 64-bit words),
    SUB bytes at a time so that the bytes stay in the L2 cache between comparisons."""
    for start in range(0, a.size, SUB):
        piece = a[start : start + SUB]
        np.equal(piece, byte, out=eq[: piece.size])
        out[start // 64 : (start + piece.size) // 64] = np.packbits(eq[: piece.size], bitorder="little").view("<u8")


def _pack3(a: np.ndarray, bytes3: tuple[int, int, int], eq: np.ndarray, outs: tuple[np.ndarray, ...]) -> None:
    """Three masks at once, piece by piece (each piece is compared three times while hot)."""
    for start in range(0, a.size, SUB):
        piece = a[start : start + SUB]
        lo, hi = start // 64, (start + piece.size) // 64
        for byte, out in zip(bytes3, outs):
            np.equal(piece, byte, out=eq[: piece.size])
            out[lo:hi] = np.packbits(eq[: piece.size], bitorder="little").view("<u8")


def _later(words: np.ndarray, by: int, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """Bit i set where bit i-`by` was set (across words; nothing moves in at the start)."""
    np.left_shift(words, np.uint64(by), out=out)
    np.right_shift(words[:-1], np.uint64(64 - by), out=tmp[1:])
    out[1:] |= tmp[1:]
    return out


def _popcount(words: np.ndarray, counts: np.ndarray) -> int:
    np.bitwise_count(words, out=counts)
    return int(counts.sum(dtype=np.int64))


def _earlier(words: np.ndarray, by: int, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """Bit i set where bit i+`by` was set (across words; nothing moves in at the end)."""
    np.right_shift(words, np.uint64(by), out=out)
    np.left_shift(words[1:], np.uint64(64 - by), out=tmp[:-1])
    out[:-1] |= tmp[:-1]
    return out


def _add_carrying(x: np.ndarray, y: np.ndarray, out: np.ndarray, flags: np.ndarray) -> None:
    """out = x + y as one little-endian integer of len(x) words (the last carry is dropped)."""
    np.add(x, y, out=out)
    np.less(out, x, out=flags)
    at = np.flatnonzero(flags[:-1]) + 1
    while at.size:  # carries into the next word; again where that word was all ones
        out[at] += np.uint64(1)
        at = at[out[at] == 0] + 1
        at = at[at < out.size]


def _ws_kind(line: bytes, ws: bytes) -> int:
    """0: holds more than spaces/tabs, 1: empty (or a lone CR), 2: only spaces/tabs."""
    body = line[:-1] if line.endswith(b"\r") else line
    if not body:
        return 1
    return 2 if not body.translate(None, ws) else 0


def _chunk_stats(sc: _Scratch, a: np.ndarray, got: int, newline: int, delimiter: int,
                 other: bool = False) -> _Chunk:
    """Counts for the first `got` bytes of `a` (at most BLOCK, zero-padded to a multiple of 64).

    The bytes are compared in cache-sized pieces; the bit masks of the whole block are then
    combined with a few dozen numpy calls on arrays 1/64 the size of the text.
    """
    w = a.size // 64
    n, q, edge = sc.n[:w], sc.q[:w], sc.d[:w]
    _pack3(a, (newline, QUOTE, delimiter), sc.eq, (n, q, edge))
    ins, t1, t2, t3, c1, c2 = sc.ins[:w], sc.t1[:w], sc.t2[:w], sc.t3[:w], sc.counts[:w], sc.counts2[:w]
    # Inside quotes, for a chunk starting outside: prefix XOR of the quote bits within each
    # word (bit 63 is then the word's parity), flipped in words after an odd number of quotes.
    np.copyto(ins, q)
    for s in _SHIFTS:
        np.left_shift(ins, s, out=t1)
        ins ^= t1
    t1[0] = 0
    np.right_shift(ins[:-1], _U63, out=t1[1:])
    np.bitwise_xor.accumulate(t1, out=t1)
    flips = int(t1[-1] ^ (ins[-1] >> _U63))
    np.negative(t1, out=t1)
    ins ^= t1
    np.bitwise_count(n, out=c1)
    total = int(c1.sum(dtype=np.int64))
    np.bitwise_and(n, ins, out=t1)
    in_rows = _popcount(t1, c2) if t1.any() else 0
    # Blank lines end in a newline one byte (LF LF) or two (LF CR LF) after another: look
    # closer, with a CR mask, only where two newlines share a word or meet across words.
    blank_total = blank_in = 0
    cr_packed = False
    np.greater(c1, 1, out=sc.flags[:w])
    near = bool(sc.flags[:w].any())
    if not near and w > 1:
        np.right_shift(n[:-1], np.uint64(62), out=t2[:-1])
        np.bitwise_and(n[1:], np.uint64(3), out=t3[:-1])
        np.minimum(t2[:-1], t3[:-1], out=t2[:-1])
        near = bool(t2[:-1].any())
    if near:  # a word with two newlines, or two across a word boundary: are they that close?
        t4 = sc.t4[:w]
        after1 = _later(n, 1, t2, t4)
        after2 = _later(n, 2, t3, t4)
        np.bitwise_or(after1, after2, out=t4)
        t4 &= n
        near = bool(t4.any())
    if near:
        t4 = sc.t4[:w]
        if newline == LF:
            r = sc.r[:w]
            _pack(a, CR, sc.eq, r)
            cr_packed = True
            after2 &= _later(r, 1, sc.d2[:w], t4)  # LF CR LF
            after1 |= after2
        after1 &= n
        blank_total = _popcount(after1, c2)
        after1 &= ins
        blank_in = _popcount(after1, c2)
    stray = (False, False)
    if flips or q.any():
        # An opening quote must follow a delimiter, a line end or a quote (a "" escape);
        # otherwise the csv module and pandas read it as a character, not as a quote.
        edge |= n
        edge |= q
        bad = _later(edge, 1, t2, t3)
        bad[0] |= _U1  # the first byte's neighbour is checked when stitching
        np.invert(bad, out=bad)
        bad &= q  # quotes after some other character
        np.bitwise_and(bad, ins, out=t3)
        bad ^= t3
        stray = (bool(t3.any()), bool(bad.any()))
    out_rows = total - in_rows
    odd, head_ws, tail_ws = _odd_lines(sc, a, got, w, newline, delimiter, other, total, cr_packed)
    return _Chunk(
        (out_rows, in_rows),
        (blank_total - blank_in, blank_in),
        stray,
        flips,
        a[: min(2, got)].tobytes(),
        a[max(0, got - 2) : got].tobytes(),
        odd,
        head_ws,
        tail_ws,
    )


def _odd_lines(sc: _Scratch, a: np.ndarray, got: int, w: int, newline: int, delimiter: int, other: bool,
               total: int, cr_packed: bool = False) -> tuple[tuple[bool, bool], int, int]:
    """What pandas reads otherwise than the masks count (`odd`, by the state the block starts
    in), and whether its first and last partial lines hold only spaces and tabs.

    pandas ends a line at LF, CR LF and a lone CR alike, and skips lines holding only spaces
    and tabs (not the delimiter). The count here ends lines at `newline` only: a lone CR in a
    LF file (an LF in a CR file) outside quotes, or a whitespace-only line anywhere, sends the
    file to the exact count (`_count_with_csv`). Both checks cost little where they cannot
    apply: the other line-end byte is looked for with memchr (`other`), and whitespace is
    looked at only in blocks holding a line without any delimiter (the carry of an addition
    runs from each line start through the bytes that are neither delimiter nor line end)."""
    n, ins, t1, t2, t3, t4 = sc.n[:w], sc.ins[:w], sc.t1[:w], sc.t2[:w], sc.t3[:w], sc.t4[:w]
    ws_bytes = bytes(b for b in (0x20, 0x09) if b != delimiter)
    odd = (False, False)
    cr = None
    if other and newline == LF:  # CR bytes: each must be followed by LF
        cr = sc.r[:w]
        if not cr_packed:
            _pack(a, CR, sc.eq, cr)
        nxt = _earlier(n, 1, t1, t2)
        np.invert(nxt, out=t3)
        t3 &= cr
        if got % 64:  # the last byte's neighbour is in the next block (checked when stitching)
            t3[(got - 1) // 64] &= ~np.uint64(1 << ((got - 1) % 64))
        else:
            t3[-1] &= ~np.uint64(1 << 63)
        np.bitwise_and(t3, ins, out=t4)
        odd = (bool(np.bitwise_xor(t3, t4, out=t3).any()), bool(t4.any()))
    elif other:  # an LF in a file whose lines end in CR
        odd = (True, True)
    # first and last partial lines (bytes up to the first line end, after the last one)
    raw = a[:got]
    if total:
        first, last = _first_set(n), _last_set(n)
        head_ws = _ws_kind(raw[:first].tobytes(), ws_bytes)
        tail_ws = _ws_kind(raw[last + 1 :].tobytes(), ws_bytes)
    else:
        head_ws = tail_ws = _ws_kind(raw.tobytes(), ws_bytes)
    if total < 2 or odd == (True, True):
        return odd, head_ws, tail_ws
    # Lines inside the block with no delimiter byte: a run of such bytes from a line start
    # (the bit after a line end) carries into the next line end.
    d = sc.d[:w]  # the delimiter mask, or'ed with n and the quotes by the quote checks: fine here
    starts = _later(n, 1, sc.d2[:w], t4)
    plain = t2
    np.bitwise_or(d, n, out=plain)
    np.invert(plain, out=plain)
    _mask_tail(plain, got)
    starts &= plain  # lines starting with a plain byte (not empty, not a delimiter or quote)
    _add_carrying(plain, starts, t3, sc.flags[:w])
    t3 &= n
    if not t3.any():
        return odd, head_ws, tail_ws
    # Then the exact test: a run of spaces/tabs from a line start up to a line end (or CR LF).
    space = t2
    _pack(a, ws_bytes[0], sc.eq, space)
    if len(ws_bytes) > 1:
        _pack(a, ws_bytes[1], sc.eq, d)
        space |= d
    starts &= space  # lines starting with a space or tab
    _add_carrying(space, starts, t3, sc.flags[:w])
    np.invert(space, out=t1)
    t3 &= t1  # where a run of spaces/tabs from a line start ends
    ends = n if cr is None else (n | (cr & _earlier(n, 1, t1, t4)))
    t3 &= ends
    if t3.any():
        return (True, True), head_ws, tail_ws
    return odd, head_ws, tail_ws


def _first_set(words: np.ndarray) -> int:
    """Index of the lowest set bit (some bit is set), looking at the first words first."""
    nz = np.flatnonzero(words[:64])
    i = int(nz[0]) if nz.size else int(np.flatnonzero(words)[0])
    x = int(words[i])
    return i * 64 + (x & -x).bit_length() - 1


def _last_set(words: np.ndarray) -> int:
    """Index of the highest set bit (some bit is set), looking at the last words first."""
    tail = words[-64:]
    nz = np.flatnonzero(tail)
    i = int(nz[-1]) + words.size - tail.size if nz.size else int(np.flatnonzero(words)[-1])
    return i * 64 + int(words[i]).bit_length() - 1


def _mask_tail(words: np.ndarray, got: int) -> None:
    """Clear the bits at and after byte `got` (the zero padding)."""
    full = got // 64
    if full < words.size:
        words[full] &= np.uint64((1 << (got % 64)) - 1)
        words[full + 1 :] = 0


def _scan_mapped(path: str, offset: int, length: int, newline: int, delimiter: int) -> list[_Chunk]:
    """Counts for each BLOCK of `length` bytes at `offset`, read through memory maps.

    Each window of MAP_WINDOW bytes is mapped with MAP_POPULATE, which maps all its pages in
    one call: the bytes are neither copied out of the page cache nor faulted in page by page,
    and the worker's resident memory grows by one window only. A file truncated while mapped
    raises SIGBUS: this runs in worker processes only (tasks.py).
    """
    sc = _scratch()
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    chunks = []
    with open(path, "rb") as f:
        for window in range(offset, offset + length, MAP_WINDOW):
            size = min(MAP_WINDOW, offset + length - window)
            base = window - window % mmap.ALLOCATIONGRANULARITY
            with mmap.mmap(f.fileno(), size + window - base, flags=flags, prot=mmap.PROT_READ, offset=base) as mapped:
                data = np.frombuffer(mapped, np.uint8, count=size, offset=window - base)
                piece = data
                try:
                    for start in range(0, size, BLOCK):
                        piece = data[start : start + BLOCK]
                        got = piece.size
                        if got % 64:
                            padded = (got + 63) // 64 * 64
                            sc.bytes[:got] = piece
                            sc.bytes[got:padded] = 0
                            piece = sc.bytes[:padded]
                        at = window - base + start
                        other = mapped.find(b"\r" if newline == LF else b"\n", at, at + got) >= 0
                        chunks.append(_chunk_stats(sc, piece, got, newline, delimiter, other))
                finally:
                    del data, piece  # no view may outlive the map
    return chunks


def _scan_read(path: str, offset: int, length: int, newline: int, delimiter: int) -> list[_Chunk]:
    """The same counts, reading with pread (safe in any process)."""
    sc = _scratch()
    chunks = []
    done = 0
    with open(path, "rb", buffering=0) as f:
        fd = f.fileno()
        while done < length:
            want = min(BLOCK, length - done)
            got = 0
            while got < want:
                n = os.preadv(fd, [sc.view[got:want]], offset + done + got)
                if n == 0:
                    break
                got += n
            if got == 0:
                break
            padded = (got + 63) // 64 * 64
            sc.bytes[got:padded] = 0
            other = sc.buf.find(b"\r" if newline == LF else b"\n", 0, got) >= 0
            chunks.append(_chunk_stats(sc, sc.bytes[:padded], got, newline, delimiter, other))
            done += got
            if got < want:
                break
    return chunks


def count_records(path: str, start: int, enc: Encoding, delimiter: str, newline: int = LF) -> Count:
    """Exact number of non-blank records from byte `start` (after any BOM) to the end."""
    size = os.path.getsize(path)
    if size <= start:
        return Count(0, 0, "scan")
    delim = ord(delimiter)
    ranges = [(path, off, min(TASK, size - off), newline, delim) for off in range(start, size, TASK)]
    if tasks.in_processes() and size - start >= PARALLEL_MIN_BYTES:
        results = tasks.pmap(_scan_mapped, ranges)
    else:
        results = [_scan_read(*r) for r in ranges]
    chunks = [chunk for task in results for chunk in task]
    edges = {delim, LF, CR, QUOTE}
    records = blanks = multiline = 0
    inside = 0
    prev = bytes([newline, newline])  # the start of the file counts as after a line end
    prev_ws = 1  # the (empty) line before the file's first byte
    for chunk in chunks:
        records += chunk.rows[inside]
        blanks += chunk.blank[inside]
        multiline += chunk.rows[1 - inside]
        if chunk.stray[inside] or _stray_at_boundary(prev, chunk.head, inside, edges):
            return Count(_count_with_csv(path, enc, delimiter), multiline, "csv module")
        lone_cr = newline == LF and prev[-1] == CR and chunk.head[:1] != b"\n" and not inside
        if chunk.odd[inside] or lone_cr or (prev_ws and chunk.head_ws and 2 in (prev_ws, chunk.head_ws)):
            # a line end or a whitespace-only line pandas reads otherwise: count as pandas does
            return Count(_count_with_csv(path, enc, delimiter), multiline, "csv module")
        prev_ws = chunk.tail_ws
        if not inside:
            blanks += _blank_at_boundary(prev, chunk.head, newline)
        inside ^= chunk.flips
        prev = (prev + chunk.tail)[-2:]
    if inside or prev_ws == 2 or (newline == LF and prev[-1] == CR):
        # the file ends inside quotes (not RFC 4180), or in a line of spaces, or a lone CR
        return Count(_count_with_csv(path, enc, delimiter), multiline, "csv module")
    if prev[-1] != newline:
        records += 1  # the last line has no line end
    return Count(records - blanks, multiline, "scan")


def _stray_at_boundary(prev: bytes, head: bytes, inside: int, edges: set[int]) -> bool:
    """The quote checks a chunk cannot make alone: its first byte, the previous one's last."""
    if not head:
        return False
    if head[0] == QUOTE and not inside and prev[-1] not in edges:
        return True  # opens a field in the middle of one
    return prev[-1] == QUOTE and not inside and head[0] not in edges  # closed, then text follows


def _blank_at_boundary(prev: bytes, head: bytes, newline: int) -> int:
    """Blank lines a chunk's own masks cannot see: those ending in its first two bytes."""
    if not head:
        return 0
    p1, p2 = prev[-1], prev[-2]
    crlf = newline == LF
    if head[0] == newline and (p1 == newline or (crlf and p1 == CR and p2 == newline)):
        return 1
    if crlf and len(head) > 1 and head[0] == CR and head[1] == newline and p1 == newline:
        return 1
    return 0


def _count_with_csv(path: str, enc: Encoding, delimiter: str) -> int:
    """Exact, slow (about 50 MB/s): Python's csv module over the decoded file.

    Like pandas, lines end at LF, CR LF or CR, and blank lines and lines holding only spaces
    and tabs are skipped (a quoted "  " alone on a line is counted by pandas, not here)."""
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=enc.codec, errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter, quotechar='"', strict=False)
        return sum(1 for row in reader if row and not (len(row) == 1 and row[0] and not row[0].strip(" \t")))


# --- names ---------------------------------------------------------------------------------


def pandas_names(header: Sequence[str]) -> tuple[list[str], list[str]]:
    """Column names as pandas reads them, and notes: blank -> 'Unnamed: i'; repeats get '.1',
    '.2' … skipping names the header already has, named columns before unnamed ones (the
    rule of pandas' TextReader, which read_csv and read_excel share)."""
    names = [h if h != "" else f"Unnamed: {i}" for i, h in enumerate(header)]
    blank = [i for i, h in enumerate(header) if h == ""]
    present = set(names)
    counts: dict[str, int] = {}
    blank_set = set(blank)
    for i in [i for i in range(len(names)) if i not in blank_set] + blank:
        col = old = names[i]
        current = counts.get(col, 0)
        while current > 0:
            counts[old] = current + 1
            col = f"{old}.{current}"
            current = current + 1 if col in present else counts.get(col, 0)
        names[i] = col
        counts[col] = current + 1
    notes = []
    if blank:
        shown = ", ".join(str(i + 1) for i in blank[:10]) + (" …" if len(blank) > 10 else "")
        notes.append(f"{len(blank)} column(s) have no name (position {shown}); pandas calls them 'Unnamed: <i>'")
    dupes = _dupes(header)
    if dupes:
        shown = ", ".join(_quote(d) for d in dupes[:10]) + (" …" if len(dupes) > 10 else "")
        notes.append(f"duplicate column names {shown}: pandas renames the repeats 'name.1', 'name.2' …")
    return names, notes


def _dupes(header: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dupes: set[str] = set()
    for h in header:
        if h != "" and h in seen:
            dupes.add(h)
        seen.add(h)
    return sorted(dupes)


# --- the whole file ------------------------------------------------------------------------


def inspect_delimited(
    path: str, name: str, level: ContextLevel = "headers", sample_rows: int = 5, schema_rows: int = 100_000,
    require_delimiter: bool = False,
) -> DelimitedInfo | None:
    """Summary of a delimited text file; None when `require_delimiter` and it has no columns."""
    size = os.path.getsize(path)
    if size == 0:
        raise UnreadableFile(name, "the file is empty (0 bytes).")
    head_size = HEAD_BYTES
    while True:
        head = read_head(path, head_size)
        complete = len(head) == size
        enc = detect_encoding(head, name)
        text = decode_head(head, enc, complete)
        if not text.strip(" \t\r\n\ufeff"):
            if complete:
                raise UnreadableFile(name, "the file has no header and no data (only blank lines).")
        dialect = sniff_dialect(text.lstrip("\ufeff"), name, complete)
        if complete or len(dialect.records) >= 2 or head_size >= MAX_HEAD_BYTES:
            break
        head_size *= 4
    if not dialect.records:
        raise UnreadableFile(name, "no header line was found in the first 64 MB.")
    if require_delimiter and len(dialect.records[0]) < 2:
        return None
    header = dialect.records[0]
    columns, notes = pandas_names(header)
    notes = list(notes)
    file_notes = list(enc.notes)
    newline = _newline_of(text)
    if enc.ascii_compatible:
        count = count_records(path, enc.bom if enc.codec == "utf-8-sig" else 0, enc, dialect.delimiter, newline)
    else:
        count = Count(_count_with_csv(path, enc, dialect.delimiter), 0, "csv module")
    rows = max(0, count.records - 1)
    if rows == 0:
        notes.append("header only: the file has no data rows")
    if count.multiline:
        notes.append(f"some quoted fields contain line breaks ({count.multiline} of them); "
                     "each such row still counts once")
    notes.extend(_ragged_notes(dialect, len(header)))
    if dialect.delimiter != ",":
        file_notes.append(f"fields are separated by {_delimiter_name(dialect.delimiter)}: read with sep={dialect.delimiter!r}")
    if dialect.decimal_comma:
        file_notes.append("numbers use a decimal comma: read with decimal=','")
    table = TableSummary(
        columns=columns[:20_000],
        column_count=len(columns),
        row_count=rows,
        header_row=dialect.line_numbers[0],
        notes=notes,
    )
    if level in ("schema", "sample"):
        schema = tasks.call(_schema, path, enc.codec, dialect.delimiter, dialect.decimal_comma, level,
                            sample_rows, schema_rows)
        table = table.model_copy(update={**schema, "notes": table.notes + schema.get("notes", [])})
    return DelimitedInfo(encoding=enc.codec, delimiter=dialect.delimiter, table=table, notes=file_notes)


def _newline_of(text: str) -> int:
    if "\n" in text or "\r" not in text:
        return LF
    return CR  # classic Mac line ends


def _delimiter_name(delimiter: str) -> str:
    return {";": "semicolons", "\t": "tabs", "|": "pipes", ",": "commas"}.get(delimiter, repr(delimiter))


def _ragged_notes(dialect: Dialect, width: int) -> list[str]:
    for record, line in zip(dialect.records[1:], dialect.line_numbers[1:]):
        if len(record) != width:
            more = len(record) > width
            return [
                f"rows have different numbers of fields: line {line} has {len(record)}, the header {width} "
                f"(seen in the first {len(dialect.records)} rows). "
                + ("pandas raises 'Error tokenizing data' on longer rows unless on_bad_lines='warn' or 'skip'"
                   if more else "pandas fills the missing fields with NaN")
            ]
    return []


def _schema(path: str, codec: str, delimiter: str, decimal_comma: bool, level: ContextLevel,
            sample_rows: int, schema_rows: int) -> dict:
    """dtypes, nulls (and the first rows) as pandas reads the first `schema_rows` rows (a task)."""
    import pandas as pd

    kwargs = dict(sep=delimiter, encoding=codec, nrows=schema_rows, low_memory=False)
    if decimal_comma:
        kwargs["decimal"] = ","
    table = TableSummary(columns=[], column_count=0, row_count=0)
    try:
        try:
            frame = pd.read_csv(path, **kwargs)
        except UnicodeDecodeError:  # a bad byte the head did not show (summary.settle_encoding)
            frame = pd.read_csv(path, encoding_errors="replace", **kwargs)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        try:
            frame = pd.read_csv(path, on_bad_lines="skip", encoding_errors="replace", **kwargs)
            table.notes.append("dtypes and nulls were computed skipping malformed rows")
        except Exception as err:  # noqa: BLE001 - the headers are still good
            return {"notes": [f"dtypes could not be computed: {type(err).__name__}"]}
    set_schema(table, frame, level, sample_rows)
    return {"column_schema": table.column_schema, "schema_rows": table.schema_rows, "sample": table.sample,
            "notes": table.notes}


def set_schema(table: TableSummary, frame, level: ContextLevel, sample_rows: int) -> None:
    """Fill dtypes, null counts and (sample level) the first rows from a pandas DataFrame."""
    nulls = frame.isna().sum()
    table.schema_rows = len(frame)
    table.column_schema = [
        ColumnSchema(name=str(col), dtype=str(frame[col].dtype) if not _dup(frame, col) else "mixed",
                     nulls=int(nulls.iloc[i]))
        for i, col in enumerate(frame.columns[:20_000])
    ]
    if level == "sample":
        head = frame.head(max(0, sample_rows))
        table.sample = [[_cell(v) for v in row] for row in head.itertuples(index=False, name=None)]


def _dup(frame, col) -> bool:
    return isinstance(frame[col], type(frame))


def _cell(value, limit: int = 200) -> str | None:
    import pandas as pd

    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= limit else text[:limit] + "…"

