"""What Claude is told: the notebook so far as earlier turns, then the new question.

The notebook is the history. Each earlier nbchat turn (cells tagged `metadata.nbchat`)
becomes a user/assistant pair: the question, then the cells as they are now (the
person's edits included) with their outputs, then the answer. The record of each turn
(metadata.nbchat.turns) describes the same turn as its cells: it gives the question and
answer where the notebook has no question/answer cells, and a turn asked with those cells
off counts even when it ran no cell. Cells the person wrote themselves go with the next
question. Rendering is deterministic, so the prefix of
earlier turns stays byte-identical from one question to the next and is read from the
prompt cache (breakpoints: system prompt, end of history, latest message).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..models import NotebookCell, TurnRecord
from .tools import describe_output

CACHE = {"type": "ephemeral"}
#: Bounds on one earlier cell's outputs in the history.
MAX_HISTORY_OUTPUT_CHARS = 2_000
#: ... and of the outputs of the cell a turn is about (its whole traceback matters).
MAX_FOCUS_OUTPUT_CHARS = 12_000


@dataclass
class _Turn:
    question: str = ""
    cells: list[NotebookCell] = field(default_factory=list)
    answer: str | None = None


def _render_cell(cell: NotebookCell, full: bool = False) -> str:
    """A cell as Claude reads it; `full`: the cell a turn is about (MAX_FOCUS_OUTPUT_CHARS)."""
    if cell.cell_type != "code":
        return f"[markdown cell]\n{cell.text}"
    label = f"Cell [{cell.execution_count}]" if cell.execution_count else "Cell [ ]"
    text = f"{label}:\n```python\n{cell.text}\n```"
    outputs = "\n".join(describe_output(o) for o in cell.outputs)
    limit = MAX_FOCUS_OUTPUT_CHARS if full else MAX_HISTORY_OUTPUT_CHARS
    if len(outputs) > limit:
        outputs = outputs[:limit] + f"\n… [{len(outputs) - limit} characters truncated]"
    if outputs:
        text += f"\nOutput:\n{outputs}"
    return text


def _split(
    cells: list[NotebookCell], records: list[TurnRecord] = ()  # type: ignore[assignment]
) -> tuple[list[tuple[list[NotebookCell], _Turn]], list[NotebookCell]]:
    """[(person cells before it, turn), …] and the person cells after the last turn.

    A turn takes its question and answer from its cells, else from its record in
    `records` (metadata.nbchat.turns). A turn asked with question/answer cells off that
    ran no cell goes right after the recorded turn before it; one asked with them on
    whose cells are all gone (the person deleted them) is gone from the history too.
    """
    pairs: list[tuple[list[NotebookCell], _Turn]] = []
    pending: list[NotebookCell] = []
    by_id: dict[str, _Turn] = {}
    for cell in cells:
        tag = cell.nbchat
        turn_id = tag.get("turn_id")
        if not turn_id:
            if cell.text.strip():
                pending.append(cell)
            continue
        turn = by_id.get(turn_id)
        if turn is None:
            turn = by_id[turn_id] = _Turn()
            pairs.append((pending, turn))
            pending = []
        role = tag.get("role")
        if role == "question":
            turn.question = str(tag.get("text") or cell.text)
        elif role == "answer":
            turn.answer = str(tag["text"]) if "text" in tag else cell.text
        else:
            turn.cells.append(cell)
    previous: _Turn | None = None
    for record in records:
        turn = by_id.get(record.turn_id)
        if turn is None and record.question_answer_cells:
            continue
        if turn is None:
            turn = by_id[record.turn_id] = _Turn()
            at = next((i + 1 for i, (_, t) in enumerate(pairs) if t is previous), 0)
            pairs.insert(at, ([], turn))
        turn.question = turn.question or record.question
        if turn.answer is None:
            turn.answer = record.answer
        previous = turn
    return pairs, pending


def _person_block(cells: list[NotebookCell]) -> dict[str, Any]:
    body = "\n\n".join(_render_cell(c) for c in cells)
    return {"type": "text", "text": f"Cells the person has in the notebook:\n\n{body}"}


def history_messages(
    cells: list[NotebookCell], records: list[TurnRecord] | None = None
) -> tuple[list[dict[str, Any]], list[NotebookCell]]:
    """Earlier turns as messages, and the person's cells that follow the last turn."""
    pairs, pending = _split(cells, records or [])
    messages: list[dict[str, Any]] = []
    for before, turn in pairs:
        user = ([_person_block(before)] if before else []) + [
            {"type": "text", "text": f"Question: {turn.question}"}
        ]
        ran = "\n\n".join(_render_cell(c) for c in turn.cells) or "(no cells ran)"
        answer = turn.answer if turn.answer is not None else "(The turn ended without an answer.)"
        assistant = [{"type": "text", "text": f"I ran these cells:\n\n{ran}\n\nAnswer:\n{answer}"}]
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return messages, pending


