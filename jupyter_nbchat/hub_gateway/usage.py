"""What a Messages API call cost, read from the answer as it passes through unchanged.

A streamed answer states its input tokens (and prompt-cache figures) in `message_start` and
its final output tokens in `message_delta`; a plain answer has one `usage` object. Counting
from the answer itself is how the API bills, so the gateway never guesses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Usage:
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    @property
    def total(self) -> int:
        """What a token budget is charged: every input token (cached or not) and the output."""
        return self.input_tokens + self.output_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens

    def update(self, usage: dict[str, Any] | None) -> None:
        for name, value in (usage or {}).items():
            if name in asdict(self) and name != "model" and isinstance(value, int):
                setattr(self, name, value)

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Usage:
        usage = cls(model=str(message.get("model", "")))
        usage.update(message.get("usage"))
        return usage


class StreamUsage:
    """Fed the raw bytes of a `text/event-stream` answer in the chunks they arrive in (an
    event may be split anywhere); `usage` holds the figures seen so far."""

    def __init__(self) -> None:
        self.usage = Usage()
        self._buffer = b""

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                self._data(line[5:].strip())

    def _data(self, raw: bytes) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        if event.get("type") == "message_start":
            message = event.get("message") or {}
            self.usage.model = str(message.get("model", ""))
            self.usage.update(message.get("usage"))
        elif event.get("type") == "message_delta":
            self.usage.update(event.get("usage"))  # output_tokens here is the running total
