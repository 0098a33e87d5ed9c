"""Run cells in the notebook's own kernel, through the server's managers.

Going through the server's session and kernel managers (not a private kernel) means
the open notebook and the generated cells share one kernel and its variables, and that
a remote gateway (`--gateway-url`) works unchanged. One client per kernel is kept and
reused; only our own execution's iopub messages are read (filtered on msg_id).

The kernel runs in the notebook's folder, so the files a cell writes are already in
the workspace: the folder is listed before and after each cell (bounded, hidden
entries skipped; see `workspace`) and what changed is reported.

A kernel that dies under a cell is restarted by the server's kernel restarter; the
cell then ends with a `KernelDied` error output (variables are gone) and the next
cell runs in the restarted kernel.

Stopping a cell is race-free: the kernel ignores an interrupt that arrives before it enters
the cell's handler, so the executor interrupts only once the kernel says it runs our
execution (`execute_input`), and again until it ends. Every execution's shell reply is read
(or dropped when stale): nothing else reads them, and each one left queued is kept for the
life of the client.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import logging
import os
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExecutorUnavailable, KernelDied
from jupyter_server.gateway.managers import GatewayMappingKernelManager
from tornado.web import HTTPError

from . import workspace
from .gateway_channels import GatewayChannels, gateway_failure
from .kernel_files import CALL_ERRORS, KernelFiles
from .base import ChangedFile, ExecutionResult, Executor, LocalFile, SyncReport
from .outputs import MAX_OUTPUT_CHARS, CellOutputs, error_output

#: How often a silent execution checks that the kernel is still alive.
ALIVE_CHECK_SECONDS = 2.0
#: After Stop or a timeout, how long to wait for the kernel to start (if it had not) and end
#: our execution, interrupting it meanwhile.
INTERRUPT_GRACE_SECONDS = 10.0
#: While stopping, how long an interrupt may go without effect before it is sent again.
REINTERRUPT_SECONDS = 0.5
#: Once our execution is idle, how long its shell reply may take to arrive (it is sent
#: before the idle status, so normally it is already there).
REPLY_SECONDS = 1.0
#: How long a dead kernel is left to the server's restarter before we restart it.
RESTARTER_GRACE_SECONDS = 15.0
KERNEL_DIED_MESSAGE = (
    "The kernel died while running this cell (for example it ran out of memory, or the "
    "code exited the process). It was restarted: variables from earlier cells are gone."
)
KERNEL_DIED_NOTICE = (
    "The kernel died while running a cell and was restarted; variables from earlier cells are gone."
)


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@dataclass
class _Execution:
    """One execute request as the kernel reported it on iopub (messages with its msg_id)."""

    msg_id: str
    collector: CellOutputs
    silent: bool = False
    busy: bool = False  # the kernel took the request; an interrupt now may still be ignored
    running: bool = False  # `execute_input`: the kernel is in the cell's handler
    done: bool = False  # idle: the kernel finished with it

    @property
    def started(self) -> bool:
        """An interrupt now reaches the cell (a silent one has no `execute_input`: busy)."""
        return self.running or (self.silent and self.busy)


class KernelExecutor(Executor):
    name = "kernel"

    def __init__(
        self,
        *,
        kernel_manager: Any,
        session_manager: Any,
        notebook_path: str,
        kernel_name: str | None = None,
        kernel_id: str | None = None,
        notebook_dir: Path | None = None,
        log: logging.Logger | None = None,
        max_output_chars: int = MAX_OUTPUT_CHARS,
        max_copy_back_bytes: int = 50 * 2**20,
    ) -> None:
        """`notebook_dir` is the notebook's folder on this machine (the kernel's working
        directory); by default the kernel manager's folder for the notebook. Without
        one on this machine, changed files are not reported. A kernel that runs elsewhere
        (a gateway's) gets the attachments and gives back what it writes through itself
        (see `kernel_files`), up to `max_copy_back_bytes` per file.
        `max_output_chars` bounds the stream text kept per output (see `outputs`).
        `kernel_id` pins the executor to a kernel its caller started (and shuts down),
        instead of the notebook's session kernel: "Verify notebook" runs beside the live one."""
        self.kernel_manager = kernel_manager
        self.session_manager = session_manager
        self.notebook_path = notebook_path
        self.kernel_name = kernel_name
        self.notebook_dir = notebook_dir if notebook_dir is not None else self._default_dir()
        self.log = log or logging.getLogger(__name__)
        self.max_output_chars = max_output_chars
        self.kernel_id: str | None = None
        self._pinned_kernel = kernel_id
        self._client: Any = None
        self._lock = asyncio.Lock()
        self._restarts = 0  # automatic restarts (the kernel died) seen by our callback
        self._watched: str | None = None  # the kernel id our restart callbacks are on
        self._gave_up = False  # the restarter gave up on the watched kernel
        self.files = KernelFiles(
            self._hidden, self.notebook_dir, max_copy_back_bytes=max_copy_back_bytes, log=self.log
        )

    def _default_dir(self) -> Path | None:
        cwd_for_path = getattr(self.kernel_manager, "cwd_for_path", None)
        if cwd_for_path is None:
            return None
        try:
            folder = Path(cwd_for_path(posixpath.dirname(self.notebook_path)))
        except (OSError, TypeError, ValueError):
            return None
        return folder if folder.is_dir() else None

    async def ensure_ready(self) -> None:
        async with self._lock:
            await self._ready()

    async def _ready(self) -> None:
        """Connect to the kernel and learn where it runs; under the lock."""
        try:
            kernel_id = self._pinned_kernel or await self._session_kernel_id()
        except HTTPError as err:  # the gateway refused or failed: its reason, not ours
            raise ExecutorUnavailable(gateway_failure(err)) from err
        if kernel_id != self.kernel_id or self._client is None:
            await self._drop_client()
            self.files.forget()
            self.kernel_id = kernel_id
            client = self._new_client(kernel_id)
            await _maybe_await(client.start_channels())
            try:
                await client.wait_for_ready(timeout=60)
            except RuntimeError as err:
                await _maybe_await(client.stop_channels())
                raise ExecutorUnavailable(f"The notebook's kernel did not start: {err}") from err
            self._client = client
            self._watch(kernel_id)
        try:
            await self.files.locate()
        except CALL_ERRORS as err:
            self.log.warning("nbchat: kernel %s did not say where it runs: %s", self.kernel_id, err)
            self.files.assume_shared(str(err))

    def _new_client(self, kernel_id: str) -> Any:
        """One client per kernel; a gateway's kernels need our async WebSocket client."""
        if isinstance(self.kernel_manager, GatewayMappingKernelManager):
            return GatewayChannels(kernel_id)
        return self.kernel_manager.get_kernel(kernel_id).client()

    def _watch(self, kernel_id: str) -> None:
        """Follow the server's restarter for our kernel: its events are how a death shows."""
        if self._watched == kernel_id:
            return
        self._unwatch()
        self.kernel_manager.add_restart_callback(kernel_id, self._on_restart, "restart")
        self.kernel_manager.add_restart_callback(kernel_id, self._on_dead, "dead")
        self._watched = kernel_id
        self._gave_up = False

    def _unwatch(self) -> None:
        kernel_id, self._watched = self._watched, None
        if kernel_id is None or kernel_id not in self.kernel_manager:
            return
        for callback, event in ((self._on_restart, "restart"), (self._on_dead, "dead")):
            with contextlib.suppress(KeyError, ValueError):  # already gone with its kernel
                self.kernel_manager.remove_restart_callback(kernel_id, callback, event)

    def _on_restart(self) -> None:
        """The kernel died and the restarter is starting it again."""
        self._restarts += 1

    def _on_dead(self) -> None:
        """The kernel died and the restarter gave up (its restart limit)."""
        self._restarts += 1
        self._gave_up = True

    async def _restarted_by_server(self, kernel_id: str) -> bool:
        """Wait for the server's restarter to bring a dead kernel back; False if it will not.

        Restarting the kernel ourselves while the restarter does breaks both restarts."""
        kernel = self.kernel_manager.get_kernel(kernel_id)
        if not getattr(kernel, "autorestart", False):
            return False
        deadline = time.monotonic() + RESTARTER_GRACE_SECONDS
        while time.monotonic() < deadline and not (self._watched == kernel_id and self._gave_up):
            await asyncio.sleep(0.25)
            if kernel_id not in self.kernel_manager:
                return False
            if await _maybe_await(kernel.is_alive()):
                return True
        return False

    async def _session_kernel_id(self) -> str:
        """The kernel of the notebook's session, creating the session when there is none."""
        sm, km = self.session_manager, self.kernel_manager
        if await sm.session_exists(path=self.notebook_path):
            session = await sm.get_session(path=self.notebook_path)
            kernel_id = session["kernel"]["id"]
            if kernel_id in km and await _maybe_await(km.get_kernel(kernel_id).is_alive()):
                return kernel_id
            if kernel_id in km and await self._restarted_by_server(kernel_id):
                return kernel_id
            if kernel_id in km:
                self.log.info("nbchat: restarting dead kernel %s", kernel_id)
                await km.restart_kernel(kernel_id)
                self._gave_up = False
                return kernel_id
            await sm.delete_session(session["id"])
        session = await sm.create_session(
            path=self.notebook_path,
            name=os.path.basename(self.notebook_path),
            type="notebook",
            kernel_name=self.kernel_name or km.default_kernel_name,
        )
        return session["kernel"]["id"]

    async def run_cell(
        self, code: str, timeout: float, on_output: Callable[[], None] | None = None
    ) -> ExecutionResult:
        async with self._lock:
            await self._ready()
            before = await self._listing()
            client = self._client
            msg_id = client.execute(
                code, store_history=True, allow_stdin=False, stop_on_error=False
            )
            collector = self.live = CellOutputs(self.max_output_chars, on_change=on_output)
            run = _Execution(msg_id, collector)
            deadline = time.monotonic() + timeout
            notices: list[str] = []
            try:
                finished = await self._collect(client, run, deadline)
            except asyncio.CancelledError:
                await self._interrupt_and_drain(client, run, stopped=True)
                raise
            except KernelDied:
                finished = True
                collector.add(error_output("KernelDied", KERNEL_DIED_MESSAGE))
                notices.append(KERNEL_DIED_NOTICE)
            if finished and run.done:
                await self._read_reply(client, msg_id)
            if not finished:
                await self._interrupt_and_drain(client, run)
                collector.add(
                    error_output(
                        "TimeoutError",
                        f"The cell ran longer than {timeout:g} s and was interrupted.",
                    )
                )
            return ExecutionResult(
                outputs=collector.outputs(),
                execution_count=collector.execution_count,
                timed_out=not finished,
                changed_files=await self._changed_files(before),
                notices=self.files.take_notice() + notices,
            )

    async def _listing(self) -> workspace.Listing | None:
        if self.files.location is not None and not self.files.location.shared:
            return await self.files.listing()
        if self.notebook_dir is None:
            return None
        try:
            return await asyncio.to_thread(workspace.list_local, self.notebook_dir)
        except Exception:
            self.log.warning("nbchat: could not list %s", self.notebook_dir, exc_info=True)
            return None

    async def _changed_files(self, before: workspace.Listing | None) -> list[ChangedFile]:
        """The files the cell wrote: next to the notebook already (copied=True), or copied
        back from the kernel's own folder."""
        after = await self._listing() if before is not None else None
        if before is None or after is None:
            return []
        if self.files.location is not None and not self.files.location.shared:
            return await self.files.copy_back(before, after)
        return [
            ChangedFile(relative_path=path, size=after.files[path].size, copied=True)
            for path in workspace.changed_paths(before, after)
        ]

    async def run_hidden(self, code: str, timeout: float = 30.0) -> str:
        async with self._lock:
            await self._ready()
            return await self._hidden(code, timeout)

    async def _hidden(self, code: str, timeout: float, expression: str | None = None) -> str:
        """Run `code` silently on the connected kernel and return what it printed; under the
        lock. With an `expression` (and no code), return the string it evaluates to instead:
        a user expression is evaluated as is, without IPython's cell transforms, which take
        most of a second on a megabyte of code (see `kernel_files`)."""
        client = self._client
        expressions = {"value": expression} if expression is not None else {}
        msg_id = client.execute(
            code, silent=True, store_history=False, user_expressions=expressions, allow_stdin=False
        )
        collector = CellOutputs(max_chars=None)
        run = _Execution(msg_id, collector, silent=True)
        if not await self._collect(client, run, time.monotonic() + timeout):
            await self._interrupt_and_drain(client, run)
            raise TimeoutError("hidden execution timed out")
        reply = await self._read_reply(client, msg_id)
        error = collector.error()
        if error is not None:
            raise RuntimeError(f"{error['ename']}: {error['evalue']}")
        if expression is None:
            return collector.stdout()
        value = ((reply or {}).get("content") or {}).get("user_expressions", {}).get("value")
        if not value:
            raise RuntimeError("the kernel sent no reply to a hidden request")
        if value.get("status") != "ok":
            raise RuntimeError(f"{value.get('ename')}: {value.get('evalue')}")
        return ast.literal_eval(value["data"]["text/plain"])

    async def _collect(
        self, client: Any, run: _Execution, deadline: float, until_started: bool = False
    ) -> bool:
        """Read iopub until our execution is idle (or, `until_started`, until it has started);
        False when the deadline passed first."""
        restarts = self._restarts
        while not run.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                msg = await client.get_iopub_msg(timeout=min(remaining, ALIVE_CHECK_SECONDS))
            except Exception:  # noqa: BLE001 - queue.Empty from jupyter_client: nothing arrived
                if self._restarts != restarts or not await self._alive():
                    # Dead, or already restarted by the server's restarter: our
                    # execution will never end. A fresh client on the next use.
                    dead_id, self.kernel_id = self.kernel_id, None
                    await self._drop_client()
                    raise KernelDied(dead_id or "") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != run.msg_id:
                continue
            msg_type = msg["header"]["msg_type"]
            if msg_type == "status":
                state = msg["content"].get("execution_state")
                run.busy = run.busy or state == "busy"
                run.done = state == "idle"
            else:
                run.running = run.running or msg_type == "execute_input"
                run.collector.handle(msg)
            if until_started and run.started:
                return True
        return True

    async def _alive(self) -> bool:
        km = self.kernel_manager
        if self.kernel_id is None or self.kernel_id not in km:
            return False
        return bool(await _maybe_await(km.get_kernel(self.kernel_id).is_alive()))

    async def _interrupt_and_drain(
        self, client: Any, run: _Execution, stopped: bool = False
    ) -> None:
        """Stop our execution and keep the outputs it still sends (the KeyboardInterrupt).

        Shielded: the caller's cancellation (Stop) must not cut the stop short. `stopped`
        (Stop, not a timeout): a cell the kernel ended without an error, and without saying
        it completed, was interrupted before it ran; it ends with a KeyboardInterrupt too."""
        try:
            await asyncio.shield(self._stop(client, run))
        except (KernelDied, asyncio.CancelledError):
            return
        if not run.done:
            return
        reply = await self._read_reply(client, run.msg_id)
        completed = reply is not None and reply["content"].get("status") == "ok"
        if stopped and run.collector.error() is None and not completed:
            stop = error_output("KeyboardInterrupt", "The cell was stopped as it started.")
            run.collector.add(stop)

    async def _stop(self, client: Any, run: _Execution) -> None:
        """Interrupt our execution once the kernel runs it, and again until it ends.

        ipykernel installs its SIGINT handler only around a request's handler: an interrupt
        that lands before (the request still in flight, or just taken) is ignored. So wait
        for `execute_input`, then interrupt every REINTERRUPT_SECONDS until idle or an error
        shows. An execution the kernel has not started within the grace (queued behind
        another client's) is left alone: interrupting would stop someone else's code."""
        deadline = time.monotonic() + INTERRUPT_GRACE_SECONDS
        while not run.done and time.monotonic() < deadline:
            if not run.started:
                await self._collect(client, run, deadline, until_started=True)
                continue
            if run.collector.error() is None:
                await self.interrupt()
            await self._collect(client, run, min(deadline, time.monotonic() + REINTERRUPT_SECONDS))

    async def _read_reply(self, client: Any, msg_id: str) -> dict[str, Any] | None:
        """Read our execution's shell reply, dropping stale replies to other requests.

        Nothing else reads the shell channel: an unread reply (about 10 KiB) stays queued
        for the life of the client. None when it does not come within REPLY_SECONDS (a
        kernel interrupted before it ran the cell sends none; it is dropped later if late)
        or the client has no shell channel to read."""
        get_shell_msg = getattr(client, "get_shell_msg", None)
        if get_shell_msg is None:
            return None
        deadline = time.monotonic() + REPLY_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                reply = await get_shell_msg(timeout=remaining)
            except Exception:  # noqa: BLE001 - queue.Empty (nothing came), or a closed channel
                return None
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply
        return None

    async def sync_files(self, files: list[LocalFile]) -> SyncReport:
        """Next to the notebook, the files are already where the code looks; a kernel that
        runs elsewhere is sent the ones it does not have (see `kernel_files`)."""
        missing = [f.relative_path for f in files if not f.absolute_path.is_file()]
        if missing:
            raise ExecutorUnavailable(
                f"Attached file(s) not found next to the notebook: {', '.join(missing)}"
            )
        async with self._lock:
            await self._ready()
            return await self.files.sync(files)

    async def restart(self) -> None:
        async with self._lock:
            await self._ready()
            try:
                await self.kernel_manager.restart_kernel(self.kernel_id)
            except HTTPError as err:
                raise ExecutorUnavailable(gateway_failure(err)) from err
            await self._client.wait_for_ready(timeout=60)
            self.files.forget()  # a restarted kernel may run elsewhere, without our helper
            await self._ready()

    async def interrupt(self) -> None:
        if self.kernel_id and self.kernel_id in self.kernel_manager:
            await self.kernel_manager.interrupt_kernel(self.kernel_id)

    async def close(self) -> None:
        self._unwatch()
        await self._drop_client()

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await _maybe_await(client.stop_channels())
            except Exception:  # closing must never raise
                self.log.debug("nbchat: error closing kernel client", exc_info=True)
