"""One cell's outputs as nbformat v4, accumulated live and bounded; used by every executor.

Follows nbclient's rules: kernel outputs come only from `nbformat.v4.output_from_msg`,
`clear_output(wait=True)` clears on the next output, display ids are honoured (a new
`display_data` or an `update_display_data` with an id updates every output showing it), and
consecutive stream chunks of the same name are joined.

Stream text is folded as a terminal shows it: a `\\r` moves back to the start of the line and
what follows overwrites it (so a tqdm bar ends as one line; `\\r\\n` is a plain newline). The
stream text kept per cell is bounded by `max_chars`: past it the middle of a stream output is
dropped (its first and last halves are kept) and a line `[… N characters of output
truncated …]` says so; a stream output that starts after others (stdout and stderr taking
turns) gets what the earlier ones left of the bound. Every character is copied a bounded
number of times, so 20 MB of prints cost linear time.

`on_change()` is called after every change; `outputs()` is a snapshot (fresh dicts).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from nbformat.v4 import output_from_msg

OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}
#: Default bound on the stream text kept per output (NbChat.max_output_chars).
MAX_OUTPUT_CHARS = 1_000_000


def fold_carriage_returns(line: str) -> str:
    """A line without newline as a terminal shows it: each `\\r` segment overwrites the start."""
    shown = ""
    for segment in line.split("\r"):
        shown = segment + shown[len(segment) :]
    return shown


def truncation_note(dropped: int) -> str:
    return f"\n[… {dropped:,} characters of output truncated …]\n"


class StreamText:
    """The text of one stream output: head and tail kept, the middle counted, the current
    line open to `\\r` overwrites."""

    def __init__(self, name: str, max_chars: int | None) -> None:
        self.name = name
        self._head_limit = None if max_chars is None else max_chars // 2
        self._tail_limit = None if max_chars is None else max_chars - max_chars // 2
        self._line_limit = max_chars
        self._head: list[str] = []
        self._head_len = 0
        self._tail: deque[str] = deque()
        self._tail_len = 0
        self._tail_offset = 0  # characters of _tail[0] already dropped
        self.dropped = 0
        self._line: list[str] = []  # the line being written (no newline yet)
        self._line_len = 0
        self._col = 0  # the cursor within that line

    def write(self, text: str) -> None:
        first = text.find("\n")
        if first < 0:
            self._type(text)
            return
        self._type(text[:first])
        self._commit("".join(self._line) + "\n")
        self._line, self._line_len, self._col = [], 0, 0
        last = text.rfind("\n")
        middle = text[first + 1 : last + 1]  # whole lines, kept in one piece unless one has a \r
        if "\r" in middle:
            middle = "".join(fold_carriage_returns(m) + "\n" for m in middle[:-1].split("\n"))
        if middle:
            self._commit(middle)
        self._type(text[last + 1 :])

    def _type(self, part: str) -> None:
        """Text without newline at the cursor; each `\\r` moves the cursor to the line's start."""
        for index, segment in enumerate(part.split("\r")):
            if index:
                self._col = 0
            if not segment:
                continue
            if self._col == self._line_len:
                self._line.append(segment)
                self._line_len += len(segment)
            else:
                line = "".join(self._line)
                line = line[: self._col] + segment + line[self._col + len(segment) :]
                self._line, self._line_len = [line], len(line)
            self._col += len(segment)
        if self._line_limit is not None and self._line_len > self._line_limit:
            # A line this long is not redrawn in place: keep it as written so far.
            self._commit("".join(self._line))
            self._line, self._line_len, self._col = [], 0, 0

    def _commit(self, text: str) -> None:
        """Finished text: into the head while it has room, then into the bounded tail."""
        if self._head_limit is None:
            self._head.append(text)
            self._head_len += len(text)
            return
        room = self._head_limit - self._head_len
        if room > 0:
            taken = text[:room]
            self._head.append(taken)
            self._head_len += len(taken)
            text = text[room:] if len(text) > room else ""
        if not text:
            return
        if len(text) >= self._tail_limit:  # it replaces the whole tail
            cut = len(text) - self._tail_limit
            self.dropped += self._tail_len + cut
            self._tail.clear()
            self._tail_len = self._tail_offset = 0
            text = text[cut:]
            if not text:
                return
        self._tail.append(text)
        self._tail_len += len(text)
        excess = self._tail_len - self._tail_limit
        while excess > 0:
            first = len(self._tail[0]) - self._tail_offset
            if first <= excess:
                self._tail.popleft()
                self._tail_offset = 0
                taken = first
            else:
                self._tail_offset += excess
                taken = excess
            self._tail_len -= taken
            self.dropped += taken
            excess -= taken
        if self._tail_offset > 65_536 and 2 * self._tail_offset > len(self._tail[0]):
            # Drop the dead start of a big piece (each such copy at least halves it).
            self._tail[0] = self._tail[0][self._tail_offset :]
            self._tail_offset = 0

    @property
    def kept(self) -> int:
        """Characters of text kept (the truncation note aside)."""
        return self._head_len + self._tail_len + self._line_len

    def text(self, limit: int | None = None) -> str:
        """The text kept; at most `limit` characters of it (its start and end) when given."""
        head = "".join(self._head)
        self._head = [head] if head else []
        tail = "".join(self._tail)[self._tail_offset :]
        self._tail = deque([tail] if tail else [])
        self._tail_offset = 0
        line = "".join(self._line)
        self._line = [line] if line else []
        end, dropped = tail + line, self.dropped
        if limit is not None and len(head) + len(end) > limit:
            if not dropped:  # one text without a gap: its end may come from the head
                head, end = head + end, ""
            source = end or head
            shown_head, shown_end = head[: limit // 2], source[max(len(source) - (limit - limit // 2), 0) :]
            dropped += len(head) + len(end) - len(shown_head) - len(shown_end)
            head, end = shown_head, shown_end
        note = truncation_note(dropped) if dropped else ""
        return head + note + end


class CellOutputs:
    """Accumulates the outputs of one execution; `handle()` takes kernel iopub messages,
    `stream()`, `display()` and `add()` take outputs from elsewhere (E2B)."""

    def __init__(self, max_chars: int | None = MAX_OUTPUT_CHARS, on_change: Callable[[], None] | None = None) -> None:
        self.max_chars = max_chars
        self.on_change = on_change
        self.execution_count: int | None = None
        #: nbformat output dicts, except streams, which are StreamText until `outputs()`.
        self._items: list[dict[str, Any] | StreamText] = []
        self._clear_before_next = False
        self._display_ids: dict[str, list[int]] = {}
        self._kept = 0  # stream characters kept by stream outputs that are complete

    # -- kernel messages --------------------------------------------------------

    def handle(self, msg: dict[str, Any]) -> None:
        msg_type = msg["header"]["msg_type"]
        content = msg["content"]
        if msg_type == "execute_input":
            self.execution_count = content.get("execution_count")
        elif msg_type == "clear_output":
            self.clear(wait=bool(content.get("wait")))
        elif msg_type == "update_display_data":
            self._update_display(_display_id(content), content)
        elif msg_type == "stream":
            self.stream(content.get("name", "stdout"), content.get("text", ""))
        elif msg_type in OUTPUT_TYPES:
            out = dict(output_from_msg(msg))
            if msg_type == "execute_result":
                self.execution_count = content.get("execution_count", self.execution_count)
            self.display(out, _display_id(content))

    # -- outputs ----------------------------------------------------------------

    def stream(self, name: str, text: str) -> None:
        self._before_output()
        last = self._items[-1] if self._items else None
        if not (isinstance(last, StreamText) and last.name == name):
            room = None if self.max_chars is None else max(self.max_chars - self._kept, 0)
            last = StreamText(name, room)
            self._append(last)
        last.write(text)
        self._changed()

    def display(self, output: dict[str, Any], display_id: str | None = None) -> None:
        """A rich output (display_data, execute_result, error); one with a display id also
        updates the earlier outputs showing that id, as nbclient does."""
        self._before_output()
        if display_id:
            self._update_display(display_id, output, notify=False)
            self._display_ids.setdefault(display_id, []).append(len(self._items))
        self._append(output)
        self._changed()

    def update_display(self, display_id: str, data: dict[str, Any], metadata: dict[str, Any]) -> None:
        """Every output showing `display_id` now shows `data` (an `update_display_data`)."""
        self._update_display(display_id, {"data": data, "metadata": metadata})

    def add(self, output: dict[str, Any]) -> None:
        """An output we made ourselves (e.g. a timeout error)."""
        self._append(output)
        self._changed()

    def _append(self, item: dict[str, Any] | StreamText) -> None:
        """A new output; a stream output before it is complete and counts against the bound."""
        last = self._items[-1] if self._items else None
        if isinstance(last, StreamText):
            self._kept += last.kept
        self._items.append(item)

    def clear(self, wait: bool = False) -> None:
        if wait:
            self._clear_before_next = True
            return
        self._clear()
        self._changed()

    def _before_output(self) -> None:
        if self._clear_before_next:
            self._clear()

    def _clear(self) -> None:
        self._items.clear()
        self._display_ids.clear()
        self._clear_before_next = False
        self._kept = 0

    def _update_display(self, display_id: str | None, content: dict[str, Any], notify: bool = True) -> None:
        for index in self._display_ids.get(display_id or "", []):
            item = self._items[index]
            if isinstance(item, dict):
                item["data"] = content.get("data", {})
                item["metadata"] = content.get("metadata", {})
        if notify and self._display_ids.get(display_id or ""):
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- reading ----------------------------------------------------------------

    def outputs(self, stream_chars: int | None = None) -> list[dict[str, Any]]:
        """The outputs now, as fresh nbformat v4 dicts; with `stream_chars`, each stream output
        shows at most that many characters of what is kept (its start and end, and a note)."""
        outputs = []
        for item in self._items:
            if isinstance(item, StreamText):
                outputs.append({"output_type": "stream", "name": item.name, "text": item.text(stream_chars)})
                continue
            out = dict(item)
            if out["output_type"] == "execute_result" and out.get("execution_count") is None:
                out["execution_count"] = self.execution_count
            outputs.append(out)
        return outputs

    @property
    def has_error(self) -> bool:
        return any(isinstance(i, dict) and i.get("output_type") == "error" for i in self._items)

    def stdout(self) -> str:
        """Everything printed to stdout (for hidden runs that print one answer)."""
        return "".join(o["text"] for o in self.outputs() if o["output_type"] == "stream" and o["name"] == "stdout")

    def error(self) -> dict[str, Any] | None:
        return next((o for o in self._items if isinstance(o, dict) and o.get("output_type") == "error"), None)


def _display_id(content: dict[str, Any]) -> str | None:
    return (content.get("transient") or {}).get("display_id")


def error_output(ename: str, evalue: str) -> dict[str, Any]:
    """An nbformat error output for failures that happen outside the code."""
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
