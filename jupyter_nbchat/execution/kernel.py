"""Run cells in the notebook's own kernel, through the server's managers.

Going through the server's session and kernel managers (not a private kernel) means
the open notebook and the generated cells share one kernel and its variables, and that
a remote gateway (`--gateway-url`) works unchanged. One client per kernel is kept and
reused; only our own execution's iopub messages are read (filtered on msg_id).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import time
from typing import Any

from ..errors import ExecutorUnavailable, KernelDied
from .base import ExecutionResult, Executor, LocalFile, SyncReport
from .outputs import OutputCollector, error_output

#: How often a silent execution checks that the kernel is still alive.
ALIVE_CHECK_SECONDS = 2.0
#: After an interrupt, how long to wait for the kernel to report idle.
INTERRUPT_GRACE_SECONDS = 10.0


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class KernelExecutor(Executor):
    name = "kernel"

    def __init__(
        self,
        *,
        kernel_manager: Any,
        session_manager: Any,
        notebook_path: str,
        kernel_name: str | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.kernel_manager = kernel_manager
        self.session_manager = session_manager
        self.notebook_path = notebook_path
        self.kernel_name = kernel_name
        self.log = log or logging.getLogger(__name__)
        self.kernel_id: str | None = None
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def ensure_ready(self) -> None:
        kernel_id = await self._session_kernel_id()
        if kernel_id != self.kernel_id or self._client is None:
            await self.close()
            self.kernel_id = kernel_id
            kernel = self.kernel_manager.get_kernel(kernel_id)
            client = kernel.client()
            await _maybe_await(client.start_channels())
            try:
                await client.wait_for_ready(timeout=60)
            except RuntimeError as err:
                await _maybe_await(client.stop_channels())
                raise ExecutorUnavailable(f"The notebook's kernel did not start: {err}") from err
            self._client = client

    async def _session_kernel_id(self) -> str:
        """The kernel of the notebook's session, creating the session when there is none."""
        sm, km = self.session_manager, self.kernel_manager
        if await sm.session_exists(path=self.notebook_path):
            session = await sm.get_session(path=self.notebook_path)
            kernel_id = session["kernel"]["id"]
            if kernel_id in km and await _maybe_await(km.get_kernel(kernel_id).is_alive()):
                return kernel_id
            if kernel_id in km:
                self.log.info("nbchat: restarting dead kernel %s", kernel_id)
                await km.restart_kernel(kernel_id)
                return kernel_id
            await sm.delete_session(session["id"])
        session = await sm.create_session(
            path=self.notebook_path,
            name=os.path.basename(self.notebook_path),
            type="notebook",
            kernel_name=self.kernel_name or km.default_kernel_name,
        )
        return session["kernel"]["id"]

    async def run_cell(self, code: str, timeout: float) -> ExecutionResult:
        async with self._lock:
            await self.ensure_ready()
            client = self._client
            msg_id = client.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
            collector = OutputCollector()
            deadline = time.monotonic() + timeout
            try:
                finished = await self._collect(client, msg_id, collector, deadline)
            except asyncio.CancelledError:
                await self._interrupt_and_drain(client, msg_id, collector)
                raise
            if not finished:
                await self._interrupt_and_drain(client, msg_id, collector)
                collector.add(
                    error_output(
                        "TimeoutError",
                        f"The cell ran longer than {timeout:g} s and was interrupted.",
                    )
                )
            return ExecutionResult(
                outputs=collector.outputs,
                execution_count=collector.execution_count,
                timed_out=not finished,
            )

    async def run_hidden(self, code: str, timeout: float = 30.0) -> str:
        async with self._lock:
            await self.ensure_ready()
            client = self._client
            msg_id = client.execute(code, silent=True, store_history=False, allow_stdin=False)
            collector = OutputCollector()
            if not await self._collect(client, msg_id, collector, time.monotonic() + timeout):
                await self._interrupt_and_drain(client, msg_id, collector)
                raise TimeoutError("hidden execution timed out")
        error = next((o for o in collector.outputs if o["output_type"] == "error"), None)
        if error is not None:
            raise RuntimeError(f"{error['ename']}: {error['evalue']}")
        return "".join(
            o["text"] for o in collector.outputs if o["output_type"] == "stream" and o["name"] == "stdout"
        )

    async def _collect(
        self, client: Any, msg_id: str, collector: OutputCollector, deadline: float
    ) -> bool:
        """Read iopub until our execution is idle; False when the deadline passed first."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                msg = await client.get_iopub_msg(timeout=min(remaining, ALIVE_CHECK_SECONDS))
            except Exception:  # queue.Empty from jupyter_client: nothing arrived in time
                if not await _maybe_await(self.kernel_manager.get_kernel(self.kernel_id).is_alive()):
                    dead_id, self.kernel_id = self.kernel_id, None
                    await self.close()
                    raise KernelDied(dead_id or "") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["header"]["msg_type"] == "status":
                if msg["content"].get("execution_state") == "idle":
                    return True
                continue
            collector.handle(msg)

    async def _interrupt_and_drain(
        self, client: Any, msg_id: str, collector: OutputCollector
    ) -> None:
        """Interrupt the kernel and keep the outputs it still sends (the KeyboardInterrupt)."""
        await self.interrupt()
        try:
            await asyncio.shield(
                self._collect(client, msg_id, collector, time.monotonic() + INTERRUPT_GRACE_SECONDS)
            )
        except (KernelDied, asyncio.CancelledError):
            pass

    async def sync_files(self, files: list[LocalFile]) -> SyncReport:
        """The kernel runs next to the notebook: its files are already where the code looks."""
        missing = [f.relative_path for f in files if not f.absolute_path.is_file()]
        if missing:
            raise ExecutorUnavailable(f"Attached file(s) not found next to the notebook: {', '.join(missing)}")
        return SyncReport(unchanged=[f.relative_path for f in files])

    async def restart(self) -> None:
        await self.ensure_ready()
        async with self._lock:
            await self.kernel_manager.restart_kernel(self.kernel_id)
            await self._client.wait_for_ready(timeout=60)

    async def interrupt(self) -> None:
        if self.kernel_id and self.kernel_id in self.kernel_manager:
            await self.kernel_manager.interrupt_kernel(self.kernel_id)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await _maybe_await(client.stop_channels())
            except Exception:  # closing must never raise
                self.log.debug("nbchat: error closing kernel client", exc_info=True)
