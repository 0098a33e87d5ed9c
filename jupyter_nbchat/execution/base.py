"""The executor interface: every executor returns nbformat v4 outputs."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ExecutionResult:
    """What one cell produced. `outputs` are nbformat v4 output dicts."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None
    timed_out: bool = False

    @property
    def error(self) -> dict[str, Any] | None:
        return next((o for o in self.outputs if o.get("output_type") == "error"), None)


class Executor(abc.ABC):
    """Runs generated cells for one notebook."""

    #: Shown to the person and told to Claude ("kernel" or "e2b").
    name: str = ""

    @abc.abstractmethod
    async def ensure_ready(self) -> None:
        """Start (or attach to) the runtime; cheap when it is already up."""

    @abc.abstractmethod
    async def run_cell(self, code: str, timeout: float) -> ExecutionResult:
        """Run `code`, interrupting it after `timeout` seconds."""

    @abc.abstractmethod
    async def run_hidden(self, code: str, timeout: float = 30.0) -> str:
        """Run `code` invisibly (no history, no cell) and return what it printed."""

    @abc.abstractmethod
    async def interrupt(self) -> None:
        """Stop whatever is running now."""

    async def close(self) -> None:
        """Release client resources; never raises. The runtime itself may live on."""
