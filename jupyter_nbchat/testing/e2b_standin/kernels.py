"""Code contexts: one real ipykernel each, and the translation of its iopub
messages into the ``/execute`` stream the code-interpreter SDK parses."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import queue
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

log = logging.getLogger(__name__)

# Sentinels put on an execution's queue besides kernel messages.
ABANDONED = object()  # the HTTP client went away: interrupt, then drain silently
KERNEL_GONE = object()  # the kernel was shut down (sandbox killed or context removed)
KERNEL_DIED = object()  # the kernel process died on its own

INTERRUPT_GRACE = 5.0
"""Seconds an interrupted execution may take to reach ``idle`` before the kernel is
restarted, so a cell that swallows ``KeyboardInterrupt`` cannot wedge a context."""

_MIME_FIELDS = {
    "text/plain": "text",
    "text/html": "html",
    "text/markdown": "markdown",
    "image/svg+xml": "svg",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "application/pdf": "pdf",
    "text/latex": "latex",
    "application/json": "json",
    "application/javascript": "javascript",
    "e2b/data": "data",
    "e2b/chart": "chart",
}


def _timestamp_ns(msg: dict) -> int:
    date = msg.get("header", {}).get("date")
    if isinstance(date, datetime.datetime):
        return int(date.timestamp() * 1_000_000_000)
    return time.time_ns()


def to_result(data: dict, is_main_result: bool) -> dict:
    """A ``result`` line from a MIME bundle, the way the code-interpreter server maps it:
    known MIME types become fields, everything else goes to ``extra``."""
    result: dict = {"type": "result", "is_main_result": is_main_result}
    extra = {}
    for mime, value in data.items():
        field = _MIME_FIELDS.get(mime)
        if field is None:
            extra[mime] = value
        else:
            result[field] = value
    text = result.get("text")
    if isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == "'":
        result["text"] = text[1:-1]  # the real server strips the quotes of a str repr
    result["extra"] = extra
    return result


def to_output(msg: dict) -> dict | None:
    """The ``/execute`` line for one iopub message, or None if it has none."""
    kind = msg["msg_type"]
    content = msg["content"]
    if kind == "stream":
        name = "stderr" if content.get("name") == "stderr" else "stdout"
        return {"type": name, "text": content.get("text", ""), "timestamp": _timestamp_ns(msg)}
    if kind in ("execute_result", "display_data", "update_display_data"):
        return to_result(dict(content.get("data", {})), kind == "execute_result")
    if kind == "error":
        return {
            "type": "error",
            "name": content.get("ename", ""),
            "value": content.get("evalue", ""),
            "traceback": "\n".join(content.get("traceback", [])),
        }
    if kind == "execute_input":
        return {"type": "number_of_executions", "execution_count": content.get("execution_count")}
    return None


class Execution:
    """One request on a context: the iopub messages whose parent is ``msg_id``."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.msg_id: str | None = None
        self.abandoned = False

    def abandon(self) -> None:
        """Called when the HTTP client disconnects; safe to call any time, repeatedly."""
        if not self.abandoned:
            self.abandoned = True
            self.queue.put_nowait(ABANDONED)


Emit = Callable[[dict], Awaitable[None]]


