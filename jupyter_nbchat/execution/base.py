"""The executor interface: every executor returns nbformat v4 outputs.

Files live at the same paths relative to the notebook in every executor, so the
generated code is identical and the exported notebook runs unchanged locally.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .outputs import CellOutputs


@dataclass(frozen=True)
class LocalFile:
    """A workspace file the code may read, by its path relative to the notebook's folder."""

    relative_path: str  # e.g. "data/shoes.csv"; POSIX separators, never absolute or "..".
    absolute_path: Path  # where it lives on the server's disk
    size: int
    sha256: str


@dataclass
class ChangedFile:
    """A file a cell created or changed in the working directory."""

    relative_path: str
    size: int
    copied: bool  # copied back into the workspace next to the notebook
    reason: str = ""  # why not copied (e.g. over the size limit)


@dataclass
class ExecutionResult:
    """What one cell produced. `outputs` are nbformat v4 output dicts."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None
    timed_out: bool = False
    changed_files: list[ChangedFile] = field(default_factory=list)
    #: Things the person should be told (e.g. "the sandbox expired; a new one was started").
    notices: list[str] = field(default_factory=list)

    @property
    def error(self) -> dict[str, Any] | None:
        return next((o for o in self.outputs if o.get("output_type") == "error"), None)


@dataclass
class SyncReport:
    uploaded: list[str] = field(default_factory=list)  # relative paths sent this time
    unchanged: list[str] = field(default_factory=list)  # already there with the same sha256
    bytes_sent: int = 0


class Executor(abc.ABC):
    """Runs generated cells for one notebook (one chat)."""

    #: Shown to the person and told to Claude ("kernel" or "e2b").
    name: str = ""

    @abc.abstractmethod
    async def ensure_ready(self) -> None:
        """Start (or attach to) the runtime; cheap when it is already up."""

    @abc.abstractmethod
    async def sync_files(self, files: list[LocalFile]) -> SyncReport:
        """Make `files` readable by the code at their relative paths; unchanged ones cost nothing."""

    #: The outputs of the cell running now, or of the last one (also after a cancelled
    #: `run_cell`: what it printed until it was stopped). Set by `run_cell`.
    live: CellOutputs | None = None

    @abc.abstractmethod
    async def run_cell(
        self, code: str, timeout: float, on_output: Callable[[], None] | None = None
    ) -> ExecutionResult:
        """Run `code`, interrupting it after `timeout` seconds.

        `on_output()` is called whenever the outputs changed; read them from `self.live`
        (`outputs()`, `execution_count`). When the caller is cancelled, the cell is
        interrupted first and `self.live` keeps what it printed until then."""

    @abc.abstractmethod
    async def run_hidden(self, code: str, timeout: float = 30.0) -> str:
        """Run `code` invisibly (no history, no cell) and return what it printed."""

    @abc.abstractmethod
    async def interrupt(self) -> None:
        """Stop whatever is running now."""

    @abc.abstractmethod
    async def restart(self) -> None:
        """A fresh runtime: variables are gone, files stay available."""

    def state(self) -> dict[str, Any]:
        """What to remember in the notebook's metadata to find this runtime again."""
        return {}

    async def close(self) -> None:
        """Release what this executor holds; never raises."""