#: What Claude is asked to do with the cell a turn is about (models.CellFocus.action).
FOCUS_TASKS = {
    "fix": (
        "The person asks you to fix this cell. Find the cause in its code, outputs and "
        "traceback, then call run_code once with the complete corrected cell, keeping what the "
        "cell was meant to do: it replaces this cell in the notebook. Then say in a sentence "
        "or two what was wrong and what you changed."
    ),
    "explain": (
        "The person asks you to explain this cell: what its code does, step by step where it "
        "helps, and what its outputs show (or why it failed). Run code only to check "
        "something you cannot tell from the cell itself."
    ),
    "ask": "The person's question below is about this cell.",
}


def focus_block(cell: NotebookCell, index: int, action: str) -> dict[str, Any]:
    """The cell a turn is about (any cell, the person's own too), whole, and the task."""
    where = f"cell {index + 1} of the notebook"
    return {
        "type": "text",
        "text": f"The cell this is about ({where}):\n\n{_render_cell(cell, full=True)}\n\n{FOCUS_TASKS[action]}",
    }


def question_message(
    question: str,
    *,
    person_cells: list[NotebookCell] = (),  # type: ignore[assignment]
    files: str = "",
    variables: str = "",
    focus: dict[str, Any] | None = None,
    environment: str = "",
) -> dict[str, Any]:
    """The new question, with what changed since the last turn before it (and the cell it
    is about: a `focus_block`; where the code runs: `environment`, kept out of the system
    prompt so that stays byte-identical from turn to turn)."""
    blocks: list[dict[str, Any]] = []
    if person_cells:
        blocks.append(_person_block(list(person_cells)))
    if files:
        blocks.append({"type": "text", "text": files})
    if variables:
        blocks.append({"type": "text", "text": f"Live variables in the kernel now:\n{variables}"})
    if environment:
        blocks.append({"type": "text", "text": f"Where the code runs:\n{environment}"})
    if focus is not None:
        blocks.append(focus)
    blocks.append({"type": "text", "text": f"Question: {question}"})
    return {"role": "user", "content": blocks}


def system_blocks(text: str, files: str = "") -> list[dict[str, Any]]:
    """The system prompt, then the attached files' text; the cache breakpoint ends the prefix
    that stays identical while the attachments do."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
    if files:
        blocks.append({"type": "text", "text": files})
    blocks[-1]["cache_control"] = CACHE
    return blocks


def system_sha256(blocks: list[dict[str, Any]]) -> str:
    """Hex sha256 of the `system` blocks as sent: their canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(blocks, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def mark_cache_breakpoints(messages: list[dict[str, Any]], history_length: int) -> list[dict[str, Any]]:
    """A copy of `messages` with breakpoints after the history and on the latest block.

    With the system prompt's breakpoint that makes three of the API's four.
    """
    marked = [{**m, "content": [dict(b) for b in m["content"]]} for m in messages]
    for message in marked:
        for block in message["content"]:
            block.pop("cache_control", None)
    targets = {len(marked) - 1}
    if history_length:
        targets.add(history_length - 1)
    for index in targets:
        marked[index]["content"][-1]["cache_control"] = CACHE
    return marked
