"""Every message that crosses the wire, as typed models (mirrored in src/types.ts).

See docs/protocol.md for the contract these implement.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    "policy",
    "internal",
]


class Policy(BaseModel):
    """The administrator's limits (NbChat traits), as the panel shows them; no secret."""

    #: Model ids a request may name; empty: any.
    allowed_models: list[str] = Field(default_factory=list)
    #: Executors a chat may use; empty: both.
    allowed_executors: list[ExecutorName] = Field(default_factory=list)
    #: Every generated cell waits for the person's Run or Skip.
    force_review: bool = False
    #: Most tokens (input and output, cached input included) one question may spend; 0: no cap.
    max_tokens_per_turn: int = 0
    #: One sentence per limit in force, keyed "models", "executors", "review", "tokens".
    reasons: dict[str, str] = Field(default_factory=dict)


class Status(BaseModel):
    """What the panel needs to know about the server; never carries a secret."""

    version: str
    model: str
    executor: ExecutorName
    #: An E2B key is configured, so a chat may choose the sandbox.
    e2b_available: bool = False
    has_api_key: bool
    api_key_help: str
    policy: Policy = Field(default_factory=Policy)


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
    """One turn as kept in the notebook's metadata.nbchat.turns (see record.py)."""

    model_config = ConfigDict(extra="ignore")

    turn_id: str
    question: str = ""
    answer: str | None = None
    status: str = "done"
    #: Records made before every turn had one exist only for turns with these cells off.
    question_answer_cells: bool = False
    cells: list[dict[str, Any]] = Field(default_factory=list)
    replaced: list[dict[str, Any]] = Field(default_factory=list)
    restore: list[dict[str, Any]] = Field(default_factory=list)
    skipped: list[dict[str, Any]] = Field(default_factory=list)
    #: {checked, unverified}: counts of the answer's numbers (llm/numbers.py); None when unchecked.
    numbers: dict[str, int] | None = None
    #: {model, system_prompt_sha256, files: [{path, sha256}], executor, packages: {name: version}}:
    #: what produced the answer (the `provenance` event); None for turns recorded before it.
    provenance: dict[str, Any] | None = None
    #: {cell_id, action}: the notebook cell the turn was asked about (the `focus` event).
    focus: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _tolerant(cls, raw: Any) -> Any:
        """A hand-edited record reads as far as it makes sense, never fails."""
        if not isinstance(raw, dict):
            return raw
        clean = dict(raw)
        for key, default in (("question", ""), ("answer", None), ("status", "done")):
            if not isinstance(clean.get(key), str):
                clean[key] = default
        clean["question_answer_cells"] = clean.get("question_answer_cells") is True
        for key in ("cells", "replaced", "restore", "skipped"):
            value = clean.get(key)
            clean[key] = [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []
        numbers = clean.get("numbers")
        if isinstance(numbers, dict) and all(isinstance(numbers.get(k), int) for k in ("checked", "unverified")):
            clean["numbers"] = {"checked": numbers["checked"], "unverified": numbers["unverified"]}
        else:
            clean["numbers"] = None
        provenance = clean.get("provenance")
        clean["provenance"] = dict(provenance) if isinstance(provenance, dict) else None
        focus = clean.get("focus")
        clean["focus"] = dict(focus) if isinstance(focus, dict) and isinstance(focus.get("cell_id"), str) else None
        return clean


class NotebookRef(BaseModel):
    """A notebook, by its path relative to the server root."""

    model_config = ConfigDict(extra="forbid")

    notebook_path: str = Field(min_length=1, max_length=4096)

    @field_validator("notebook_path")
    @classmethod
    def _notebook_path(cls, value: str) -> str:
        parts = value.replace("\\", "/").split("/")
        if value.startswith("/") or ".." in parts or "\x00" in value:
            raise ValueError("the notebook path must be relative to the server root")
        if not value.endswith(".ipynb"):
            raise ValueError("the notebook path must end in .ipynb")
        return value


class ChatRequest(NotebookRef):
    """What identifies a chat and its runtime: the notebook, its files, its executor."""

    #: Attached data files, relative to the server root.
    attachments: list[str] = Field(default_factory=list, max_length=100)
    context_level: Literal["headers", "schema", "sample"] | None = None
    #: Per-chat executor choice; None: the server's default.
    executor: ExecutorName | None = None
    #: The chat's E2B sandbox (and code context) from the notebook's metadata, to reconnect.
    sandbox_id: str | None = Field(default=None, max_length=200)
    context_id: str | None = Field(default=None, max_length=200)


class CellFocus(BaseModel):
    """A turn about one notebook cell (any cell, the person's own too): "Fix with chat" on
    its error, "Explain", or a question "about this cell". A fix replaces that cell."""

    model_config = ConfigDict(extra="forbid")

    cell_id: str = Field(min_length=1, max_length=200)
    action: Literal["fix", "explain", "ask"]


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
    #: Claude sees the images its cells draw (the person's setting); None: NbChat.images_to_claude.
    images_to_claude: bool | None = None
    #: The notebook's metadata.nbchat as the browser has it; the turn folds its events onto
    #: it. None: the saved file's.
    record: dict[str, Any] | None = None
    #: The cell this turn is about; it must be among the notebook's cells.
    focus: CellFocus | None = None

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class WarmRequest(ChatRequest):
    """Start a chat's executor and upload its files early (when a file is attached)."""


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


class RecordEvent(Event):
    """An event that changes the notebook's record: `record` is the whole metadata.nbchat
    after it (set by Turn.emit; the panel stores it as is). Stripped from an event in the
    log once a later one carries a newer record."""

    record: dict[str, Any] | None = None


class TurnStarted(RecordEvent):
    type: Literal["turn_started"] = "turn_started"
    notebook_path: str
    question: str
    executor: ExecutorName
    #: False: store question and answer in metadata.nbchat.turns, not as cells.
    question_answer_cells: bool = True


class Focus(RecordEvent):
    """The turn is about this cell, as it was when asked (`index`: its place in the
    notebook). A fix that replaces it records it in the turn's `restore`, for undo."""

    type: Literal["focus"] = "focus"
    cell_id: str
    action: Literal["fix", "explain", "ask"]
    cell: dict[str, Any]
    index: int


class TextDelta(Event):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ThinkingDelta(Event):
    """What the model writes while it thinks or between tool calls (today's models return
    that text as thinking blocks): shown to the person, never part of the answer."""

    type: Literal["thinking_delta"] = "thinking_delta"
    text: str


class CodeDelta(Event):
    type: Literal["code_delta"] = "code_delta"
    tool_use_id: str
    code: str


class CellRunning(Event):
    type: Literal["cell_running"] = "cell_running"
    tool_use_id: str
    code: str


class CellStarted(RecordEvent):
    """A generated code cell starts running now: insert it (in place of `replaces`), running."""

    type: Literal["cell_started"] = "cell_started"
    cell: dict[str, Any]
    #: The failed cell (fix loop) or the proposal (review mode) it takes the place of.
    replaces: str | None = None


class CellOutputsSnapshot(Event):
    """The whole current output list of a running cell (a snapshot, not a delta)."""

    type: Literal["cell_outputs"] = "cell_outputs"
    cell_id: str
    outputs: list[dict[str, Any]]
    execution_count: int | None = None


class CellEvent(RecordEvent):
    """A finished cell; a code cell has the id of its `cell_started`."""

    type: Literal["cell"] = "cell"
    role: CellRole
    cell: dict[str, Any]
    #: id of the failed cell this fixed cell replaces in the notebook.
    replaces: str | None = None


class CellProposed(RecordEvent):
    """Review mode: an unexecuted cell to insert; it runs after the person's decision."""

    type: Literal["cell_proposed"] = "cell_proposed"
    tool_use_id: str
    cell: dict[str, Any]
    replaces: str | None = None


class CellSkipped(RecordEvent):
    """Review mode: the proposal was skipped (or the turn stopped): remove it from the
    notebook, and put back the failed cell it had replaced, if any."""

    type: Literal["cell_skipped"] = "cell_skipped"
    cell_id: str


class Phase(Event):
    """What the turn is doing now, for the panel's status line."""

    type: Literal["phase"] = "phase"
    phase: Literal["thinking", "writing_code", "reviewing", "running", "fixing", "answering", "verifying"]
    attempt: int | None = None
    max_attempts: int | None = None


class Manifest(RecordEvent):
    """The attached files and the exact text Claude was told about them."""

    type: Literal["manifest"] = "manifest"
    files: list[dict[str, Any]]
    prompt: str
    level: str


class ExecutorState(RecordEvent):
    """Where this chat's cells run; `state` goes into the notebook's metadata.nbchat."""

    type: Literal["executor_state"] = "executor_state"
    executor: ExecutorName
    state: dict[str, Any] = Field(default_factory=dict)


class Provenance(RecordEvent):
    """What the turn asks Claude with, sent once its system prompt is built: the model, sha256
    of the exact `system` blocks (canonical JSON, llm/context.system_sha256), the attached
    files' sha256, the executor and the package versions it reported (empty while a sandbox
    has not reported them yet)."""

    type: Literal["provenance"] = "provenance"
    model: str
    system_prompt_sha256: str
    files: list[dict[str, str]] = Field(default_factory=list)
    executor: ExecutorName
    packages: dict[str, str] = Field(default_factory=dict)


class FilesChanged(Event):
    """Files a cell created or changed; `path` is relative to the server root."""

    type: Literal["files_changed"] = "files_changed"
    files: list[dict[str, Any]]


class Notice(Event):
    """Something the person should know that is not an error (e.g. a sandbox was replaced)."""

    type: Literal["notice"] = "notice"
    text: str


class Answer(RecordEvent):
    type: Literal["answer"] = "answer"
    text: str
    #: Numbers of `text` the outputs do not show (llm/numbers.py): {text, start, end (code
    #: point offsets into `text`), reason ("not_found" | "not_in_cell"), cell, occurrence}.
    unverified: list[dict[str, Any]] = Field(default_factory=list)
    #: How many numbers were checked; None when checking is off (NbChat.verify_numbers).
    checked: int | None = None


class Usage(RecordEvent):
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


class TurnFinished(RecordEvent):
    type: Literal["turn_finished"] = "turn_finished"
    status: TurnStatus
    #: No panel followed the turn to its end (write "browser"): the server wrote its cells
    #: into the notebook on disk (docs/protocol.md says what the panel does then).
    saved_by_server: bool = False


class RecordChanged(RecordEvent):
    """The chat's settings changed during the turn (POST nbchat/record); `change` holds the
    new settings (attachments, context_level, executor) the turn folded in."""

    type: Literal["record"] = "record"
    change: dict[str, Any]


# --- The record, undo and re-run routes. ---


class RecordChange(BaseModel):
    """Exactly one change to the chat's settings."""

    model_config = ConfigDict(extra="forbid")

    attach: list[str] | None = Field(default=None, min_length=1, max_length=100)
    detach: str | None = Field(default=None, min_length=1, max_length=4096)
    context_level: Literal["headers", "schema", "sample"] | None = None
    executor: ExecutorName | None = None
    #: The chat's database connections by name (NbChat.databases), the whole list; [] for none.
    databases: list[str] | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _exactly_one(self) -> RecordChange:
        if len(self.model_fields_set) != 1:
            raise ValueError("name exactly one of attach, detach, context_level, executor, databases")
        return self


class RecordRequest(NotebookRef):
    record: dict[str, Any] | None = None
    change: RecordChange


class RecordAnswer(BaseModel):
    record: dict[str, Any]
    #: What Claude will be told about the attachments ("" without any).
    prompt: str


class UndoRequest(NotebookRef):
    turn_id: str = Field(min_length=1, max_length=200)
    record: dict[str, Any] | None = None
    #: The notebook's cells as the browser has them.
    cells: list[NotebookCell] = Field(default_factory=list, max_length=5_000)


class UndoPlan(BaseModel):
    turn_id: str
    #: Cells the turn added that are still in the notebook.
    remove: list[str]
    #: Those among `remove` whose source differs from what the turn wrote.
    edited: list[str]
    #: Cells the turn had replaced or removed, to put back at `index`.
    restore: list[dict[str, Any]]
    #: metadata.nbchat without that turn's TurnRecord (usage kept).
    record: dict[str, Any]
    summary: dict[str, int]


class RerunRequest(NotebookRef):
    codes: list[str] = Field(default_factory=list, max_length=5_000)


class RerunFailure(BaseModel):
    index: int
    ename: str
    evalue: str


class RerunResult(BaseModel):
    #: Codes that ran without error (in order, from the first).
    ran: int
    #: The code that failed, if one did (re-running stops there).
    failed: list[RerunFailure]


# --- Verify notebook: run every code cell again in a fresh runtime and compare. ---

VerifyStatusName = Literal["running", "done", "error", "cancelled"]


class VerifyRequest(NotebookRef):
    #: Where the fresh run happens; None: the chat's executor (the record's), else the server's.
    executor: ExecutorName | None = None
    #: The notebook's cells as the browser has them; None: read the saved file.
    cells: list[NotebookCell] | None = Field(default=None, max_length=5_000)
    #: The notebook's metadata.nbchat as the browser has it; None: the saved file's.
    record: dict[str, Any] | None = None


class VerifyCreated(BaseModel):
    verify_id: str


class VerifyCell(BaseModel):
    """A code cell whose fresh outputs differ from the saved ones."""

    cell_id: str | None
    #: Its place among all the notebook's cells (0-based).
    index: int
    #: The saved `In [n]`, how the person and the answers name it.
    execution_count: int | None
    #: Short sentences, e.g. "stdout differs: saved '5', now '4'".
    differences: list[str]


class VerifyAnswer(BaseModel):
    """A turn's answer checked against the fresh outputs (llm/numbers.py)."""

    turn_id: str
    question: str
    checked: int
    #: The numbers' text as the answer writes them, found nowhere in the fresh run.
    missing: list[str]


class VerifyReport(BaseModel):
    executor: ExecutorName
    #: Code cells run (empty ones are skipped); same + different == total.
    total: int
    same: int
    different: int
    cells: list[VerifyCell]
    answers: list[VerifyAnswer]
    elapsed_seconds: float


class VerifyStatus(BaseModel):
    verify_id: str
    notebook_path: str
    status: VerifyStatusName
    ran: int
    total: int
    report: VerifyReport | None = None
    #: Why the verification stopped (status "error").
    message: str | None = None
