"""The tools Claude may call, and how cell outputs are reported back to it."""

from __future__ import annotations

import re
from typing import Any

from .images import CellImages

RUN_CODE = "run_code"

TOOLS: list[dict[str, Any]] = [
    {
        "name": RUN_CODE,
        "description": (
            "Run Python code as a new cell in the person's Jupyter notebook and get its "
            "outputs back. Variables persist between calls and with the notebook's own "
            "cells. Each call becomes one visible, re-runnable notebook cell, so write "
            "complete, clean code for one step of the analysis."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "The Python source of the cell."},
                "replaces_cell": {
                    "type": "integer",
                    "description": (
                        "Only when this cell corrects an earlier cell that ran without an "
                        "error but is wrong (for example a chart you found empty or of the "
                        "wrong kind): the number n of that cell's label Cell [n]. The new "
                        "cell takes its place in the notebook instead of being added. Omit "
                        "it otherwise; a cell that fixes an error replaces it by itself."
                    ),
                },
            },
            "required": ["code"],
        },
    }
]

#: Bounds on what one cell's outputs may add to the conversation.
MAX_OUTPUT_CHARS = 4_000
MAX_RESULT_CHARS = 10_000

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit // 2]
    tail = text[-limit // 2 :]
    return f"{head}\n… [{len(text) - limit} characters truncated] …\n{tail}"


def _text_of(data: Any) -> str:
    return "".join(data) if isinstance(data, list) else str(data)


def describe_output(output: dict[str, Any], image_note: str | None = None) -> str:
    """One nbformat output as the plain text Claude reads; `image_note` stands for its image
    when the tool result shows or describes it (llm/images.py)."""
    kind = output.get("output_type")
    if kind == "stream":
        return _clip(_text_of(output.get("text", "")), MAX_OUTPUT_CHARS)
    if kind == "error":
        traceback = _ANSI.sub("", "\n".join(output.get("traceback", [])))
        return _clip(f"{output.get('ename')}: {output.get('evalue')}\n{traceback}", MAX_OUTPUT_CHARS)
    data = output.get("data", {})
    images = [m for m in data if m.startswith("image/")]
    parts = [image_note] if image_note else [f"[{m} displayed]" for m in images]
    if "text/plain" in data:
        parts.append(_clip(_text_of(data["text/plain"]), MAX_OUTPUT_CHARS))
    elif "text/markdown" in data:
        parts.append(_clip(_text_of(data["text/markdown"]), MAX_OUTPUT_CHARS))
    return "\n".join(parts) or f"[{', '.join(data)} displayed]"


_PIP_FAILURE = re.compile(
    r"ERROR: (Could not find a version|No matching distribution)|error: subprocess-exited-with-error"
    r"|Failed to build"
)


def text_problems(outputs: list[dict[str, Any]]) -> list[str]:
    """Silent failures visible in the text: a pip install that did not install."""
    streams = "".join(_text_of(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
    if _PIP_FAILURE.search(streams):
        return ["a package installation failed (see the pip output)"]
    return []


def tool_result(
    tool_use_id: str,
    outputs: list[dict[str, Any]],
    *,
    cell_label: str,
    problems: list[str] = (),  # type: ignore[assignment]
    note: str = "",
    images: CellImages | None = None,
) -> dict[str, Any]:
    """A tool_result block reporting a cell's real outputs (bounded in size). With `images`,
    its content is the text, then the cell's image blocks."""
    failed = any(o.get("output_type") == "error" for o in outputs) or bool(problems)
    notes = images.notes if images is not None else {}
    body = "\n".join(describe_output(o, notes.get(i)) for i, o in enumerate(outputs))
    body = body or "(the cell ran and printed nothing)"
    text = f"{cell_label}:\n{body}"
    if problems:
        text += "\n\nThe cell ran, but " + "; ".join(problems) + "."
    text = _clip(text, MAX_RESULT_CHARS)
    if note:
        text += f"\n\n{note}"
    content: str | list[dict[str, Any]] = text
    if images is not None and images.blocks:
        content = [{"type": "text", "text": text}, *images.blocks]
    return {"type": "tool_result", "tool_use_id": tool_use_id, "content": content, "is_error": failed}


def unknown_tool_result(tool_use_id: str, name: str) -> dict[str, Any]:
    return {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": f"There is no tool named {name!r}; use {RUN_CODE}.",
        "is_error": True,
    }
