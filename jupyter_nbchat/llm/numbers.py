"""Every number in an answer, looked up in the outputs it claims to come from.

Pure functions, no I/O: `check(answer, sources, question)` returns how many numbers were
checked and which were found nowhere. The rules, in order:

What counts as a number in the answer
- Every run of digits that is not glued to a word: `v2`, `Q3`, `col_1`, `H2O` are names,
  not numbers (a letter or `_` right before the digits). Years, dates (`2024-01-05` gives
  2024, 01, 05), times and small integers ("3 columns") are numbers like any other: a small
  integer is exempt only when it is in the sources like every number (e.g. in the question).
  Spelled-out numbers ("three") are not checked.
- Not checked: cell references (`Cell [3]`, `cells [2] and [4]`, `In [5]`, `cell 3`), and
  a list marker (`1.` or `1)` at the start of a line).
- Formats: thousands separators `,` (groups of three digits), thin or non-breaking spaces
  and `_`; a decimal point; an exponent (`1.3e+03`); a suffix `k`/`K`/`thousand`,
  `M`/`mn`/`million`, `bn`/`billion`; a percent sign or `percent`/`per cent`. The sign is
  ignored ("fell by 3.2" quotes -3.2). A dotted run of three or more parts (`3.11.4`,
  an IP) is one token, found only where its exact text is.

When a number is found
- In the text of the sources: stream outputs, `text/plain`, `text/markdown`, the cell text
  of `text/html` (tags dropped), never an `error` output (a traceback's line numbers are not
  results), and the code of the cells; also the question (a threshold the person gave).
  The turn's runner passes its final cells (a failed cell the fix loop replaced is gone)
  and the notebook's code cells Claude was shown (earlier turns, the person's cells).
- Rounded to the precision the answer shows: the source's value lies within half a unit
  of the answer's last digit (`3.14` matches 3.14159, `42` matches 41.6, `1.3k` matches
  1,306, `1,306` matches 1306.0). The answer never shows more precision than the source.
- A percentage matches the same number or its fraction (`50 %` matches 50 and 0.5); a
  source's percentage also offers its fraction (0.5 in the answer matches `50%`).
- Attribution: a number in a sentence that cites a cell ("Cell [3] shows 42", "In Cell [3],
  … 42") must be in THAT cell's outputs or code (or the question); the nearest citation
  before it in the sentence wins, else the first after it. A sentence ends at `.`, `!` or
  `?` followed by a space, or at a line break.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

#: Separators inside a grouped integer: comma, underscore, thin, narrow and plain no-break spaces.
_SEP = ",_\u2009\u202f\u00a0"
_SUFFIXES = {
    "k": 1_000, "K": 1_000, "thousand": 1_000,
    "M": 1_000_000, "mn": 1_000_000, "million": 1_000_000,
    "bn": 1_000_000_000, "billion": 1_000_000_000,
}  # fmt: skip
_NUMBER = re.compile(
    r"(?<![^\W\d])"  # not glued to a word (a letter or _ before it)
    rf"(?P<int>\d{{1,3}}(?:[{_SEP}]\d{{3}})+(?!\d)|\d+)"
    r"(?P<frac>\.\d+)?"
    r"(?P<more>(?:\.\d+)+)?"
    r"(?P<exp>[eE][-+]?\d+)?"
    r"(?:(?P<suffix>k|K|M|mn|bn)(?![^\W\d_])|[ \u00a0](?P<word>thousand|million|billion)\b)?"
    r"(?P<pct>[ \u00a0\u202f]?%|[ \u00a0](?:percent|per cent)\b)?"
)
#: `Cell [3]`, `Cells [2] and [4]`, `In [5]`, `cell 3`: the counts are the bracketed digits.
_REFERENCE = re.compile(
    r"\b(?:[Cc]ells?\s?\[\d+\](?:\s*(?:,|and|&|or|to|-|–)\s*\[\d+\])*|In\s?\[\d+\]|[Cc]ells?\s+\d+\b)"
)
_REF_COUNT = re.compile(r"\d+")
_LIST_MARKER = re.compile(r"^[ \t]*\d+[.)](?=\s)", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Token:
    """A number as written: `value` is its magnitude with the suffix applied, `half` half a
    unit of its last digit (scaled likewise)."""

    text: str
    start: int
    end: int
    value: Decimal
    half: Decimal
    percent: bool = False
    literal: bool = False  # a dotted run such as 3.11.4: found by its exact text


@dataclass
class Source:
    """One cell the answer may quote: its label count (`Cell [n]`), code and outputs."""

    count: int | None
    code: str = ""
    outputs: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Unverified:
    text: str
    start: int
    end: int
    reason: str  # "not_found" | "not_in_cell"
    cell: int | None = None
    #: Which occurrence of `text` among the checked numbers this is (0 = first), so the
    #: panel marks the right one when the same text is quoted twice.
    occurrence: int = 0

    def wire(self) -> dict[str, Any]:
        return {
            "text": self.text, "start": self.start, "end": self.end, "reason": self.reason,
            "cell": self.cell, "occurrence": self.occurrence,
        }  # fmt: skip


@dataclass
class Check:
    checked: int = 0
    unverified: list[Unverified] = field(default_factory=list)


# -- reading numbers -------------------------------------------------------------------------


def _token(match: re.Match[str]) -> Token | None:
    digits = re.sub(f"[{_SEP}]", "", match["int"])
    text = match.group(0)
    if match["more"]:
        whole = match["int"] + (match["frac"] or "") + match["more"]
        return Token(whole, match.start(), match.start() + len(whole), Decimal(0), Decimal(0), literal=True)
    mantissa = digits + (match["frac"] or "")
    try:
        value = Decimal(mantissa + (match["exp"] or ""))
    except InvalidOperation:
        return None
    places = len(match["frac"]) - 1 if match["frac"] else 0
    half = Decimal(5) * Decimal(10) ** -(places + 1)
    if match["exp"]:
        half = half * Decimal(10) ** int(match["exp"][1:])
    scale = _SUFFIXES.get(match["suffix"] or match["word"] or "", 1)
    return Token(text, match.start(), match.end(), value * scale, half * scale, percent=bool(match["pct"]))


def numbers_in(text: str) -> list[Token]:
    """Every number in `text`, as the rules above read it (list markers and cell references
    included; `answer_numbers` leaves those out)."""
    return [t for t in (_token(m) for m in _NUMBER.finditer(text)) if t is not None]


def _references(answer: str) -> list[tuple[int, int, list[int]]]:
    """(start, end, cell counts) of each cell reference."""
    return [(m.start(), m.end(), [int(c) for c in _REF_COUNT.findall(m.group(0))]) for m in _REFERENCE.finditer(answer)]


def answer_numbers(answer: str) -> list[Token]:
    """The numbers of an answer that are checked: not cell references, not list markers."""
    skipped = [(s, e) for s, e, _ in _references(answer)]
    skipped += [(m.start(), m.end()) for m in _LIST_MARKER.finditer(answer)]
    return [t for t in numbers_in(answer) if not any(s <= t.start < e for s, e in skipped)]


def _output_text(output: Mapping[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _join(output.get("text", ""))
    if kind not in ("execute_result", "display_data"):
        return ""  # errors: a traceback's line numbers are not results
    data = output.get("data") or {}
    parts = [_join(data[m]) for m in ("text/plain", "text/markdown") if m in data]
    if "text/html" in data:
        parts.append(html.unescape(_TAG.sub(" ", _join(data["text/html"]))))
    return "\n".join(parts)


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


_DROP_SEP = str.maketrans("", "", _SEP)
#: Significant digits a float holds exactly; an answer's number with more is found by its text.
_FLOAT_DIGITS = 15


def _values(text: str) -> list[float]:
    """The values of the numbers in a source text, as floats (sources hold most of the
    numbers: reading them is the check's cost; see `_Pool.has` for the precision)."""
    values: list[float] = []
    add = values.append
    for match in _NUMBER.finditer(text):
        whole, frac, more, exp, suffix, word, pct = match.group("int", "frac", "more", "exp", "suffix", "word", "pct")
        if more:
            continue  # a dotted literal: found by its text
        value = float(whole.translate(_DROP_SEP) + (frac or "") + (exp or ""))
        if suffix or word:
            value *= _SUFFIXES[suffix or word]
        add(value)
        if pct:
            add(value / 100)
        if len(whole) > 3 and not whole.isdigit():
            # A grouped number may be a list ("1,306" in "(1,306)" could be 1 and 306).
            values.extend(float(p) for p in re.split(f"[{_SEP}]", whole) if p)
    return values


class _Pool:
    """The numbers of some texts: values for rounding, texts for the dotted literals."""

    def __init__(self, texts: Sequence[str], values: Iterable[list[float]]) -> None:
        self.texts = texts
        self.values = sorted(set().union(*values))

    def has(self, token: Token) -> bool:
        if token.literal or len(token.value.as_tuple().digits) > _FLOAT_DIGITS:
            return self._written(token.text)
        targets = [token.value] + ([token.value / 100] if token.percent else [])
        halves = [token.half] + ([token.half / 100] if token.percent else [])
        return any(self._near(float(v), float(h)) for v, h in zip(targets, halves))

    def _written(self, text: str) -> bool:
        pattern = re.compile(rf"(?<![\d.]){re.escape(text)}(?![\d]|\.\d)")
        return any(pattern.search(t) for t in self.texts)

    def _near(self, value: float, half: float) -> bool:
        # Within half a unit of the last shown digit; a hair more, for binary floats printed long.
        tolerance = half * 1.000001 + abs(value) * 1e-12
        at = bisect.bisect_left(self.values, value - tolerance)
        return at < len(self.values) and self.values[at] <= value + tolerance


# -- checking --------------------------------------------------------------------------------


def check(answer: str, sources: Sequence[Source], question: str = "") -> Check:
    """Which numbers of `answer` the sources (and the question) do not show."""
    tokens = answer_numbers(answer)
    if not tokens:
        return Check()
    # Each text is read once, for the whole answer and for the cells it cites.
    texts = {id(s): [s.code, *(_output_text(o) for o in s.outputs)] for s in sources}
    values = {id(s): [_values(t) for t in texts[id(s)]] for s in sources}
    asked = _values(question)
    everything = _Pool(
        [question, *(t for s in sources for t in texts[id(s)])], [asked, *(v for s in sources for v in values[id(s)])]
    )
    by_cell: dict[int, _Pool] = {}
    references = _references(answer)
    seen: dict[str, int] = {}
    unverified: list[Unverified] = []
    for token in tokens:
        occurrence = seen.get(token.text, 0)
        seen[token.text] = occurrence + 1
        cell = _cited_cell(answer, token, references)
        if cell is None:
            if not everything.has(token):
                unverified.append(Unverified(token.text, token.start, token.end, "not_found", None, occurrence))
            continue
        if cell not in by_cell:
            cited = [s for s in sources if s.count == cell]
            by_cell[cell] = _Pool(
                [question, *(t for s in cited for t in texts[id(s)])], [asked, *(v for s in cited for v in values[id(s)])]
            )
        if not by_cell[cell].has(token):
            unverified.append(Unverified(token.text, token.start, token.end, "not_in_cell", cell, occurrence))
    return Check(checked=len(tokens), unverified=unverified)


def _cited_cell(answer: str, token: Token, references: list[tuple[int, int, list[int]]]) -> int | None:
    """The cell a number's sentence attributes it to: the nearest citation before it in the
    sentence, else the first after it; None when the sentence cites none (or several at once,
    as in "Cells [2] and [3]", which attributes to neither alone)."""
    start = max((m.end() for m in _SENTENCE_END.finditer(answer, 0, token.start)), default=0)
    end_match = _SENTENCE_END.search(answer, token.end)
    end = end_match.start() if end_match else len(answer)
    before = [r for r in references if start <= r[0] and r[1] <= token.start]
    after = [r for r in references if token.end <= r[0] and r[1] <= end]
    cited = before[-1] if before else (after[0] if after else None)
    if cited is None or len(cited[2]) != 1:
        return None
    return cited[2][0]


def note(unverified: Sequence[Unverified]) -> str:
    """The line the answer cell keeps under an answer with unverified numbers ('' if none)."""
    if not unverified:
        return ""
    listed = ", ".join(u.text for u in unverified)
    if len(unverified) == 1:
        return f"*1 number in this answer was not found in the cells' outputs: {listed}.*"
    return f"*{len(unverified)} numbers in this answer were not found in the cells' outputs: {listed}.*"


def correction_request(unverified: Sequence[Unverified]) -> str:
    """What Claude is told when its answer quotes numbers the outputs do not show."""
    lines = []
    for u in unverified:
        where = f"Cell [{u.cell}]'s outputs" if u.reason == "not_in_cell" else "any cell's outputs"
        lines.append(f"- {u.text} (not found in {where})")
    return (
        "These numbers in your answer were not found in the outputs:\n"
        + "\n".join(lines)
        + "\n\nCorrect the answer using only numbers the outputs show, citing the cell each "
        "comes from. If a number is derived from the outputs, say so and show the arithmetic "
        "with the numbers from the outputs. Do not run code. Reply with the complete corrected "
        "answer only, in the same form as before."
    )
