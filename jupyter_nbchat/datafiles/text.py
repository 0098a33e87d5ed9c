"""Data shown as text: always a JSON string literal, so it reads as a name, never as prose."""

from __future__ import annotations

import json

#: Longest name (file, sheet, column) shown in full.
MAX_NAME_CHARS = 200


def quote(text: object, limit: int = MAX_NAME_CHARS) -> str:
    """`text` as a JSON string literal, cut to `limit` characters, with <, > and the Unicode line
    separators escaped too, so no name can close a tag or start a new line of the prompt."""
    value = str(text)
    if len(value) > limit:
        value = value[:limit] + "…"
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def quote_list(values: list[str], limit: int, more_label: str = "more") -> str:
    shown = ", ".join(quote(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" … and {len(values) - limit:,} {more_label}"
    return shown
