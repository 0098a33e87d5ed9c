"""nbformat cells for a turn, and writing them into a notebook on disk.

The server writes a turn's cells for notebooks no browser has open (`write: "server"`) and
for browser-written turns that no panel followed to their end.
"""

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


USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
#: Events whose content record_turn keeps in the notebook's metadata.
RECORDED_EVENTS = ("manifest", "executor_state", "usage")


def has_record(events: list[dict[str, Any]]) -> bool:
    """Whether record_turn would keep anything of these events in the notebook's metadata."""
    return any(
        e["type"] in RECORDED_EVENTS or (e["type"] == "turn_started" and not e.get("question_answer_cells", True))
        for e in events
    )


def _tag_of(cell: Any) -> tuple[Any, Any]:
    """(turn_id, role) of a cell nbchat wrote; (None, None) for the person's own cells."""
    tag = cell.get("metadata", {}).get("nbchat")
    return (tag.get("turn_id"), tag.get("role")) if isinstance(tag, dict) else (None, None)


def record_turn(metadata: dict[str, Any], turn_id: str, events: list[dict[str, Any]]) -> None:
    """Fold a turn's manifest, executor and usage into the notebook's `metadata.nbchat`.

    The same shape the panel writes for open notebooks (src/metadata.ts), so the chat can
    be rebuilt from the notebook alone. Recording a turn again (the panel saved part of it)
    counts it once: its turns entry is not repeated and its usage replaces the earlier one.
    """
    chat = metadata.setdefault("nbchat", {})
    for event in events:
        if event["type"] == "manifest":
            chat["attachments"] = [
                {"path": f["path"], "size": f["size"], "sha256": f["sha256"], "summary": f} for f in event["files"]
            ]
            chat["context_level"] = event["level"]
        elif event["type"] == "executor_state":
            # `executor` itself is the person's choice (the panel's); only record what ran.
            chat["executor_state"] = {"executor": event["executor"], "state": event["state"]}
    started = next((e for e in events if e["type"] == "turn_started"), None)
    if started is not None and not started.get("question_answer_cells", True):
        answer = next((e["text"] for e in events if e["type"] == "answer"), None)
        records = chat.setdefault("turns", [])
        record = {"turn_id": turn_id, "question": started["question"], "answer": answer}
        kept = [i for i, r in enumerate(records) if isinstance(r, dict) and r.get("turn_id") == turn_id]
        if kept:
            records[kept[0]] = record
        else:
            records.append(record)
    usage = [e for e in events if e["type"] == "usage"]
    if usage:
        last = {k: usage[-1].get(k, 0) for k in USAGE_FIELDS} | {"cost_usd": usage[-1].get("cost_usd")}
        total = chat.get("usage") or {}
        turns = int(total.get("turns", 0))
        earlier = total.get("last_turn") if total.get("last_turn_id") == turn_id else None
        if isinstance(earlier, dict):  # this turn was counted already: replace its snapshot
            total = {**total, **{k: int(total.get(k, 0)) - int(earlier.get(k, 0)) for k in USAGE_FIELDS}}
            if total.get("cost_usd") is not None and earlier.get("cost_usd") is not None:
                total["cost_usd"] = total["cost_usd"] - earlier["cost_usd"]
        else:
            turns += 1
        summed = {k: int(total.get(k, 0)) + last[k] for k in USAGE_FIELDS}
        # Like the panel: the sum of the known costs; None only when no turn had one.
        known = [c for c in (total.get("cost_usd"), last["cost_usd"]) if c is not None]
        summed["cost_usd"] = round(sum(known), 6) if known else None
        chat["usage"] = {**summed, "turns": turns, "last_turn_id": turn_id, "last_turn": last}


async def append_cells(
    contents_manager: Any,
    path: str,
    cells: list[dict[str, Any]],
    turn_id: str | None = None,
    events: list[dict[str, Any]] | None = None,
) -> None:
    """Append a turn's cells (and its metadata) to the notebook at `path` via the contents manager.

    For notebooks no panel writes to: an open, followed notebook gets its cells through its
    shared model in the browser, never by a rewrite behind its back. The file may already
    hold some of the turn's cells (a panel inserted them, then went away, and autosave kept
    them): a cell whose id is there is kept as it is on disk (the person may have edited
    it); a code cell of this turn that is no longer among `cells` (replaced by a fix, or
    skipped) is removed; the rest is appended in the turn's order. A deleted file is
    created again.
    """
    if await ensure_async(contents_manager.file_exists(path)):
        model = await ensure_async(contents_manager.get(path, content=True, type="notebook"))
        nb = nbformat.from_dict(model["content"])
    else:
        nb = new_notebook()
    final = {c.get("id") for c in cells}
    if turn_id:
        nb.cells = [c for c in nb.cells if not (_tag_of(c) == (turn_id, "code") and c.get("id") not in final)]
    present = {c.get("id") for c in nb.cells}
    nb.cells.extend(nbformat.from_dict(c) for c in cells if c.get("id") is None or c.get("id") not in present)
    if turn_id and events:
        record_turn(nb.metadata, turn_id, events)
    nbformat.validate(nb)
    await ensure_async(
        contents_manager.save({"type": "notebook", "format": "json", "content": nb}, path)
    )
