"""JSON (an array of records) and JSON Lines: record count, keys, schema and sample.

The file is decoded as a stream and each record is parsed on its own with the json module's C
scanner (`raw_decode`), then dropped: memory stays at the read buffer and the keys seen.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .delimited import set_schema
from .detect import detect_encoding, read_head
from .errors import UnreadableFile
from .models import ContextLevel, TableSummary
from .text import quote as _quote

READ = 1 << 20
MAX_KEYS = 20_000
JSON_SCHEMA_RECORDS = 10_000  # records kept for dtypes and nulls (each is a Python dict)
_WS = " \t\r\n"
_decoder = json.JSONDecoder()


@dataclass
class JsonInfo:
    type: str  # json or jsonl; "other" when it holds no table
    encoding: str
    table: TableSummary | None
    notes: list[str] = field(default_factory=list)


class _Records:
    """Counts records, gathers their keys in order of first appearance, keeps the first few."""

    def __init__(self, keep: int) -> None:
        self.count = 0
        self.keys: dict[str, int] = {}  # key -> records having it
        self.non_objects = 0
        self.nested: set[str] = set()
        self.kept: list[Any] = []
        self.keep = keep

    def add(self, record: Any) -> None:
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(record)
        if isinstance(record, dict):
            for key, value in record.items():
                if key in self.keys:
                    self.keys[key] += 1
                elif len(self.keys) < MAX_KEYS:
                    self.keys[key] = 1
                if isinstance(value, (dict, list)) and len(self.nested) < 50:
                    self.nested.add(key)
        else:
            self.non_objects += 1


def _text_chunks(path: str, codec: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    with open(path, "rb") as f:
        while True:
            data = f.read(READ)
            text = decoder.decode(data, final=not data)
            if text:
                yield text
            if not data:
                return


def inspect_json(path: str, name: str, level: ContextLevel = "headers", sample_rows: int = 5,
                 schema_rows: int = 100_000, lines: bool | None = None) -> JsonInfo:
    if os.path.getsize(path) == 0:
        raise UnreadableFile(name, "the file is empty (0 bytes).")
    head = read_head(path, 1 << 16)
    enc = detect_encoding(head, name)
    codec = enc.codec
    keep = min(schema_rows, JSON_SCHEMA_RECORDS) if level != "headers" else 0
    records = _Records(keep)
    try:
        first = _first_char(path, codec)
        if first is None:
            raise UnreadableFile(name, "the file holds only white space.")
        if lines is None:
            lines = first == "{" and _looks_like_lines(path, codec)
        if lines:
            _read_lines(path, codec, records, name)
            kind = "jsonl"
        elif first == "[":
            _read_array(path, codec, records, name)
            kind = "json"
        else:
            return _not_a_table(path, codec, name, enc.codec, first)
    except UnicodeDecodeError:
        raise UnreadableFile(name, f"it is not valid {codec} text (JSON must be UTF-8).") from None
    columns = list(records.keys) if records.keys else (["0"] if records.non_objects else [])
    notes = []
    if records.non_objects and records.keys:
        notes.append(f"{records.non_objects} of {records.count} records are not objects")
    elif records.non_objects:
        notes.append("the records are plain values, not objects: pandas reads them as one column named 0")
    missing = [k for k, n in records.keys.items() if n < records.count - records.non_objects]
    if missing:
        shown = ", ".join(_quote(k) for k in missing[:10]) + (" …" if len(missing) > 10 else "")
        notes.append(f"{len(missing)} key(s) are missing from some records ({shown}): pandas fills them with NaN")
    if records.nested:
        shown = ", ".join(_quote(k) for k in sorted(records.nested)[:10])
        notes.append(f"nested objects or lists under {shown}: pandas.json_normalize flattens them")
    if len(records.keys) >= MAX_KEYS:
        notes.append(f"only the first {MAX_KEYS} distinct keys were collected")
    if records.count == 0:
        notes.append("no records: the array is empty")
    table = TableSummary(columns=columns, column_count=len(columns), row_count=records.count,
                         header_row=None, notes=notes)
    if level != "headers" and records.kept:
        import pandas as pd

        frame = pd.DataFrame.from_records(records.kept) if records.keys else pd.DataFrame(records.kept)
        frame.columns = [str(c) for c in frame.columns]
        set_schema(table, frame, level, sample_rows)
    return JsonInfo(kind, codec, table, list(enc.notes))


def _first_char(path: str, codec: str) -> str | None:
    for text in _text_chunks(path, codec):
        stripped = text.lstrip(_WS + "\ufeff")
        if stripped:
            return stripped[0]
    return None


def _looks_like_lines(path: str, codec: str) -> bool:
    """A '{' file is JSON Lines if its first line is a whole JSON value followed by another line."""
    text = next(_text_chunks(path, codec), "").lstrip(_WS + "\ufeff")
    line, newline, rest = text.partition("\n")
    try:
        _decoder.raw_decode(line.strip())
    except json.JSONDecodeError:
        return False
    value, end = _decoder.raw_decode(line.strip())
    return end == len(line.strip()) and bool(newline) and rest.strip() != ""


def _read_lines(path: str, codec: str, records: _Records, name: str) -> None:
    pending = ""
    number = 0
    for text in _text_chunks(path, codec):
        pending += text
        *complete, pending = pending.split("\n")
        for line in complete:
            number += 1
            _add_line(line, number, records, name)
    if pending.strip():
        _add_line(pending, number + 1, records, name)


def _add_line(line: str, number: int, records: _Records, name: str) -> None:
    line = line.strip(_WS + "\ufeff")
    if not line:
        return
    try:
        value, end = _decoder.raw_decode(line)
    except json.JSONDecodeError as err:
        raise UnreadableFile(name, f"line {number} is not valid JSON ({err.msg}).") from None
    if end != len(line):
        raise UnreadableFile(name, f"line {number} holds more than one JSON value.")
    records.add(value)


def _read_array(path: str, codec: str, records: _Records, name: str) -> None:
    chunks = _text_chunks(path, codec)
    buf = ""
    pos = 0
    eof = False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        try:
            text = next(chunks)
        except StopIteration:
            eof = True
            return False
        buf = buf[pos:] + text
        pos = 0
        return True

    def skip_ws() -> str | None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in _WS + "\ufeff":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not more():
                return None

    skip_ws()
    pos += 1  # the '['
    expect_value = True
    first = True
    while True:
        ch = skip_ws()
        if ch is None:
            raise UnreadableFile(name, "the JSON array is cut off (no closing ']').")
        if ch == "]" and (first or not expect_value):
            pos += 1
            break
        if not expect_value:
            if ch != ",":
                raise UnreadableFile(name, f"invalid JSON after record {records.count}: expected ',' or ']'.")
            pos += 1
            expect_value = True
            continue
        while True:
            try:
                value, end = _decoder.raw_decode(buf, pos)
                if end == len(buf) and not eof and isinstance(value, (int, float)):
                    raise json.JSONDecodeError("number may continue", buf, end)
                break
            except json.JSONDecodeError as err:
                if not more():
                    raise UnreadableFile(name, f"record {records.count + 1} is not valid JSON ({err.msg}).") from None
        records.add(value)
        pos = end
        expect_value = False
        first = False
    if skip_ws() is not None:
        raise UnreadableFile(name, "there is more data after the JSON array's closing ']'.")


def _not_a_table(path: str, codec: str, name: str, encoding: str, first: str) -> JsonInfo:
    """A JSON object or a scalar: not a table; say where a table might be."""
    if os.path.getsize(path) > (64 << 20):
        return JsonInfo("other", encoding, None, ["a JSON document that is not an array of records"])
    try:
        with open(path, encoding=codec) as f:
            value = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UnreadableFile(name, f"it is not valid JSON ({getattr(err, 'msg', err)}).") from None
    if isinstance(value, dict):
        lists = [k for k, v in value.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        keys = ", ".join(_quote(k) for k in list(value)[:20]) + (" …" if len(value) > 20 else "")
        note = f"a JSON object, not an array of records; its keys: {keys}"
        if lists:
            note += (f". The records may be under {_quote(lists[0])} ({len(value[lists[0]])} of them): "
                     f"pandas.json_normalize(data[{_quote(lists[0])}])")
        return JsonInfo("other", encoding, None, [note])
    return JsonInfo("other", encoding, None, [f"a single JSON {type(value).__name__}, not a table"])
