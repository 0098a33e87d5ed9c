"""Every message that crosses the wire, as typed models (mirrored in src/types.ts).

See docs/protocol.md for the contract these implement.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ExecutorName = Literal["kernel", "e2b"]
TurnStatus = Literal["running", "done", "error", "cancelled"]
CellRole = Literal["question", "code", "answer"]
ErrorKind = Literal[
    "no_api_key",
    "invalid_api_key",
    "rate_limited",
    "overloaded",
    "api_error",
    "network",
    "execution",
    "data_file",
    "internal",
]


class Status(BaseModel):
    """What the panel needs to know about the server; never carries a secret."""

    version: str
    model: str
    executor: ExecutorName
    #: An E2B key is configured, so a chat may choose the sandbox.
    e2b_available: bool = False
    has_api_key: bool
    api_key_help: str


class NotebookCell(BaseModel):
    """A cell as it is now in the open notebook (the person's edits included)."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    cell_type: Literal["code", "markdown", "raw"]
    source: str | list[str] = ""
    outputs: list[dict[str, Any]] = Field(default_factory=list)
    execution_count: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(self.source) if isinstance(self.source, list) else self.source

    @property
    def nbchat(self) -> dict[str, Any]:
        tag = self.metadata.get("nbchat")
        return tag if isinstance(tag, dict) else {}


class TurnRecord(BaseModel):
    """One earlier turn as kept in metadata.nbchat.turns when question/answer cells are off."""

    model_config = ConfigDict(extra="ignore")

    turn_id: str
    question: str = ""
    answer: str | None = None


class ChatRequest(BaseModel):
    """What identifies a chat and its runtime: the notebook, its files, its executor."""

    model_config = ConfigDict(extra="forbid")

    notebook_path: str = Field(min_length=1, max_length=4096)
    #: Attached data files, relative to the server root.
    attachments: list[str] = Field(default_factory=list, max_length=100)
    context_level: Literal["headers", "schema", "sample"] | None = None
    #: Per-chat executor choice; None: the server's default.
    executor: ExecutorName | None = None
    #: The chat's E2B sandbox (and code context) from the notebook's metadata, to reconnect.
    sandbox_id: str | None = Field(default=None, max_length=200)
    context_id: str | None = Field(default=None, max_length=200)

    @field_validator("notebook_path")
    @classmethod
    def _notebook_path(cls, value: str) -> str:
        parts = value.replace("\\", "/").split("/")
        if value.startswith("/") or ".." in parts or "\x00" in value:
            raise ValueError("the notebook path must be relative to the server root")
        if not value.endswith(".ipynb"):
            raise ValueError("the notebook path must end in .ipynb")
        return value


class TurnRequest(ChatRequest):
    question: str = Field(min_length=1, max_length=20_000)
    model: str | None = Field(default=None, max_length=200)
    write: Literal["browser", "server"] = "browser"
    #: The notebook's cells as the browser has them; None: read the saved file.
    cells: list[NotebookCell] | None = Field(default=None, max_length=5_000)
    #: Most failed attempts per step before Claude must stop and explain.
    max_fix_attempts: int | None = Field(default=None, ge=1, le=10)
    #: Review mode: each cell waits for the person's Run (possibly edited) or Skip.
    review: bool = False
    #: False: no question/answer cells; the conversation lives in metadata.nbchat.turns.
    question_answer_cells: bool = True
    #: metadata.nbchat.turns of the notebook: turns asked with question/answer cells off.
    turns: list[TurnRecord] | None = Field(default=None, max_length=10_000)

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class WarmRequest(ChatRequest):
    """Start a chat's executor and upload its files early (when a file is attached)."""


class NotebookRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notebook_path: str = Field(min_length=1, max_length=4096)


class Variables(BaseModel):
    variables: list[dict[str, Any]]


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool_use_id: str = Field(min_length=1, max_length=200)
    decision: Literal["run", "skip"]
    #: The code as the person edited it before approving; None: as proposed.
    code: str | None = Field(default=None, max_length=1_000_000)


class TurnCreated(BaseModel):
    turn_id: str


class TurnInfo(BaseModel):
    turn_id: str
    notebook_path: str
    question: str
    status: TurnStatus
    last_seq: int
    #: No panel followed the turn to its end: the server wrote its cells into the notebook.
    saved_by_server: bool = False


class TurnList(BaseModel):
    """Turns of one notebook this server still remembers, oldest first."""

    turns: list[TurnInfo]


# --- Events: server -> panel. `seq` and `turn_id` are stamped by Turn.emit. ---


class Event(BaseModel):
    type: str

    def wire(self, seq: int, turn_id: str) -> dict[str, Any]:
        return {"seq": seq, "turn_id": turn_id, **self.model_dump()}


class TurnStarted(Event):
    type: Literal["turn_started"] = "turn_started"
    notebook_path: str
    question: str
    executor: ExecutorName
    #: False: store question and answer in metadata.nbchat.turns, not as cells.
    question_answer_cells: bool = True


class TextDelta(Event):
    type: Literal["text_delta"] = "text_delta"
    text: str


class CodeDelta(Event):
    type: Literal["code_delta"] = "code_delta"
    tool_use_id: str
    code: str


class CellRunning(Event):
    type: Literal["cell_running"] = "cell_running"
    tool_use_id: str
    code: str


class CellEvent(Event):
    type: Literal["cell"] = "cell"
    role: CellRole
    cell: dict[str, Any]
    #: id of the failed cell this fixed cell replaces in the notebook.
    replaces: str | None = None


class CellProposed(Event):
    """Review mode: an unexecuted cell to insert; it runs after the person's decision."""

    type: Literal["cell_proposed"] = "cell_proposed"
    tool_use_id: str
    cell: dict[str, Any]
    replaces: str | None = None


class CellSkipped(Event):
    """Review mode: the proposal was skipped (or the turn stopped): remove it from the
    notebook, and put back the failed cell it had replaced, if any."""

    type: Literal["cell_skipped"] = "cell_skipped"
    cell_id: str


class Phase(Event):
    """What the turn is doing now, for the panel's status line."""

    type: Literal["phase"] = "phase"
    phase: Literal["thinking", "writing_code", "reviewing", "running", "fixing", "answering"]
    attempt: int | None = None
    max_attempts: int | None = None


class Manifest(Event):
    """The attached files and the exact text Claude was told about them."""

    type: Literal["manifest"] = "manifest"
    files: list[dict[str, Any]]
    prompt: str
    level: str


class ExecutorState(Event):
    """Where this chat's cells run; `state` goes into the notebook's metadata.nbchat."""

    type: Literal["executor_state"] = "executor_state"
    executor: ExecutorName
    state: dict[str, Any] = Field(default_factory=dict)


class FilesChanged(Event):
    """Files a cell created or changed; `path` is relative to the server root."""

    type: Literal["files_changed"] = "files_changed"
    files: list[dict[str, Any]]


class Notice(Event):
    """Something the person should know that is not an error (e.g. a sandbox was replaced)."""

    type: Literal["notice"] = "notice"
    text: str


class Answer(Event):
    type: Literal["answer"] = "answer"
    text: str


class Usage(Event):
    type: Literal["usage"] = "usage"
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    #: Estimated from the model's list price; None for a model we have no price for.
    cost_usd: float | None = None


class ErrorEvent(Event):
    type: Literal["error"] = "error"
    kind: ErrorKind
    message: str


class TurnFinished(Event):
    type: Literal["turn_finished"] = "turn_finished"
    status: TurnStatus
    #: No panel followed the turn to its end (write "browser"): the server wrote its cells
    #: into the notebook on disk (docs/protocol.md says what the panel does then).
    saved_by_server: bool = False
