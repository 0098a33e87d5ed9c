"""nbformat cells for a turn, and writing them into a notebook on disk.

The server writes a turn's cells for notebooks no browser has open (`write: "server"`) and
for browser-written turns that no panel followed to their end.
"""

from __future__ import annotations

import asyncio
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


async def append_cells(
    contents_manager: Any,
    path: str,
    cells: list[dict[str, Any]],
    turn_id: str | None = None,
    events: list[dict[str, Any]] | None = None,
    displaces: dict[str, str] | None = None,
) -> None:
    """Append a turn's cells to the notebook at `path` via the contents manager, and fold
    its events onto the file's `metadata.nbchat` (record.fold_turn).

    For notebooks no panel writes to: an open, followed notebook gets its cells through its
    shared model in the browser, never by a rewrite behind its back. The file may already
    hold some of the turn's cells (a panel inserted them, then went away, and autosave kept
    them): a cell whose id is there keeps its source as it is on disk (the person may have
    edited it), and a code cell takes the turn's outputs and execution count (it may have
    been saved while it ran); a code cell of this turn that is no longer among `cells`
    (replaced by a fix, or skipped) is removed; the rest is appended in the turn's order,
    except a cell that `displaces` (new id -> old id) maps to a notebook cell still there:
    it takes that cell's place (a fix of the person's cell). A deleted file is created again.
    """
    saved = await read_saved(contents_manager, path)
    nb = nbformat.from_dict(saved) if saved is not None else new_notebook()
    final = {c.get("id") for c in cells}
    if turn_id:
        nb.cells = [c for c in nb.cells if not (_tag_of(c) == (turn_id, "code") and c.get("id") not in final)]
    mine = {c.get("id"): c for c in cells if c.get("cell_type") == "code"}
    for cell in nb.cells:
        ran = mine.get(cell.get("id"))
        if ran is not None and cell.get("cell_type") == "code":
            cell.outputs = [nbformat.from_dict(o) for o in ran.get("outputs", [])]
            cell.execution_count = ran.get("execution_count")
    present = {c.get("id") for c in nb.cells}
    for new_id, old_id in (displaces or {}).items():
        at = next((i for i, c in enumerate(nb.cells) if c.get("id") == old_id), None)
        cell = next((c for c in cells if c.get("id") == new_id), None)
        if at is not None and cell is not None and new_id not in present:
            nb.cells[at] = nbformat.from_dict(cell)
            present.add(new_id)
    nb.cells.extend(nbformat.from_dict(c) for c in cells if c.get("id") is None or c.get("id") not in present)
    if turn_id and events:
        nb.metadata["nbchat"] = fold_turn(read_record(nb.metadata.get("nbchat")), turn_id, events)
    nbformat.validate(nb)
    await ensure_async(
        contents_manager.save({"type": "notebook", "format": "json", "content": nb}, path)
    )
