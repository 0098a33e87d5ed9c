"""One turn: question -> Claude streams -> cells run -> results back -> answer.

A turn runs as a task on the server, independent of any browser connection, and records
every event it emits (numbered) so a panel can follow it live or catch up after a
reconnect. It also keeps the notebook's record (metadata.nbchat, see record.py): each event
that changes it is folded onto it and carries the result.

The log stays bounded while a cell prints: a `cell_outputs` snapshot is dropped once a
later snapshot or the final `cell` of the same cell exists, and an event's `record` is
stripped once a later event carries a newer one. Sequence numbers then have gaps; a
panel replaying the log gets `cell_started`, the latest `cell_outputs`, then live ones.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
from jiter import from_json

from . import notebook
from .errors import NbChatError, TokenCapReached
from .execution import Executor
from .execution.introspection import describe_variables, environment, list_variables, result_problems
from .execution.outputs import error_output
from .record import RECORD_EVENTS, fold_event, note_cell, turn_records
from .llm import context, numbers, out_of_core, prompts, tools
from .llm.images import TurnImages
from .llm.pricing import estimate_cost
from .models import (
    Answer,
    CellEvent,
    CellOutputsSnapshot,
    CellProposed,
    CellRunning,
    CellSkipped,
    CellStarted,
    CodeDelta,
    ErrorEvent,
    Event,
    ExecutorState,
    FilesChanged,
    Focus,
    Manifest,
    NotebookCell,
    Notice,
    Phase,
    Provenance,
    TextDelta,
    ThinkingDelta,
    TurnFinished,
    TurnInfo,
    TurnRequest,
    TurnStarted,
    Usage,
)

#: Content blocks the model thinks in; passed back unchanged within the turn (they are
#: part of `message.content`), never part of the answer.
THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})
#: Minimum seconds between two code snapshots sent for the same tool call.
CODE_DELTA_INTERVAL = 0.1
#: Minimum seconds between two output snapshots sent for the same running cell.
CELL_OUTPUTS_INTERVAL = 0.2
#: Characters of each stream a live snapshot shows (its start and end): a cell printing
#: megabytes costs the wire and the page little while it runs; its final `cell` event
#: carries all that is kept (NbChat.max_output_chars).
LIVE_STREAM_CHARS = 100_000


@dataclass
class TurnSettings:
    model: str
    max_steps: int
    max_tokens: int
    execution_timeout: float
    max_fix_attempts: int = 3
    #: Look the answer's numbers up in the outputs; one correction round when some are missing.
    verify_numbers: bool = True
    #: Claude sees the images its cells draw (llm/images.py): on/off, long side, count per turn.
    images_to_claude: bool = True
    image_max_px: int = 1024
    max_images_per_turn: int = 4
    #: The Messages API's `thinking` parameter for the model (llm/models.thinking_config).
    thinking: dict[str, Any] | None = None
    #: Most tokens the turn may spend (NbChat.max_tokens_per_turn, see TurnRunner._budget); 0: no cap.
    max_tokens_per_turn: int = 0


class Turn:
    """The numbered event log of one turn, and the task that fills it."""

    def __init__(self, request: TurnRequest, record: dict[str, Any] | None = None) -> None:
        self.id = uuid.uuid4().hex
        self.request = request
        self.status = "running"
        #: The notebook's metadata.nbchat with this turn's events folded in so far.
        self.record: dict[str, Any] = record if record is not None else {}
        #: Numbered events; None where a superseded `cell_outputs` was dropped.
        self.events: list[dict[str, Any] | None] = []
        self._seen: dict[str, dict[str, Any]] = {}  # what the record fold keeps of each cell
        self._last_record: int | None = None  # index of the event carrying the record now
        self._snapshots: dict[str, int] = {}  # cell id -> index of its latest cell_outputs
        #: The turn's cells as the notebook should end up (fixed cells replace failed ones).
        self.cells: list[dict[str, Any]] = []
        self.task: asyncio.Task | None = None
        self._wakeup = asyncio.Event()
        #: Review mode: the person's pending decisions, by tool_use_id.
        self._decisions: dict[str, asyncio.Future] = {}
        #: Cells taken out of self.cells by a replacement, by the id of what replaced them.
        self._replaced: dict[str, dict[str, Any]] = {}
        #: The notebook cell this turn is about (request.focus); a fix takes its place.
        self.focus_id = request.focus.cell_id if request.focus else None
        #: Turn cell id -> the notebook cell (not the turn's) it takes the place of.
        self.displaces: dict[str, str] = {}
        #: The runner's work is over; it is persisting the turn (see TurnRunner._finish): the
        #: status the turn ends with, else None.
        self.finishing: str | None = None
        #: No panel followed a `write: "browser"` turn to its end, so the server wrote it.
        self.saved_by_server = False
        self._followers = 0
        self._followed = asyncio.Event()

    def expect_decision(self, tool_use_id: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._decisions[tool_use_id] = future
        return future

    def decide(self, tool_use_id: str, decision: str, code: str | None) -> bool:
        """Record the person's Run/Skip; False when no cell awaits that decision."""
        future = self._decisions.pop(tool_use_id, None)
        if future is None or future.done():
            return False
        future.set_result((decision, code))
        return True

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @contextmanager
    def following(self) -> Iterator[None]:
        """Count one live follower (an events socket) for as long as the block runs."""
        self._followers += 1
        self._followed.set()
        try:
            yield
        finally:
            self._followers -= 1
            if self._followers == 0:
                self._followed.clear()

    @property
    def followers(self) -> int:
        return self._followers

    async def follower(self) -> None:
        """Returns once at least one follower is connected (at once if one is)."""
        await self._followed.wait()

    def info(self) -> TurnInfo:
        return TurnInfo(
            turn_id=self.id,
            notebook_path=self.request.notebook_path,
            question=self.request.question,
            status=self.status,  # type: ignore[arg-type]
            last_seq=len(self.events),
            saved_by_server=self.saved_by_server,
        )

    def emit(self, event: Event) -> None:
        if self.finished:
            return
        if isinstance(event, (CellEvent, CellProposed, CellStarted)):
            self._place(event.cell, event.replaces)
        if isinstance(event, CellSkipped):
            self._unplace(event.cell_id)
        if isinstance(event, TurnFinished):
            self.status = event.status
        wire = event.wire(len(self.events) + 1, self.id)
        if wire["type"] in RECORD_EVENTS:
            self._fold(wire)
        if isinstance(event, CellOutputsSnapshot):
            self._supersede_snapshot(event.cell_id)
            self._snapshots[event.cell_id] = len(self.events)
        elif isinstance(event, CellEvent):
            self._supersede_snapshot(event.cell["id"])
        self.events.append(wire)
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _fold(self, wire: dict[str, Any]) -> None:
        """Fold the event onto the record; it carries the result, older events no longer do."""
        self.record = fold_event(self.record, self.id, wire, self._seen)
        note_cell(self._seen, wire)
        wire["record"] = self.record
        previous, self._last_record = self._last_record, len(self.events)
        older = self.events[previous] if previous is not None else None
        if older is not None:
            self.events[previous] = {k: v for k, v in older.items() if k != "record"}  # type: ignore[index]

    def _supersede_snapshot(self, cell_id: str) -> None:
        index = self._snapshots.pop(cell_id, None)
        if index is not None:
            self.events[index] = None

    def final_events(self) -> list[dict[str, Any] | None]:
        """The log as it ends: for a finishing turn, with the turn_finished it sends next."""
        if self.finishing is None or self.finished:
            return list(self.events)
        return [*self.events, TurnFinished(status=self.finishing).wire(len(self.events) + 1, self.id)]  # type: ignore[arg-type]

    def _place(self, cell: dict[str, Any], replaces: str | None) -> None:
        ids = [c.get("id") for c in self.cells]
        if cell.get("id") in ids:  # a started cell, finished now
            self.cells[ids.index(cell["id"])] = cell
        elif replaces in ids:
            self._replaced[cell["id"]] = self.cells[ids.index(replaces)]
            self.cells[ids.index(replaces)] = cell
            if replaces in self.displaces:
                self.displaces[cell["id"]] = self.displaces.pop(replaces)
        else:
            if replaces is not None and replaces == self.focus_id:
                self.displaces[cell["id"]] = replaces
            self.cells.append(cell)

    def _unplace(self, cell_id: str) -> None:
        """Remove a skipped proposal; a failed cell it had replaced comes back."""
        ids = [c.get("id") for c in self.cells]
        if cell_id not in ids:
            return
        restored = self._replaced.pop(cell_id, None)
        self.displaces.pop(cell_id, None)
        if restored is not None:
            self.cells[ids.index(cell_id)] = restored
        else:
            del self.cells[ids.index(cell_id)]

    async def follow(self, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Every event with seq > after: first those recorded, then live ones until the end."""
        index = max(after, 0)
        while True:
            wakeup = self._wakeup
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if event is not None:
                    yield event
            if self.finished:
                return
            await wakeup.wait()


class FixLoop:
    """Counts failed attempts at the current step; a fixed cell replaces the failed one."""

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts
        self.failed_cell_id: str | None = None
        self.failures = 0

    @property
    def fixing(self) -> bool:
        return self.failed_cell_id is not None

    @property
    def exhausted(self) -> bool:
        return self.failures > self.max_attempts

    def record(self, cell_id: str, failed: bool) -> None:
        if failed:
            self.failed_cell_id = cell_id
            self.failures += 1
        else:
            self.failed_cell_id, self.failures = None, 0

    def note(self) -> str:
        """What Claude is told after a failed attempt."""
        if self.exhausted:
            return (
                f"This step has now failed {self.failures} times. Do not run more code: "
                "tell the person plainly what failed and why."
            )
        left = self.max_attempts - self.failures + 1
        return f"Fix it: call run_code with the complete corrected cell ({left} attempt(s) left)."


class TurnRunner:
    """Drives one turn through Claude and the executor, emitting events as it goes."""

    def __init__(
        self,
        turn: Turn,
        *,
        claude: anthropic.AsyncAnthropic,
        executor: Executor,
        settings: TurnSettings,
        log: logging.Logger,
        cells: list[NotebookCell] | None = None,
        ready: Awaitable[None] | None = None,
        files: Any = None,
        before_finish: Callable[[Turn], Awaitable[None]] | None = None,
        databases_prompt: str = "",
    ) -> None:
        self.turn = turn
        self.claude = claude
        self.executor = executor
        self.settings = settings
        self.log = log
        self.cells = cells or []
        #: Resolves when the executor is up and the attached files are available to it.
        self._ready_source = ready
        self._ready_task: asyncio.Future | None = None
        self._announced: dict[str, Any] | None = None  # the executor state last sent
        self.files = files  # datafiles.InspectResult or None
        #: What Claude is told about the chat's databases (databases/prompt.py); "" without any.
        self.databases_prompt = databases_prompt
        self.before_finish = before_finish
        self.usage = Usage()
        #: Input tokens (cached ones included) of the last Messages API call: the next call
        #: sends at least as much (the conversation only grows).
        self._last_input = 0
        self.fixes = FixLoop(settings.max_fix_attempts)
        self.cell_count = 0
        self.images = TurnImages(
            settings.image_max_px, settings.max_images_per_turn, enabled=settings.images_to_claude
        )

    async def run(self) -> None:
        turn = self.turn
        turn.emit(
            TurnStarted(
                notebook_path=turn.request.notebook_path,
                question=turn.request.question,
                executor=self.executor.name,  # type: ignore[arg-type]
                question_answer_cells=turn.request.question_answer_cells,
            )
        )
        if turn.request.question_answer_cells:
            turn.emit(CellEvent(role="question", cell=notebook.question_cell(turn.id, turn.request.question)))
        focus = self._focus()
        if focus is not None:
            cell = focus[1].model_dump(exclude=None if focus[1].cell_type == "code" else {"outputs", "execution_count"})
            turn.emit(Focus(cell_id=focus[1].id, action=focus[0], cell=cell, index=focus[2]))  # type: ignore[arg-type]
        if self.files is not None:
            turn.emit(
                Manifest(
                    files=[f.model_dump() for f in self.files.files],
                    prompt=self.files.prompt,
                    level=self.files.files[0].level if self.files.files else "headers",
                )
            )
        try:
            answer, check = await self._converse()
        except asyncio.CancelledError:
            await asyncio.shield(self._finish("cancelled"))
            raise
        except Exception as err:  # every failure ends the turn with a message, never silently
            kind, message = describe_failure(err)
            if kind == "internal":
                self.log.exception("nbchat: turn %s failed", turn.id)
            turn.emit(ErrorEvent(kind=kind, message=message))  # type: ignore[arg-type]
            await self._finish("error")
            return
        unverified = check.unverified if check is not None else []
        turn.emit(
            Answer(
                text=answer,
                unverified=[u.wire() for u in unverified],
                checked=check.checked if check is not None else None,
            )
        )
        if turn.request.question_answer_cells:
            turn.emit(CellEvent(role="answer", cell=notebook.answer_cell(turn.id, answer, numbers.note(unverified))))
        await self._finish("done")

    def _focus(self) -> tuple[str, NotebookCell, int] | None:
        """(action, cell, index) of the notebook cell this turn is about, if any."""
        focus = self.turn.request.focus
        if focus is None:
            return None
        index = next((i for i, c in enumerate(self.cells) if c.id == focus.cell_id), None)
        return None if index is None else (focus.action, self.cells[index], index)

    async def _finish(self, status: str) -> None:
        """Last step of every turn: let the owner persist it, then say it is over."""
        self.turn.finishing = status
        if self.before_finish is not None:
            try:
                await self.before_finish(self.turn)
            except Exception:
                self.log.exception("nbchat: finishing turn %s failed", self.turn.id)
        self.turn.emit(TurnFinished(status=status, saved_by_server=self.turn.saved_by_server))  # type: ignore[arg-type]

    async def _converse(self) -> tuple[str, numbers.Check | None]:
        self.turn.emit(Phase(phase="thinking"))
        facts = await self._environment()
        timeout = self.settings.execution_timeout
        where = prompts.describe_environment(self.executor.name, facts, timeout)
        sources = "\n\n".join(p for p in (self._files_text(facts), self.databases_prompt) if p)
        system = context.system_blocks(prompts.system_prompt(), sources)
        self.turn.emit(self._provenance(system, facts))
        earlier = [r for r in turn_records(self.turn.record) if r.turn_id != self.turn.id]
        history, person_cells = context.history_messages(self.cells, earlier)
        variables = ""
        if any(c.cell_type == "code" for c in self.cells):
            await self._until_ready()
            level = self.turn.request.context_level or self.turn.record.get("context_level")
            dtypes = level in ("schema", "sample")  # the person chose to tell Claude types
            variables = describe_variables(await list_variables(self.executor), dtypes=dtypes)
            self._announce()
        focus = self._focus()
        about = context.focus_block(focus[1], focus[2], focus[0]) if focus else None
        if focus is not None:  # told once, whole, in the focus block
            person_cells = [c for c in person_cells if c.id != focus[1].id]
        messages = history + [
            context.question_message(
                self.turn.request.question, person_cells=person_cells, variables=variables, focus=about, environment=where
            )
        ]
        for step in range(self.settings.max_steps + 1):
            must_answer = step == self.settings.max_steps or self.fixes.exhausted
            marked = context.mark_cache_breakpoints(messages, len(history))
            message = await self._stream(system, marked, allow_tools=not must_answer)
            messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]})
            calls = [b for b in message.content if b.type == "tool_use"]
            if not calls:
                answer = "".join(b.text for b in message.content if b.type == "text").strip()
                return await self._check_answer(system, messages, len(history), answer)
            messages.append({"role": "user", "content": [await self._run_tool(c) for c in calls]})
            self.turn.emit(Phase(phase="thinking"))
        raise NbChatError("Claude kept asking to run code past the step limit.")

    def _files_text(self, facts: dict[str, Any]) -> str:
        """What Claude reads about the attached files: their prompt text, with files too big
        for the runtime's memory steered to out-of-core reads (llm/out_of_core.py). When the
        steer changes it, the panel is sent that text (a second manifest), so the chip shows
        what Claude read. A sandbox reports its memory from the second turn (`_environment`)."""
        if self.files is None:
            return ""
        folder = posixpath.dirname(self.turn.request.notebook_path)
        text = out_of_core.steer(self.files.prompt, self.files.files, facts, folder)
        if text != self.files.prompt:
            self.turn.emit(
                Manifest(
                    files=[f.model_dump() for f in self.files.files],
                    prompt=text,
                    level=self.files.files[0].level if self.files.files else "headers",
                )
            )
        return text

    def _provenance(self, system: list[dict[str, Any]], facts: dict[str, Any]) -> Provenance:
        """What this turn asks Claude with (kept in its TurnRecord): model, the system blocks'
        hash, the attached files, the executor and the package versions it reported."""
        files = self.files.files if self.files else []
        packages = facts.get("packages") or {}
        return Provenance(
            model=self.settings.model,
            system_prompt_sha256=context.system_sha256(system),
            files=[{"path": f.path, "sha256": f.sha256} for f in files],
            executor=self.executor.name,  # type: ignore[arg-type]
            packages={str(k): str(v) for k, v in packages.items()},
        )

    async def _check_answer(
        self, system: list[dict[str, Any]], messages: list[dict[str, Any]], history_length: int, answer: str
    ) -> tuple[str, numbers.Check | None]:
        """Look the answer's numbers up in the outputs (llm/numbers.py). If some are missing,
        Claude gets exactly one chance to correct the answer from the outputs; the corrected
        answer replaces the first and is checked again. None: checking is off."""
        if not self.settings.verify_numbers or not answer:
            return answer, None
        check = await self._check_numbers(answer)
        if not check.unverified:
            return answer, check
        self.turn.emit(Phase(phase="verifying"))
        request = {"role": "user", "content": [{"type": "text", "text": numbers.correction_request(check.unverified)}]}
        marked = context.mark_cache_breakpoints([*messages, request], history_length)
        try:
            message = await self._stream(system, marked, allow_tools=False, quiet=True)
        except Exception as err:  # the first answer stands, with its numbers marked
            self.log.warning("nbchat: correcting turn %s's answer failed: %s", self.turn.id, describe_failure(err)[1])
            return answer, check
        corrected = "".join(b.text for b in message.content if b.type == "text").strip()
        if not corrected:
            return answer, check
        return corrected, await self._check_numbers(corrected)

    async def _check_numbers(self, answer: str) -> numbers.Check:
        """The answer against this turn's final cells, the notebook's code cells Claude was
        shown and the question (off the event loop: outputs may be large)."""
        sources = [
            numbers.Source(c.get("execution_count"), notebook.source_text(c), c.get("outputs") or [])
            for c in self.turn.cells
            if c.get("cell_type") == "code"
        ]
        sources += [numbers.Source(c.execution_count, c.text, c.outputs) for c in self.cells if c.cell_type == "code"]
        return await asyncio.to_thread(numbers.check, answer, sources, self.turn.request.question)

    def _ready(self) -> asyncio.Future | None:
        """The executor's preparation as a task, made once (it may arrive as a coroutine)."""
        if self._ready_task is None and self._ready_source is not None:
            self._ready_task = asyncio.ensure_future(self._ready_source)
        return self._ready_task

    async def _until_ready(self) -> None:
        """Wait for the executor (started with the turn, overlapping generation); say where it runs."""
        task = self._ready()
        if task is not None:
            await asyncio.shield(task)
        self._announce()

    def _announce(self) -> None:
        """Say where cells run whenever that changes (first, and when a sandbox that had
        stopped was replaced): the notebook records the runtime actually in use."""
        state = self.executor.state()
        if state != self._announced:
            self._announced = state
            self.turn.emit(ExecutorState(executor=self.executor.name, state=state))  # type: ignore[arg-type]

    async def _environment(self) -> dict[str, Any]:
        """Facts about the runtime ({python, packages}), asked once per executor (the system
        prompt stays cacheable).

        The local kernel answers at once. A sandbox may still be starting: rather than make
        Claude wait for it, its facts are asked once it is up and used from the next turn
        (until then: none, and the turn's provenance lists no packages).
        """
        facts = getattr(self.executor, "environment_facts", None)
        if facts is None and self.executor.name == "kernel":
            await self._until_ready()
            facts = self.executor.environment_facts = await environment(self.executor)  # type: ignore[attr-defined]
        elif facts is None and isinstance(self._ready_source, asyncio.Future):
            asyncio.ensure_future(self._learn_environment(self._ready_source))
        return facts or {}

    async def _learn_environment(self, ready: asyncio.Future) -> None:
        try:
            await asyncio.shield(ready)
            self.executor.environment_facts = await environment(self.executor)  # type: ignore[attr-defined]
        except Exception:  # the turn itself reports executor failures
            self.log.debug("nbchat: environment facts unavailable", exc_info=True)

    async def _stream(
        self, system: list[dict[str, Any]], messages: list[dict[str, Any]], *, allow_tools: bool, quiet: bool = False
    ) -> Any:
        """One Messages API call, streamed: prose and code go to the panel as written
        (`quiet`: no prose, no phase; the caller says what the call is for)."""
        max_tokens = self._budget()
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": messages,
            "tools": tools.TOOLS,
        }
        if self.settings.thinking is not None:
            kwargs["thinking"] = self.settings.thinking
        if not allow_tools:
            kwargs["tool_choice"] = {"type": "none"}
            if not quiet:
                self.turn.emit(Phase(phase="answering"))
        partial: dict[int, str] = {}
        block_ids: dict[int, str] = {}
        thought = False  # a thinking block came in this response
        last_sent: dict[int, float] = {}
        async with self.claude.messages.stream(**kwargs) as stream:
            async for event in stream:
                if event.type == "content_block_start" and event.content_block.type == "tool_use":
                    block_ids[event.index] = event.content_block.id
                    partial[event.index] = ""
                    self.turn.emit(Phase(phase="writing_code"))
                elif event.type == "content_block_start" and event.content_block.type in THINKING_BLOCKS:
                    if not quiet:
                        self.turn.emit(Phase(phase="thinking"))  # the status says so, not "Answering"
                        thought = True
                elif event.type == "content_block_start" and event.content_block.type == "text":
                    if thought and not allow_tools and not quiet:
                        self.turn.emit(Phase(phase="answering"))  # done thinking: the answer comes
                elif event.type != "content_block_delta":
                    continue
                elif event.delta.type == "text_delta" and not quiet:
                    self.turn.emit(TextDelta(text=event.delta.text))
                elif event.delta.type == "thinking_delta" and event.delta.thinking and not quiet:
                    self.turn.emit(ThinkingDelta(text=event.delta.thinking))
                elif event.delta.type == "input_json_delta":
                    index = event.index
                    partial[index] = partial.get(index, "") + event.delta.partial_json
                    now = time.monotonic()
                    if now - last_sent.get(index, 0.0) >= CODE_DELTA_INTERVAL:
                        last_sent[index] = now
                        self._emit_code(block_ids.get(index, ""), partial[index])
            message = await stream.get_final_message()
        self._add_usage(message.usage)
        if max_tokens < self.settings.max_tokens and message.stop_reason == "max_tokens":
            # Cut short by the turn's cap: its tool calls may be incomplete, so none runs.
            raise TokenCapReached(self.settings.max_tokens_per_turn, self._spent(), cut_short=True)
        return message

    def _spent(self) -> int:
        """Tokens the turn has spent so far: input, cached input and output."""
        u = self.usage
        return u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens + u.output_tokens

    def _budget(self) -> int:
        """`max_tokens` for the next Messages API call under NbChat.max_tokens_per_turn:
        TokenCapReached when the call would pass the cap (its input is at least the last
        call's), else what is left of it for the output, at most NbChat.max_tokens."""
        cap = self.settings.max_tokens_per_turn
        if cap <= 0:
            return self.settings.max_tokens
        left = cap - self._spent() - self._last_input
        if left <= 0:
            raise TokenCapReached(cap, self._spent())
        return min(self.settings.max_tokens, left)

    def _emit_code(self, tool_use_id: str, buffer: str) -> None:
        try:
            snapshot = from_json(buffer.encode(), partial_mode="trailing-strings")
        except ValueError:
            return
        if isinstance(snapshot, dict) and isinstance(snapshot.get("code"), str):
            self.turn.emit(CodeDelta(tool_use_id=tool_use_id, code=snapshot["code"]))

    def _add_usage(self, usage: Any) -> None:
        u = self.usage
        self._last_input = (
            (usage.input_tokens or 0)
            + (getattr(usage, "cache_read_input_tokens", 0) or 0)
            + (getattr(usage, "cache_creation_input_tokens", 0) or 0)
        )
        u.input_tokens += usage.input_tokens or 0
        u.output_tokens += usage.output_tokens or 0
        u.cache_read_input_tokens += getattr(usage, "cache_read_input_tokens", 0) or 0
        u.cache_creation_input_tokens += getattr(usage, "cache_creation_input_tokens", 0) or 0
        u.cost_usd = estimate_cost(
            self.settings.model,
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_input_tokens=u.cache_read_input_tokens,
            cache_creation_input_tokens=u.cache_creation_input_tokens,
        )
        self.turn.emit(u.model_copy())

    async def _review(self, tool_use_id: str, code: str, replaces: str | None) -> tuple[str, str] | None:
        """Propose the cell and wait for Run (maybe edited) or Skip; None when skipped."""
        proposed = notebook.code_cell(self.turn.id, code, [], None, tool_use_id)
        decision = self.turn.expect_decision(tool_use_id)
        self.turn.emit(CellProposed(tool_use_id=tool_use_id, cell=proposed, replaces=replaces))
        self.turn.emit(Phase(phase="reviewing"))
        try:
            choice, edited = await decision
        except asyncio.CancelledError:
            self.turn.emit(CellSkipped(cell_id=proposed["id"]))  # stopped: retract the proposal
            raise
        if choice == "skip":
            self.turn.emit(CellSkipped(cell_id=proposed["id"]))
            return None
        return (edited if edited is not None else code), proposed["id"]

    async def _run_tool(self, call: Any) -> dict[str, Any]:
        if call.name != tools.RUN_CODE or not isinstance(call.input, dict) or "code" not in call.input:
            return tools.unknown_tool_result(call.id, call.name)
        if self.fixes.exhausted:
            return {"type": "tool_result", "tool_use_id": call.id, "is_error": True, "content": self.fixes.note()}
        code = str(call.input["code"])
        replaces = self.fixes.failed_cell_id or self._replacement(call.input.get("replaces_cell"))
        fixing = self.fixes.fixing
        if self.turn.request.review:
            decided = await self._review(call.id, code, replaces)
            if decided is None:
                return {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "is_error": True,
                    "content": "The person chose not to run this cell. Do not run it again; "
                    "continue without it or explain what it would have done.",
                }
            code, replaces = decided
        if fixing:
            self.turn.emit(Phase(phase="fixing", attempt=self.fixes.failures, max_attempts=self.fixes.max_attempts))
        else:
            self.turn.emit(Phase(phase="running"))
        self.turn.emit(CodeDelta(tool_use_id=call.id, code=code))
        await self._until_ready()
        self.turn.emit(CellRunning(tool_use_id=call.id, code=code))
        started = notebook.code_cell(self.turn.id, code, [], None, call.id)
        self.turn.emit(CellStarted(cell=started, replaces=replaces))
        result = await self._run_live(started, replaces)
        self._announce()
        cell = {**started, "outputs": result.outputs, "execution_count": result.execution_count}
        self.turn.emit(CellEvent(role="code", cell=cell, replaces=replaces))
        for text in result.notices:
            self.turn.emit(Notice(text=text))
        if result.changed_files:
            folder = posixpath.dirname(self.turn.request.notebook_path)
            self.turn.emit(
                FilesChanged(
                    files=[
                        {
                            "path": posixpath.join(folder, f.relative_path),
                            "size": f.size,
                            "copied": f.copied,
                            "reason": f.reason,
                        }
                        for f in result.changed_files
                    ]
                )
            )
        problems = [] if result.error else tools.text_problems(result.outputs)
        if not result.error and not problems:
            problems = await result_problems(self.executor, result.execution_count)
        self.cell_count += 1
        failed = bool(result.error or problems)
        self.fixes.record(cell["id"], failed)
        label = f"Cell [{result.execution_count}]" if result.execution_count else f"Cell {self.cell_count}"
        images = await self.images.take(result.outputs)
        return tools.tool_result(
            call.id, result.outputs, cell_label=label, problems=problems, note=self.fixes.note() if failed else "",
            images=images,
        )

    def _replacement(self, number: Any) -> str | None:
        """The cell a new one takes the place of when it is not fixing an error: the cell a
        "fix" turn is about, at its first run; or the cell Claude names by its number
        (`replaces_cell`: a chart it found wrong), among this turn's cells and the focus cell."""
        focus = self._focus()
        if focus is not None and focus[0] == "fix" and self.cell_count == 0:
            return focus[1].id
        if not isinstance(number, int) or isinstance(number, bool):
            return None
        for cell in self.turn.cells:
            if cell.get("cell_type") == "code" and cell.get("execution_count") == number:
                return cell.get("id")
        if focus is not None and focus[1].execution_count == number and focus[1].id not in self.turn.displaces.values():
            return focus[1].id
        return None

    async def _run_live(self, cell: dict[str, Any], replaces: str | None) -> Any:
        """Run a started cell, sending its outputs as they come. If it cannot finish (the
        turn was stopped, the executor failed), it still ends: a `cell` event with what it
        printed and the interruption, so no cell stays running in the notebook."""
        live = LiveOutputs(self.turn, self.executor, cell["id"])
        before = self.executor.live
        try:
            return await self.executor.run_cell(cell["source"], self.settings.execution_timeout, on_output=live.changed)
        except BaseException as err:
            ran = self.executor.live if self.executor.live is not before else None
            outputs = ran.outputs() if ran is not None else []
            if not any(o.get("output_type") == "error" for o in outputs):
                stopped = isinstance(err, asyncio.CancelledError)
                message = "The turn was stopped while the cell ran." if stopped else describe_failure(err)[1]
                outputs.append(error_output("KeyboardInterrupt" if stopped else type(err).__name__, message))
            count = ran.execution_count if ran is not None else None
            self.turn.emit(
                CellEvent(role="code", cell={**cell, "outputs": outputs, "execution_count": count}, replaces=replaces)
            )
            raise
        finally:
            live.close()


