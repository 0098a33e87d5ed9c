"""One turn: question -> Claude streams -> cells run -> results back -> answer.

A turn runs as a task on the server, independent of any browser connection, and records
every event it emits (numbered) so a panel can follow it live or catch up after a
reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anthropic
from jiter import from_json

from . import notebook
from .errors import NbChatError
from .execution import Executor
from .llm import prompts, tools
from .models import (
    Answer,
    CellEvent,
    CellRunning,
    CodeDelta,
    ErrorEvent,
    Event,
    TextDelta,
    TurnFinished,
    TurnInfo,
    TurnRequest,
    TurnStarted,
    Usage,
)

#: Minimum seconds between two code snapshots sent for the same tool call.
CODE_DELTA_INTERVAL = 0.1


@dataclass
class TurnSettings:
    model: str
    max_steps: int
    max_tokens: int
    execution_timeout: float


class Turn:
    """The numbered event log of one turn, and the task that fills it."""

    def __init__(self, request: TurnRequest) -> None:
        self.id = uuid.uuid4().hex
        self.request = request
        self.status = "running"
        self.events: list[dict[str, Any]] = []
        self.cells: list[dict[str, Any]] = []
        self.task: asyncio.Task | None = None
        self._wakeup = asyncio.Event()

    @property
    def finished(self) -> bool:
        return self.status != "running"

    def info(self) -> TurnInfo:
        return TurnInfo(
            turn_id=self.id,
            notebook_path=self.request.notebook_path,
            question=self.request.question,
            status=self.status,  # type: ignore[arg-type]
            last_seq=len(self.events),
        )

    def emit(self, event: Event) -> None:
        if self.finished:
            return
        if isinstance(event, CellEvent):
            self.cells.append(event.cell)
        if isinstance(event, TurnFinished):
            self.status = event.status
        self.events.append(event.wire(len(self.events) + 1, self.id))
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def follow(self, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Every event with seq > after: first those recorded, then live ones until the end."""
        index = max(after, 0)
        while True:
            wakeup = self._wakeup
            while index < len(self.events):
                yield self.events[index]
                index += 1
            if self.finished:
                return
            await wakeup.wait()


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
        before_finish: Callable[[Turn], Awaitable[None]] | None = None,
    ) -> None:
        self.before_finish = before_finish
        self.turn = turn
        self.claude = claude
        self.executor = executor
        self.settings = settings
        self.log = log
        self.usage = Usage()
        self.cell_count = 0

    async def run(self) -> None:
        turn = self.turn
        turn.emit(
            TurnStarted(
                notebook_path=turn.request.notebook_path,
                question=turn.request.question,
                executor=self.executor.name,  # type: ignore[arg-type]
            )
        )
        turn.emit(CellEvent(role="question", cell=notebook.question_cell(turn.id, turn.request.question)))
        try:
            answer = await self._converse()
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
        turn.emit(Answer(text=answer))
        turn.emit(CellEvent(role="answer", cell=notebook.answer_cell(turn.id, answer)))
        await self._finish("done")

    async def _finish(self, status: str) -> None:
        """Last step of every turn: let the owner persist it, then say it is over."""
        if self.before_finish is not None:
            try:
                await self.before_finish(self.turn)
            except Exception:
                self.log.exception("nbchat: finishing turn %s failed", self.turn.id)
        self.turn.emit(TurnFinished(status=status))  # type: ignore[arg-type]

    async def _converse(self) -> str:
        environment = await self._environment()
        system = prompts.system_prompt(environment)
        messages: list[dict[str, Any]] = [prompts.question_message(self.turn.request.question)]
        for step in range(self.settings.max_steps + 1):
            last_step = step == self.settings.max_steps
            message = await self._stream(system, messages, allow_tools=not last_step)
            messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]})
            calls = [b for b in message.content if b.type == "tool_use"]
            if not calls:
                return "".join(b.text for b in message.content if b.type == "text").strip()
            messages.append({"role": "user", "content": [await self._run_tool(c) for c in calls]})
        raise NbChatError("Claude kept asking to run code past the step limit.")

    async def _environment(self) -> str:
        return (
            f"cells run in the notebook's own Jupyter kernel ({self.executor.name}); "
            f"each cell may run for at most {self.settings.execution_timeout:g} s; "
            "plots display inline."
        )

    async def _stream(self, system: str, messages: list[dict[str, Any]], *, allow_tools: bool) -> Any:
        """One Messages API call, streamed: prose and code go to the panel as written."""
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": self.settings.max_tokens,
            "system": system,
            "messages": messages,
            "tools": tools.TOOLS,
        }
        if not allow_tools:
            kwargs["tool_choice"] = {"type": "none"}
        partial: dict[int, str] = {}
        block_ids: dict[int, str] = {}
        last_sent: dict[int, float] = {}
        async with self.claude.messages.stream(**kwargs) as stream:
            async for event in stream:
                if event.type == "content_block_start" and event.content_block.type == "tool_use":
                    block_ids[event.index] = event.content_block.id
                    partial[event.index] = ""
                elif event.type != "content_block_delta":
                    continue
                elif event.delta.type == "text_delta":
                    self.turn.emit(TextDelta(text=event.delta.text))
                elif event.delta.type == "input_json_delta":
                    index = event.index
                    partial[index] = partial.get(index, "") + event.delta.partial_json
                    now = time.monotonic()
                    if now - last_sent.get(index, 0.0) >= CODE_DELTA_INTERVAL:
                        last_sent[index] = now
                        self._emit_code(block_ids.get(index, ""), partial[index])
            message = await stream.get_final_message()
        self._add_usage(message.usage)
        return message

    def _emit_code(self, tool_use_id: str, buffer: str) -> None:
        try:
            snapshot = from_json(buffer.encode(), partial_mode="trailing-strings")
        except ValueError:
            return
        if isinstance(snapshot, dict) and isinstance(snapshot.get("code"), str):
            self.turn.emit(CodeDelta(tool_use_id=tool_use_id, code=snapshot["code"]))

    def _add_usage(self, usage: Any) -> None:
        u = self.usage
        u.input_tokens += usage.input_tokens or 0
        u.output_tokens += usage.output_tokens or 0
        u.cache_read_input_tokens += getattr(usage, "cache_read_input_tokens", 0) or 0
        u.cache_creation_input_tokens += getattr(usage, "cache_creation_input_tokens", 0) or 0
        self.turn.emit(u.model_copy())

    async def _run_tool(self, call: Any) -> dict[str, Any]:
        if call.name != tools.RUN_CODE or not isinstance(call.input, dict) or "code" not in call.input:
            return tools.unknown_tool_result(call.id, call.name)
        code = str(call.input["code"])
        self.turn.emit(CodeDelta(tool_use_id=call.id, code=code))
        self.turn.emit(CellRunning(tool_use_id=call.id, code=code))
        result = await self.executor.run_cell(code, self.settings.execution_timeout)
        self.cell_count += 1
        cell = notebook.code_cell(self.turn.id, code, result.outputs, result.execution_count, call.id)
        self.turn.emit(CellEvent(role="code", cell=cell))
        label = f"Cell [{result.execution_count}]" if result.execution_count else f"Cell {self.cell_count}"
        return tools.tool_result(call.id, result.outputs, cell_label=label)


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
    return "internal", f"Internal error: {type(err).__name__}"
