"""Writing a turn into a notebook that people edit together (jupyter-collaboration).

With jupyter-collaboration, an open notebook lives in a collaboration room: a shared
document (a `jupyter_ydoc.YNotebook` over pycrdt) that every page edits and that the room
saves to the file when nobody is typing. A turn the server writes (no panel followed it to
its end, or `write: "server"`) must go into that document: written to the file instead,
the room sees an out-of-band change and reloads itself from the file, which drops what
collaborators typed since the last save and brings back the cells they deleted.

Without jupyter-collaboration (or with no room open for the notebook) nothing here is used:
the turn goes into the file, as before.
"""

from __future__ import annotations

import logging
from typing import Any

from .notebook import plan_write
from .record import fold_turn, read_record

#: jupyter-collaboration's server extension (the `jupyter_server_ydoc` package).
YDOC_EXTENSION = "jupyter_server_ydoc"


async def live_notebook(serverapp: Any, path: str, log: logging.Logger) -> Any | None:
    """The notebook's shared document if a collaboration room holds it now, else None.

    Never opens a room: a notebook nobody has open is written as a file."""
    apps = serverapp.extension_manager.extension_apps.get(YDOC_EXTENSION)
    if not apps:
        return None
    ydoc_extension = next(iter(apps))
    try:
        return await ydoc_extension.get_document(
            path=path, content_type="notebook", file_format="json", copy=False
        )
    except Exception:  # an API we do not know: the file is still a correct place
        log.warning("nbchat: could not reach the collaboration room of %s", path, exc_info=True)
        return None


def write_turn(
    ynotebook: Any,
    cells: list[dict[str, Any]],
    turn_id: str | None,
    events: list[dict[str, Any]] | None,
    displaces: dict[str, str] | None,
) -> None:
    """Put a turn's cells into the shared document, in one transaction, by the same rules as
    the file (`notebook.plan_write`). Cells others are editing are left as they are."""
    from pycrdt import Array, Map, Text  # installed with jupyter-collaboration

    def youtput(output: dict[str, Any]) -> Map:
        output = dict(output)
        if output.get("output_type") == "stream":
            text = output.get("text", "")
            output["text"] = Text(text if isinstance(text, str) else "".join(text))
        return Map(output)

    ycells = ynotebook.ycells
    with ynotebook.ydoc.transaction():
        existing = [
            {"id": y.get("id"), "cell_type": y.get("cell_type"), "metadata": _py(y.get("metadata"))}
            for y in ycells
        ]
        plan = plan_write(existing, cells, turn_id, displaces)
        for at in reversed(range(len(existing))):
            if existing[at]["id"] in plan.remove:
                del ycells[at]
        for at in range(len(ycells)):
            ycell = ycells[at]
            ran = plan.outputs.get(ycell.get("id"))
            if ran is not None:
                # Into the cell's own outputs array: JupyterLab's cell model observes that
                # array, not the key, so a new array put in its place would never show.
                youtputs = ycell.get("outputs")
                if not isinstance(youtputs, Array):
                    youtputs = ycell["outputs"] = Array()
                youtputs.clear()
                youtputs.extend([youtput(o) for o in ran.get("outputs", [])])
                ycell["execution_count"] = ran.get("execution_count")
            elif ycell.get("id") in plan.displace:
                ycells[at] = ynotebook.create_ycell(plan.displace[ycell.get("id")])
        for cell in plan.append:
            ycells.append(ynotebook.create_ycell(cell))
        if turn_id and events:
            meta = ynotebook.ydoc.get("meta", type=Map)
            metadata = meta.get("metadata")
            if not isinstance(metadata, Map):
                metadata = meta["metadata"] = Map(_py(metadata) or {})
            record = fold_turn(read_record(_py(metadata.get("nbchat"))), turn_id, events)
            metadata["nbchat"] = record


def _py(value: Any) -> Any:
    """A shared value as plain Python (shared maps and arrays have `to_py`)."""
    return value.to_py() if hasattr(value, "to_py") else value