class LiveOutputs:
    """Sends a running cell's outputs as `cell_outputs` snapshots: at most one per
    CELL_OUTPUTS_INTERVAL (counted from the cell's start, so a quick cell sends none), the
    last change always sent (trailing edge), none once closed."""

    def __init__(self, turn: Turn, executor: Executor, cell_id: str) -> None:
        self.turn = turn
        self.executor = executor
        self.cell_id = cell_id
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._sent_at = self._loop.time()
        self._closed = False

    def changed(self) -> None:
        """The executor's `on_output`: the outputs changed."""
        if self._timer is None and not self._closed:
            delay = max(0.0, self._sent_at + CELL_OUTPUTS_INTERVAL - self._loop.time())
            self._timer = self._loop.call_later(delay, self._send)

    def _send(self) -> None:
        self._timer = None
        outputs = self.executor.live
        if self._closed or outputs is None:
            return
        self._sent_at = self._loop.time()
        self.turn.emit(
            CellOutputsSnapshot(
                cell_id=self.cell_id,
                outputs=outputs.outputs(LIVE_STREAM_CHARS),
                execution_count=outputs.execution_count,
            )
        )

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP client's transport errors: httpx's, and httpx2's (newer anthropic SDKs)."""
    errors: list[type[BaseException]] = [httpx.TransportError]
    try:
        import httpx2

        errors.append(httpx2.TransportError)
    except ImportError:
        pass
    return tuple(errors)


