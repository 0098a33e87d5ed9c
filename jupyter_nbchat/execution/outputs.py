"""Kernel messages -> nbformat v4 outputs, the one currency for results.

Follows nbclient's rules: outputs come only from `nbformat.v4.output_from_msg`,
`clear_output(wait=True)` clears on the next output, display ids are honoured,
and consecutive stream chunks of the same name are joined.
"""

from __future__ import annotations

from typing import Any

from nbformat.v4 import output_from_msg

OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


class OutputCollector:
    """Accumulates the outputs of one execution from its iopub messages."""

    def __init__(self) -> None:
        self.outputs: list[dict[str, Any]] = []
        self.execution_count: int | None = None
        self._clear_before_next = False
        self._display_ids: dict[str, list[int]] = {}

    def handle(self, msg: dict[str, Any]) -> None:
        msg_type = msg["header"]["msg_type"]
        content = msg["content"]
        if msg_type == "execute_input":
            self.execution_count = content.get("execution_count")
        elif msg_type == "clear_output":
            if content.get("wait"):
                self._clear_before_next = True
            else:
                self._clear()
        elif msg_type == "update_display_data":
            self._update_display(content)
        elif msg_type in OUTPUT_TYPES:
            if self._clear_before_next:
                self._clear()
            self._append(msg, content)

    def add(self, output: dict[str, Any]) -> None:
        """Add an output we made ourselves (e.g. a timeout notice)."""
        self.outputs.append(output)

    def _clear(self) -> None:
        self.outputs.clear()
        self._display_ids.clear()
        self._clear_before_next = False

    def _append(self, msg: dict[str, Any], content: dict[str, Any]) -> None:
        out = output_from_msg(msg)
        if out.output_type == "execute_result":
            self.execution_count = content.get("execution_count", self.execution_count)
        last = self.outputs[-1] if self.outputs else None
        if (
            out.output_type == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == out.name
        ):
            last["text"] += out.text
            return
        display_id = (content.get("transient") or {}).get("display_id")
        if display_id:
            self._display_ids.setdefault(display_id, []).append(len(self.outputs))
        self.outputs.append(dict(out))

    def _update_display(self, content: dict[str, Any]) -> None:
        display_id = (content.get("transient") or {}).get("display_id")
        for index in self._display_ids.get(display_id or "", []):
            self.outputs[index]["data"] = content.get("data", {})
            self.outputs[index]["metadata"] = content.get("metadata", {})


def error_output(ename: str, evalue: str) -> dict[str, Any]:
    """An nbformat error output for failures that happen outside the code."""
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
