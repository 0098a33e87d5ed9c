"""The chat's record in the notebook, `metadata.nbchat`: every fold of it, in one place.

```
metadata.nbchat = {
  attachments: [{path, size, sha256, summary: FileSummary}],
  context_level: "headers" | "schema" | "sample",
  executor?: "kernel" | "e2b",              # the chat's own choice (POST nbchat/record)
  databases?: [name, …],                     # the chat's database connections (NbChat.databases)
  executor_state?: {executor, state},        # where cells ran last (sandbox_id, context_id)
  usage?: {input_tokens, output_tokens, cache_read_input_tokens,
           cache_creation_input_tokens, cost_usd, turns, last_turn_id, last_turn},
  turns: [TurnRecord, …]                     # every turn
}
TurnRecord = {turn_id, question, answer, status, question_answer_cells,
              cells: [{id, role, sha256}], replaced: [{by, source}],
              restore: [{cell, index}], skipped: [{tool_use_id, source}],
              numbers: {checked, unverified} | None,   # counts of the answer's numbers
              focus: {cell_id, action} | None,         # the cell the turn was asked about
              provenance: {model, system_prompt_sha256, files: [{path, sha256}],
                           executor, packages: {name: version}} | None}
```

The server is the record's one author. A running turn folds each of its events onto its
record (`fold_event`) and sends the result with the event; a turn the server writes itself
folds all its events onto the file's record (`fold_turn`), with the same function. Every
function here is pure: it returns a new record and never changes its arguments (the parts
it does not change are shared). Reading is tolerant: a hand-edited record never fails, its
unknown keys are kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import NothingToUndo
from .models import NotebookCell, TurnRecord

LEVELS = ("headers", "schema", "sample")
EXECUTORS = ("kernel", "e2b")
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
#: Events that change the record; each is sent with the record as it is after it.
RECORD_EVENTS = frozenset(
    {
        "turn_started",
        "manifest",
        "executor_state",
        "provenance",
        "focus",
        "usage",
        "cell_started",
        "cell",
        "cell_proposed",
        "cell_skipped",
        "answer",
        "turn_finished",
        "record",
    }
)
#: The chat's settings, changed through POST nbchat/record (a `record` event's `change`).
SETTINGS = ("attachments", "context_level", "executor", "databases")

Record = dict[str, Any]
#: What the fold remembers of each cell a turn sent (see `note_cell`): type, source, replaces.
Seen = Mapping[str, Mapping[str, Any]]


def read_record(raw: Any, level: str = "headers") -> Record:
    """A record from whatever a notebook holds; `level` when it names no context level."""
    chat: Record = dict(raw) if isinstance(raw, dict) else {}
    chat["attachments"] = [
        a for a in _list(chat.get("attachments")) if isinstance(a, dict) and isinstance(a.get("path"), str) and a["path"]
    ]
    if chat.get("context_level") not in LEVELS:
        chat["context_level"] = level
    if chat.get("executor") not in EXECUTORS:
        chat.pop("executor", None)
    if "databases" in chat:  # names of the chat's database connections (databases/)
        names = chat["databases"]
        chat["databases"] = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
    state = chat.get("executor_state")
    if not (isinstance(state, dict) and state.get("executor") in EXECUTORS):
        chat.pop("executor_state", None)
    if not isinstance(chat.get("usage"), dict):
        chat.pop("usage", None)
    chat["turns"] = [t for t in _list(chat.get("turns")) if isinstance(t, dict) and _is_id(t.get("turn_id"))]
    return chat


def turn_records(chat: Record) -> list[TurnRecord]:
    """The record's turns as models (for the history Claude reads)."""
    return [TurnRecord.model_validate(t) for t in chat.get("turns", [])]


def source_sha256(source: str | list[str]) -> str:
    """Hex sha256 of a cell's source as UTF-8 (a list of lines is joined first)."""
    return hashlib.sha256(_text(source).encode("utf-8")).hexdigest()