class KernelContext:
    """A code context backed by a local python3 kernel started in ``cwd_real``.

    One iopub reader per kernel dispatches messages to executions by parent
    ``msg_id``; a lock serialises executions, as the code-interpreter server does.
    """

    def __init__(
        self, context_id: str, language: str, cwd: str, cwd_real: Path, env: dict, ipc: Path
    ) -> None:
        self.id = context_id
        self._ipc = ipc
        self.language = language
        self.cwd = cwd
        self._cwd_real = cwd_real
        self._env = env
        self._km: AsyncKernelManager | None = None
        self._kc = None
        self._reader: asyncio.Task | None = None
        self._executions: dict[str, Execution] = {}
        self._lock = asyncio.Lock()  # one execution at a time
        self._lifecycle = asyncio.Lock()  # start / restart / shutdown never overlap
        self._closed = False

    def to_json(self) -> dict:
        return {"id": self.id, "language": self.language, "cwd": self.cwd}

    async def start(self) -> None:
        """Start the kernel and wait until it answers ``kernel_info``.

        IPC sockets (files under the sandbox dir) rather than TCP: no port races
        between many kernels, and no plaintext-TCP warning from ipykernel."""
        async with self._lifecycle:
            if self._closed:
                return
            self._km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(self._ipc))
            await self._km.start_kernel(cwd=str(self._cwd_real), env=self._env)
            self._kc = self._km.client()
            self._kc.start_channels()
            await self._kc.wait_for_ready(timeout=60)
            self._start_reader()

    def _start_reader(self) -> None:
        self._reader = asyncio.create_task(self._read_iopub(), name=f"iopub-{self.id}")

    async def _stop_reader(self) -> None:
        """``wait_for_ready`` must see iopub traffic itself, so pause the reader."""
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.wait([self._reader])
            self._reader = None

    @property
    def kernel_pid(self) -> int | None:
        """The kernel's process id (tests check it is gone after a kill)."""
        return getattr(getattr(self._km, "provisioner", None), "pid", None)

    async def _read_iopub(self) -> None:
        """Dispatch iopub messages; while executions wait, notice a dead kernel."""
        while not self._closed:
            try:
                msg = await self._kc.get_iopub_msg(timeout=1.0)
            except queue.Empty:
                if self._executions and not await self._km.is_alive():
                    for execution in list(self._executions.values()):
                        execution.queue.put_nowait(KERNEL_DIED)
                continue
            except Exception:
                if self._closed:  # the channel was closed under us by shutdown()
                    return
                log.exception("iopub reader of context %s failed", self.id)
                await asyncio.sleep(0.1)
                continue
            parent = msg.get("parent_header", {}).get("msg_id")
            execution = self._executions.get(parent)
            if execution is not None:
                execution.queue.put_nowait(msg)

    async def run(self, code: str, env_vars: dict | None, execution: Execution, emit: Emit):
        """Execute ``code``, passing each output line to ``emit``; returns at ``idle``.

        When ``emit`` fails or the execution is abandoned (the client left), the
        kernel is interrupted and the rest of the output is drained unsent, so
        the context is idle again before the lock is released.
        """
        async with self._lock:
            if execution.abandoned:
                return
            if self._closed:  # removed while this request waited for the lock
                await emit_quietly(emit, _CONTEXT_RESTARTING)
                await emit_quietly(emit, END_OF_EXECUTION)
                return
            if env_vars:
                await self._silent(_set_env_code(env_vars))
            try:
                await self._run_main(code, execution, emit)
            finally:
                if env_vars and not self._closed:
                    await self._silent(_RESTORE_ENV_CODE)

    async def _run_main(self, code: str, execution: Execution, emit: Emit) -> None:
        msg_id = self._kc.execute(code, store_history=True, allow_stdin=False, stop_on_error=True)
        execution.msg_id = msg_id
        self._executions[msg_id] = execution
        sent_error = False
        try:
            while True:
                item = await execution.queue.get()
                if item is ABANDONED:
                    await self._interrupt_and_drain(execution)
                    return
                if item is KERNEL_GONE or item is KERNEL_DIED:
                    # As the real server does when its kernel restarts under a cell.
                    await emit_quietly(emit, _CONTEXT_RESTARTING)
                    if item is KERNEL_DIED:
                        await self.restart()
                    await emit_quietly(emit, END_OF_EXECUTION)
                    return
                if _is_idle(item):
                    await emit_quietly(emit, END_OF_EXECUTION)
                    return
                line = to_output(item)
                if line is None or execution.abandoned:
                    continue
                if line["type"] == "error" and sent_error:
                    continue
                sent_error = sent_error or line["type"] == "error"
                try:
                    await emit(line)
                except OSError:  # the client is gone (tornado's StreamClosedError)
                    execution.abandon()
        finally:
            self._executions.pop(msg_id, None)

    async def _interrupt_and_drain(self, execution: Execution) -> None:
        """Interrupt the kernel for a departed client and wait for its ``idle``."""
        if self._closed:
            return
        try:
            await self._km.interrupt_kernel()
        except Exception:
            log.exception("interrupting context %s failed", self.id)
        deadline = asyncio.get_running_loop().time() + INTERRUPT_GRACE
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                item = await asyncio.wait_for(execution.queue.get(), max(remaining, 0.01))
            except asyncio.TimeoutError:  # not the builtin before Python 3.11
                log.warning("context %s ignored the interrupt; restarting it", self.id)
                await self.restart()
                return
            if item is KERNEL_GONE or item is KERNEL_DIED:
                return
            if item is not ABANDONED and _is_idle(item):
                return

    async def _silent(self, code: str) -> None:
        """Run bookkeeping code without output or an execution count."""
        execution = Execution()
        msg_id = self._kc.execute(code, silent=True, store_history=False)
        self._executions[msg_id] = execution
        try:
            while True:
                item = await execution.queue.get()
                if item is KERNEL_GONE or item is KERNEL_DIED:
                    return
                if item is ABANDONED:
                    continue
                if item["msg_type"] == "error":
                    log.error("bookkeeping code failed in context %s: %s", self.id, item["content"])
                if _is_idle(item):
                    return
        finally:
            self._executions.pop(msg_id, None)

    async def restart(self) -> None:
        """Restart the kernel (variables are lost, cwd and env kept)."""
        async with self._lifecycle:
            if self._closed:
                return
            for execution in list(self._executions.values()):
                execution.queue.put_nowait(KERNEL_GONE)
            await self._stop_reader()
            try:
                await self._km.restart_kernel(now=True)
                await self._kc.wait_for_ready(timeout=60)
            finally:
                self._start_reader()

    async def shutdown(self) -> None:
        """Stop the kernel process now; never raises."""
        self._closed = True
        for execution in list(self._executions.values()):
            execution.queue.put_nowait(KERNEL_GONE)
        async with self._lifecycle:
            await self._stop_reader()
            try:
                if self._kc is not None:
                    self._kc.stop_channels()
                if self._km is not None and self._km.has_kernel:
                    await self._km.shutdown_kernel(now=True)
            except Exception:
                log.exception("shutting down context %s failed", self.id)


