"""nbformat cells for a turn, and writing them into a notebook no browser has open."""

from __future__ import annotations

from typing import Any

import nbformat
from jupyter_core.utils import ensure_async
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


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
) -> dict[str, Any]:
    cell = new_code_cell(code, outputs=[nbformat.from_dict(o) for o in outputs])
    cell.execution_count = execution_count
    return _tag(cell, turn_id, "code", tool_use_id=tool_use_id)


def answer_cell(turn_id: str, answer: str) -> dict[str, Any]:
    return _tag(new_markdown_cell(answer), turn_id, "answer")


async def append_cells(contents_manager: Any, path: str, cells: list[dict[str, Any]]) -> None:
    """Append cells to the notebook at `path` (created if missing) via the contents manager.

    Only for notebooks that no browser has open: an open notebook gets its cells through
    its shared model in the browser, never by a rewrite behind its back.
    """
    if await ensure_async(contents_manager.file_exists(path)):
        model = await ensure_async(contents_manager.get(path, content=True, type="notebook"))
        nb = nbformat.from_dict(model["content"])
    else:
        nb = new_notebook()
    nb.cells.extend(nbformat.from_dict(c) for c in cells)
    nbformat.validate(nb)
    await ensure_async(
        contents_manager.save({"type": "notebook", "format": "json", "content": nb}, path)
    )