def attachments_of(files: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Attachment entries from FileSummary dicts."""
    return [{"path": f["path"], "size": f["size"], "sha256": f["sha256"], "summary": dict(f)} for f in files]


def with_settings(chat: Record, change: Mapping[str, Any]) -> Record:
    """The record with some of its settings (attachments, context level, executor) replaced."""
    return {**chat, **{k: v for k, v in change.items() if k in SETTINGS}}


def remove_turn(chat: Record, turn_id: str) -> Record:
    """The record without that turn's TurnRecord (its usage stays counted: it was spent)."""
    return {**chat, "turns": [t for t in chat.get("turns", []) if t.get("turn_id") != turn_id]}


# -- folding events ------------------------------------------------------------------------


def note_cell(seen: dict[str, dict[str, Any]], event: Mapping[str, Any]) -> None:
    """Remember what the fold needs later of the cell an event carries (call after folding it)."""
    cell = event.get("cell")
    if isinstance(cell, Mapping) and cell.get("id"):
        seen[cell["id"]] = {
            "type": event["type"],
            "source": _text(cell.get("source", "")),
            "replaces": event.get("replaces"),
            "tool_use_id": (cell.get("metadata", {}).get("nbchat") or {}).get("tool_use_id"),
        }
        if event["type"] == "focus":  # the notebook's own cell, whole: undo puts it back
            seen[cell["id"]] |= {"cell": dict(cell), "index": event.get("index", 0)}


def fold_turn(chat: Record, turn_id: str, events: Iterable[Mapping[str, Any]]) -> Record:
    """A whole turn's events folded onto a record. Folding a turn again counts it once."""
    seen: dict[str, dict[str, Any]] = {}
    for event in events:
        if event is None:
            continue
        chat = fold_event(chat, turn_id, event, seen)
        note_cell(seen, event)
    return chat


def fold_event(chat: Record, turn_id: str, event: Mapping[str, Any], seen: Seen | None = None) -> Record:
    """One event of turn `turn_id` folded onto the record; the same record when it changes
    nothing. `seen` is what `note_cell` kept of the turn's earlier events."""
    kind = event["type"]
    seen = seen or {}
    if kind == "manifest":
        return {**chat, "attachments": attachments_of(event["files"]), "context_level": event["level"]}
    if kind == "executor_state":
        # `executor` itself is the person's choice; only record where the cells ran.
        return {**chat, "executor_state": {"executor": event["executor"], "state": dict(event.get("state") or {})}}
    if kind == "usage":
        return {**chat, "usage": _add_usage(chat.get("usage"), turn_id, event)}
    if kind == "record":
        return with_settings(chat, event.get("change") or {})
    if kind == "turn_started":
        started = {
            "turn_id": turn_id,
            "question": event["question"],
            "answer": None,
            "status": "running",
            "question_answer_cells": bool(event.get("question_answer_cells", True)),
            "cells": [],
            "replaced": [],
            "restore": [],
            "skipped": [],
        }
        return _put_turn(chat, turn_id, lambda _: started)
    if kind in ("cell", "cell_started", "cell_proposed"):
        role = event.get("role", "code")
        return _put_turn(chat, turn_id, lambda t: _place(t, event["cell"], role, event.get("replaces"), seen))
    if kind == "cell_skipped":
        return _put_turn(chat, turn_id, lambda t: _skip(t, event["cell_id"], seen))
    if kind == "provenance":
        return _put_turn(chat, turn_id, lambda t: {**t, "provenance": _provenance(event)})
    if kind == "focus":
        return _put_turn(chat, turn_id, lambda t: {**t, "focus": {"cell_id": event["cell_id"], "action": event["action"]}})
    if kind == "answer":
        return _put_turn(chat, turn_id, lambda t: {**t, "answer": event["text"], "numbers": _numbers(event)})
    if kind == "turn_finished":
        return _put_turn(chat, turn_id, lambda t: {**t, "status": event["status"]})
    return chat


def _put_turn(chat: Record, turn_id: str, change: Any) -> Record:
    """The record with turn `turn_id`'s TurnRecord changed (added at the end if missing)."""
    turns = list(chat.get("turns", []))
    index = next((i for i, t in enumerate(turns) if t.get("turn_id") == turn_id), None)
    if index is None:
        turns.append(change(_turn({"turn_id": turn_id})))
    else:
        turns[index] = change(_turn(turns[index]))
    return {**chat, "turns": turns}


def _place(turn: dict[str, Any], cell: Mapping[str, Any], role: str, replaces: str | None, seen: Seen) -> dict[str, Any]:
    """A cell enters the notebook: updated in place, in place of `replaces`, or appended.

    A cell that ran and is replaced (the fix loop) goes into `replaced` with its code; a
    proposal standing in for one passes that entry on to what replaces it. The notebook
    cell the turn is about (`focus`), replaced by a fix, also goes into `restore`, whole:
    it is not the turn's, so undoing the turn puts it back where it was."""
    entry = {"id": cell["id"], "role": role, "sha256": source_sha256(cell.get("source", ""))}
    cells = list(turn["cells"])
    ids = [c.get("id") for c in cells]
    replaced = list(turn["replaced"])
    focus = seen.get(replaces or "")
    if entry["id"] in ids:
        cells[ids.index(entry["id"])] = entry
    elif focus is not None and focus["type"] == "focus":
        cells.append(entry)
        restore = [r for r in turn["restore"] if r.get("cell", {}).get("id") != replaces]
        restore.append({"cell": focus["cell"], "index": focus["index"]})
        replaced.append({"by": entry["id"], "source": focus["source"]})
        return {**turn, "cells": cells, "replaced": replaced, "restore": restore}
    elif replaces is not None and replaces in ids:
        cells[ids.index(replaces)] = entry
        before = seen.get(replaces)
        if before is not None and before["type"] == "cell_proposed":
            replaced = [{**r, "by": entry["id"]} if r.get("by") == replaces else r for r in replaced]
        elif before is not None:
            replaced.append({"by": entry["id"], "source": before["source"]})
    else:
        cells.append(entry)
    return {**turn, "cells": cells, "replaced": replaced}


def _skip(turn: dict[str, Any], cell_id: str, seen: Seen) -> dict[str, Any]:
    """A proposal is skipped (or retracted when the turn stopped): it leaves the notebook,
    and the failed cell it stood in for comes back."""
    cells = list(turn["cells"])
    ids = [c.get("id") for c in cells]
    if cell_id not in ids:
        return turn
    proposal = seen.get(cell_id, {})
    at = ids.index(cell_id)
    replaced = [r for r in turn["replaced"] if r.get("by") != cell_id]
    failed_id = proposal.get("replaces")
    restore = turn["restore"]
    if failed_id in seen and seen[failed_id]["type"] == "focus":  # the notebook's cell is back
        del cells[at]
        restore = [r for r in restore if r.get("cell", {}).get("id") != failed_id]
    elif len(replaced) < len(turn["replaced"]) and failed_id in seen:
        cells[at] = {"id": failed_id, "role": "code", "sha256": source_sha256(seen[failed_id]["source"])}
    else:
        del cells[at]
    skipped = [*turn["skipped"], {"tool_use_id": proposal.get("tool_use_id"), "source": proposal.get("source", "")}]
    return {**turn, "cells": cells, "replaced": replaced, "restore": restore, "skipped": skipped}


def _provenance(event: Mapping[str, Any]) -> dict[str, Any]:
    """What produced the turn's answer, from its `provenance` event."""
    return {
        "model": event["model"],
        "system_prompt_sha256": event["system_prompt_sha256"],
        "files": [{"path": f["path"], "sha256": f["sha256"]} for f in event.get("files") or []],
        "executor": event["executor"],
        "packages": dict(event.get("packages") or {}),
    }


def _numbers(answer: Mapping[str, Any]) -> dict[str, int] | None:
    """Counts of the answer's checked and unverified numbers; None when it was not checked."""
    if not isinstance(answer.get("checked"), int):
        return None
    return {"checked": answer["checked"], "unverified": len(answer.get("unverified") or [])}


def _add_usage(total: Any, turn_id: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The chat's usage after a usage event (a running total of its turn): a turn counted
    already has its earlier snapshot replaced, so replays never count it twice."""
    last = {k: int(event.get(k) or 0) for k in USAGE_FIELDS} | {"cost_usd": event.get("cost_usd")}
    total = dict(total) if isinstance(total, dict) else {}
    turns = int(total.get("turns", 0) or 0)
    earlier = total.get("last_turn") if total.get("last_turn_id") == turn_id else None
    if isinstance(earlier, dict):
        for k in USAGE_FIELDS:
            total[k] = int(total.get(k, 0) or 0) - int(earlier.get(k, 0) or 0)
        if total.get("cost_usd") is not None and earlier.get("cost_usd") is not None:
            total["cost_usd"] = total["cost_usd"] - earlier["cost_usd"]
    else:
        turns += 1
    summed: dict[str, Any] = {k: int(total.get(k, 0) or 0) + last[k] for k in USAGE_FIELDS}
    # The sum of the known costs; None only when no turn had one.
    known = [c for c in (total.get("cost_usd"), last["cost_usd"]) if c is not None]
    summed["cost_usd"] = round(sum(known), 6) if known else None
    return {**summed, "turns": turns, "last_turn_id": turn_id, "last_turn": last}


# -- undo ----------------------------------------------------------------------------------


def undo_plan(chat: Record, turn_id: str, cells: list[NotebookCell]) -> dict[str, Any]:
    """What taking turn `turn_id` back does to the notebook as the browser has it.

    The cells to remove are those the turn's record lists that are still there, plus any
    cell tagged with the turn (an older turn has no record: its tagged cells are all there
    is). `edited` names those whose source differs from what the turn wrote (known only for
    recorded cells). Raises TurnNotFound when neither a record nor a tagged cell exists."""
    turn = next((_turn(t) for t in chat.get("turns", []) if t.get("turn_id") == turn_id), None)
    recorded = {c.get("id"): c for c in (turn["cells"] if turn else []) if isinstance(c, dict)}
    tagged = {c.id for c in cells if c.nbchat.get("turn_id") == turn_id}
    if turn is None and not tagged:
        raise NothingToUndo(turn_id)
    remove = [c for c in cells if c.id is not None and (c.id in recorded or c.id in tagged)]
    edited = [
        c.id
        for c in remove
        if c.id in recorded and recorded[c.id].get("sha256") and source_sha256(c.text) != recorded[c.id]["sha256"]
    ]
    return {
        "turn_id": turn_id,
        "remove": [c.id for c in remove],
        "edited": edited,
        "restore": list(turn["restore"]) if turn else [],
        "record": remove_turn(chat, turn_id),
        "summary": {
            "added": len(remove),
            "replaced": len(turn["replaced"]) if turn else 0,
            "skipped": len(turn["skipped"]) if turn else 0,
        },
    }


# -- tolerant reading ----------------------------------------------------------------------


def _turn(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A TurnRecord with every field readable (older records lack some), unknown keys kept."""
    return {**raw, **TurnRecord.model_validate(dict(raw)).model_dump()}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)