_TRANSPORT_ERRORS = _transport_errors()


def describe_failure(err: BaseException) -> tuple[str, str]:
    """An exception as (ErrorEvent kind, message for the person). Never includes a secret."""
    if isinstance(err, NbChatError):
        return err.kind, str(err)
    if isinstance(err, anthropic.AuthenticationError):
        return "invalid_api_key", "Anthropic rejected the API key (401). Check ANTHROPIC_API_KEY on the server."
    if isinstance(err, anthropic.RateLimitError):
        return "rate_limited", "Claude's rate limit was reached (429) and retries did not help. Try again in a minute."
    if isinstance(err, anthropic.APIStatusError):
        body = err.body if isinstance(err.body, dict) else {}
        error = body.get("error", body) if isinstance(body, dict) else {}
        if err.status_code == 529 or (isinstance(error, dict) and error.get("type") == "overloaded_error"):
            return "overloaded", "Claude is overloaded right now (529). Try again shortly."
        detail = error.get("message") if isinstance(error, dict) else None
        return "api_error", f"Claude's API answered {err.status_code}: {detail or 'no detail'}"
    if isinstance(err, anthropic.APITimeoutError):
        return "network", "The request to Claude timed out."
    if isinstance(err, anthropic.APIConnectionError):
        return "network", "Could not reach Claude's API (network error)."
    if isinstance(err, anthropic.APIError):
        return "api_error", f"Claude's API failed: {err.message}"
    if isinstance(err, _TRANSPORT_ERRORS):  # raised as is while a stream is read
        return "network", (
            "The connection to Claude's API dropped before the answer was complete. "
            "What ran is kept; ask again to go on."
        )
    return "internal", f"Internal error: {type(err).__name__}"