END_OF_EXECUTION = {"type": "end_of_execution"}


async def emit_quietly(emit: Emit, line: dict) -> None:
    """Emit a closing line; the client may already be gone, which is fine here."""
    with contextlib.suppress(OSError):
        await emit(line)


def _is_idle(msg: dict) -> bool:
    return msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"


_CONTEXT_RESTARTING = {
    "type": "error",
    "name": "ContextRestarting",
    "value": "Context was restarted",
    "traceback": "",
}


def _set_env_code(env_vars: dict) -> str:
    """Silent code setting ``env_vars`` for one run, remembering the old values."""
    env = {str(k): str(v) for k, v in env_vars.items()}
    return (
        "def __e2b_set(env):\n"
        "    import os\n"
        "    globals()['__e2b_env_saved'] = {k: os.environ.get(k) for k in env}\n"
        "    os.environ.update(env)\n"
        f"__e2b_set({env!r}); del __e2b_set\n"
    )


# Tolerates a kernel restarted in between (nothing saved then: nothing to restore).
_RESTORE_ENV_CODE = (
    "def __e2b_restore(saved):\n"
    "    import os\n"
    "    for k, v in saved.items():\n"
    "        if v is None:\n"
    "            os.environ.pop(k, None)\n"
    "        else:\n"
    "            os.environ[k] = v\n"
    "__e2b_restore(globals().pop('__e2b_env_saved', {})); del __e2b_restore\n"
)


def new_context_id() -> str:
    return str(uuid.uuid4())


def kernel_env(extra: dict | None) -> dict:
    """The kernel's environment: ours plus the sandbox's ``envVars``."""
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in (extra or {}).items()})
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env
