"""nbformat cells for a turn, and writing them into a notebook the server holds.

The server writes a turn's cells for notebooks no browser has open (`write: "server"`) and
for browser-written turns that no panel followed to their end: into the file, or into the
live shared document when people edit the notebook together (`collaboration`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import nbformat
from jupyter_core.utils import ensure_async
from tornado import web
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .record import fold_turn, read_record


def _tag(cell: Any, turn_id: str, role: str, **extra: Any) -> dict[str, Any]:
    cell.metadata["nbchat"] = {"turn_id": turn_id, "role": role, **extra}
    return dict(cell)


def question_cell(turn_id: str, question: str) -> dict[str, Any]:
    quoted = "\n".join(f"> {line}" if line else ">" for line in question.splitlines())
    return _tag(new_markdown_cell(f"**Question**\n\n{quoted}"), turn_id, "question", text=question)


def code_cell(
    turn_id: str,
    code: str,
    outputs: list[dict[str, Any]],
    execution_count: int | None,
    tool_use_id: str,
    cell_id: str | None = None,
) -> dict[str, Any]:
    """A generated code cell; `cell_id` keeps the id of the cell as it started running."""
    cell = new_code_cell(code, outputs=[nbformat.from_dict(o) for o in outputs])
    if cell_id is not None:
        cell.id = cell_id
    cell.execution_count = execution_count
    return _tag(cell, turn_id, "code", tool_use_id=tool_use_id)


def answer_cell(turn_id: str, answer: str, note: str = "") -> dict[str, Any]:
    """Headed like the question cell; the answer's own text is kept in the tag. `note`
    (numbers the outputs do not show, llm/numbers.note) ends the cell, not the text."""
    source = f"**Answer**\n\n{answer}" + (f"\n\n{note}" if note else "")
    return _tag(new_markdown_cell(source), turn_id, "answer", text=answer)


def source_text(cell: dict[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _tag_of(cell: Any) -> tuple[Any, Any]:
    """(turn_id, role) of a cell nbchat wrote; (None, None) for the person's own cells."""
    tag = cell.get("metadata", {}).get("nbchat")
    return (tag.get("turn_id"), tag.get("role")) if isinstance(tag, dict) else (None, None)


#: Reads of a notebook found mid-save before the error stands (0.1 s apart).
SAVED_READ_ATTEMPTS = 5


async def read_saved(contents_manager: Any, path: str) -> dict[str, Any] | None:
    """The notebook at `path` as last saved (nbformat JSON), or None when there is none.

    jupyter_server saves a notebook by rewriting the file in place: read mid-save it is
    empty ("Unreadable Notebook", 400), so such a read is taken again shortly after."""
    if not await ensure_async(contents_manager.file_exists(path)):
        return None
    for attempt in range(SAVED_READ_ATTEMPTS):
        try:
            return (await ensure_async(contents_manager.get(path, content=True, type="notebook")))["content"]
        except web.HTTPError as err:
            if err.status_code != 400 or attempt + 1 == SAVED_READ_ATTEMPTS:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


@dataclass
class TurnWrite:
    """What writing a turn changes in a notebook's cells (see `plan_write`)."""

    remove: set[str] = field(default_factory=set)  # this turn's code cells no longer wanted
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> the cell that ran
    displace: dict[str, dict[str, Any]] = field(default_factory=dict)  # old id -> cell in its place
    append: list[dict[str, Any]] = field(default_factory=list)  # new cells, in the turn's order


def plan_write(
    existing: list[dict[str, Any]],
    cells: list[dict[str, Any]],
    turn_id: str | None,
    displaces: dict[str, str] | None,
) -> TurnWrite:
    """How a turn's `cells` go into a notebook that holds `existing` (the same rules for a
    file and for a live shared document; see `append_cells`)."""
    final = {c.get("id") for c in cells}
    plan = TurnWrite()
    if turn_id:
        plan.remove = {c.get("id") for c in existing if _tag_of(c) == (turn_id, "code") and c.get("id") not in final}
    remaining = [c for c in existing if c.get("id") not in plan.remove]
    mine = {c.get("id"): c for c in cells if c.get("cell_type") == "code"}
    plan.outputs = {c["id"]: mine[c["id"]] for c in remaining if c.get("cell_type") == "code" and c.get("id") in mine}
    present = {c.get("id") for c in remaining}
    for new_id, old_id in (displaces or {}).items():
        cell = next((c for c in cells if c.get("id") == new_id), None)
        if old_id in present and cell is not None and new_id not in present:
            plan.displace[old_id] = cell
            present.add(new_id)
    plan.append = [c for c in cells if c.get("id") is None or c.get("id") not in present]
    return plan


async def append_cells(
    contents_manager: Any,
    path: str,
    cells: list[dict[str, Any]],
    turn_id: str | None = None,
    events: list[dict[str, Any]] | None = None,
    displaces: dict[str, str] | None = None,
    live: Any = None,
) -> None:
    """Append a turn's cells to the notebook at `path`, and fold its events onto its
    `metadata.nbchat` (record.fold_turn).

    For notebooks no panel writes to: an open, followed notebook gets its cells through its
    shared model in the browser, never by a rewrite behind its back. `live` is the
    notebook's shared document when a collaboration room holds it (see `collaboration`):
    the turn then goes into that document, which every collaborator sees at once and the
    room saves, never into the file behind it (the room would reload from the file and drop
    what people typed since its last save). The notebook may already hold some of the turn's
    cells (a panel inserted them, then went away, and autosave kept them): a cell whose id is
    there keeps its source as it is (the person may have edited it), and a code cell takes
    the turn's outputs and execution count (it may have been saved while it ran); a code
    cell of this turn that is no longer among `cells` (replaced by a fix, or skipped) is
    removed; the rest is appended in the turn's order, except a cell that `displaces`
    (new id -> old id) maps to a notebook cell still there: it takes that cell's place (a
    fix of the person's cell). A deleted file is created again.
    """
    if live is not None:
        from .collaboration import write_turn

        write_turn(live, cells, turn_id, events, displaces)
        return
    saved = await read_saved(contents_manager, path)
    nb = nbformat.from_dict(saved) if saved is not None else new_notebook()
    plan = plan_write(nb.cells, cells, turn_id, displaces)
    nb.cells = [c for c in nb.cells if c.get("id") not in plan.remove]
    for at, cell in enumerate(nb.cells):
        ran = plan.outputs.get(cell.get("id"))
        if ran is not None:
            cell.outputs = [nbformat.from_dict(o) for o in ran.get("outputs", [])]
            cell.execution_count = ran.get("execution_count")
        elif cell.get("id") in plan.displace:
            nb.cells[at] = nbformat.from_dict(plan.displace[cell.get("id")])
    nb.cells.extend(nbformat.from_dict(c) for c in plan.append)
    if turn_id and events:
        nb.metadata["nbchat"] = fold_turn(read_record(nb.metadata.get("nbchat")), turn_id, events)
    nbformat.validate(nb)
    await ensure_async(
        contents_manager.save({"type": "notebook", "format": "json", "content": nb}, path)
    )
