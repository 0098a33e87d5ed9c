"""Run cells in an E2B cloud sandbox (``e2b-code-interpreter``'s AsyncSandbox).

One executor per chat (notebook), one sandbox per executor. Only the SDK's public
API is used, so the same code talks to E2B's cloud and to the local stand-in.

Lifetime
    ``ensure_ready`` reconnects to a remembered sandbox (``sandbox_id``) or creates
    one; concurrent callers share one start, so the registry can start it while
    Claude writes and ``run_cell`` just waits for it. Every use pushes the
    sandbox's own timeout (``set_timeout``) to ``idle_timeout`` from now, at most
    once a minute. ``idle_for`` lets the registry close idle executors.

Files
    Attached files are uploaded (streamed from disk) to the working directory,
    ``/home/user``, at their paths relative to the notebook, so the generated code
    reads them exactly as it would next to the notebook. A file whose sha256 this
    sandbox already has is not sent again. After each cell the working directory
    is listed (see ``workspace``) and new or changed files up to
    ``max_copy_back_bytes`` are streamed back into the notebook's folder.

Recovery
    A sandbox that stopped (expired, killed, closed as idle) is replaced: a new one
    is started, the files are uploaded again and the cells that ran without error
    since the last restart are re-run in order, with a notice saying so. A cell
    the sandbox died under is not re-run by itself: it ends with an error output
    and the next cell starts the new sandbox. A failed connection (502, dropped
    stream) to a sandbox that still runs ends the cell with an error output saying
    so; nothing waits for it.

Interrupt and restart
    The SDK has no interrupt call. Cancelling the ``/execute`` request closes its
    HTTP/1.1 connection (the SDK uses a dedicated HTTP/1.1 transport for exactly
    this), and the code interpreter interrupts the kernel when its client goes
    away; ``interrupt``, the timeout and a cancelled turn all work that way. The
    SDK can restart a code context by id (``restart_code_context``) but does not
    say which listed context is the default one, so the first ``restart`` creates
    our own context in the working directory and later ones restart it; its id is
    part of ``state()``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from e2b import (
    AuthenticationException,
    FileType,
    NotFoundException,
    RateLimitException,
    SandboxException,
    SandboxNotFoundException,
    SandboxNotRunningException,
    SandboxQuery,
    SandboxState,
    ServiceBusyException,
)
from e2b_code_interpreter import AsyncSandbox

from ..errors import ExecutorUnavailable
from . import copy_back, workspace
from .base import ChangedFile, ExecutionResult, Executor, LocalFile, SyncReport
from .outputs import MAX_OUTPUT_CHARS, CellOutputs, error_output

#: The code interpreter's working directory: files go here, at their relative paths.
WORKDIR = "/home/user"

#: Hidden snippet: sha256 of files below the working directory, as one JSON line.
_REMOTE_DIGESTS = r"""
def _nbchat_digests(root, paths):
    import hashlib, json, os
    if not os.path.isdir(root):  # the working directory is where the code runs
        root = os.getcwd()
    found = {}
    for path in paths:
        try:
            digest = hashlib.sha256()
            with open(os.path.join(root, path), "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            found[path] = digest.hexdigest()
        except OSError:
            found[path] = None
    print(json.dumps(found))
_nbchat_digests(%r, %s)
del _nbchat_digests
"""
#: `metadata["app"]` of every sandbox we create.
APP = "jupyter_nbchat"
#: Attempts at creating a sandbox, and the first wait between two (doubled each time).
START_ATTEMPTS = 3
START_BACKOFF = 1.0
#: Hidden snippet run in each new kernel of a sandbox: the code interpreter's protocol has
#: no `clear_output` and no `update_display_data` (it drops the first and turns the second
#: into a new output), so the kernel's display publisher says them on stdout, as a
#: terminal escape no program prints (`BRIDGE_MARK`), and `_Run` applies them in order.
_DISPLAY_BRIDGE = r"""
def _nbchat_display_bridge():
    import json, sys
    from IPython.core.interactiveshell import InteractiveShell
    pub = InteractiveShell.instance().display_pub
    if getattr(pub, "_nbchat_bridged", False):
        return
    publish, clear_output = pub.publish, pub.clear_output
    def say(op):
        sys.stdout.flush()
        sys.stdout.write("]nbchat;" + json.dumps(op) + "")
        sys.stdout.flush()
    def bridged_publish(data, metadata=None, *args, transient=None, update=False, **kwargs):
        display_id = (transient or {}).get("display_id")
        if update and display_id:
            say({"update": display_id, "data": data, "metadata": metadata or {}})
            return None
        if display_id:
            say({"display_id": display_id})
        return publish(data, metadata, *args, transient=transient, update=update, **kwargs)
    def bridged_clear_output(wait=False):
        say({"clear": bool(wait)})
        return clear_output(wait)
    pub.publish, pub.clear_output, pub._nbchat_bridged = bridged_publish, bridged_clear_output, True
_nbchat_display_bridge()
del _nbchat_display_bridge
_nbchat_kernel = %r
"""
#: Hidden snippet after a stopped cell: answers at once only from an idle kernel, with the
#: mark the bridge left in it (a restarted kernel has none).
_PROBE = "print(globals().get('_nbchat_kernel'))"
#: Seconds the probe after a stopped cell may take before the kernel counts as still busy.
PROBE_TIMEOUT = 5.0
BRIDGE_MARK = re.compile(r"\x1b\]nbchat;(.*?)\x07", re.DOTALL)
#: Seconds between two extensions of the sandbox's timeout.
KEEPALIVE_SECONDS = 60.0
#: Timeout of the small control requests (is the sandbox running? listings).
CHECK_TIMEOUT = 15.0
#: Seconds `close()` waits for the kill request.
KILL_TIMEOUT = 20.0
#: Bytes buffered before a worker thread writes them to disk.
WRITE_CHUNK = 1 << 20

#: Result fields of the SDK and the MIME types they stand for. `extra` (other MIME
#: types), `data` and `chart` are E2B's own and are left out.
MIME_TYPES = {
    "text": "text/plain",
    "html": "text/html",
    "markdown": "text/markdown",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "pdf": "application/pdf",
    "latex": "text/latex",
    "json": "application/json",
    "javascript": "application/javascript",
}

_SDK_ERRORS = (SandboxException, httpx.HTTPError, OSError)


def mime_bundle(result: Any) -> dict[str, Any]:
    """An SDK `Result` as a MIME bundle: its named fields, and the other MIME types the
    kernel sent (`extra`: Plotly's `application/vnd.plotly.v1+json`, Vega, widgets …)."""
    bundle = {}
    for attr, mime in MIME_TYPES.items():
        value = getattr(result, attr, None)
        if value is not None:
            bundle[mime] = value
    extra = getattr(result, "extra", None)
    if isinstance(extra, dict):
        for mime, value in extra.items():
            if isinstance(mime, str) and "/" in mime and mime not in bundle:
                bundle[mime] = value
    return bundle


KERNEL_DIED_MESSAGE = (
    "The sandbox's Python kernel died while running this cell (for example it ran out of "
    "memory, or the code exited the process). It was restarted: variables from earlier cells "
    "are gone."
)


@dataclass
class _Run:
    """One execution: its outputs (fed by the SDK's callbacks as they arrive) and how it ended.

    The sandbox's protocol has stdout, stderr, results and errors only: no `clear_output`
    and no `update_display_data`; a `\\r` in the text is folded as the kernel's is."""

    outputs: CellOutputs = field(default_factory=CellOutputs)
    execution_count: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    failure: BaseException | None = None  # the SDK or the connection failed
    kernel_died: bool = False  # the code interpreter restarted the kernel under the cell

    #: The display id the kernel's next display output carries (said on stdout first).
    display_id: str | None = None

    def callbacks(self) -> dict[str, Any]:
        """`on_stdout`, `on_stderr`, `on_result` and `on_error` for `AsyncSandbox.run_code`."""
        out = self.outputs
        return {
            "on_stdout": lambda message: self._stdout(message.line),
            "on_stderr": lambda message: out.stream("stderr", message.line),
            "on_result": self._result,
            "on_error": self._error,
        }

    def _stdout(self, text: str) -> None:
        """Printed text, and the display operations the bridge says between it, in order."""
        at = 0
        for mark in BRIDGE_MARK.finditer(text):
            if mark.start() > at:
                self.outputs.stream("stdout", text[at : mark.start()])
            at = mark.end()
            try:
                op = json.loads(mark.group(1))
            except ValueError:
                continue
            if "clear" in op:
                self.outputs.clear(wait=bool(op["clear"]))
            elif "update" in op:
                self.outputs.update_display(str(op["update"]), op.get("data") or {}, op.get("metadata") or {})
            elif "display_id" in op:
                self.display_id = str(op["display_id"])
        if at < len(text):
            self.outputs.stream("stdout", text[at:])

    def _result(self, result: Any) -> None:
        bundle = mime_bundle(result)
        display_id, self.display_id = self.display_id, None
        if not bundle:
            return
        if result.is_main_result:
            output = {"output_type": "execute_result", "data": bundle, "metadata": {}, "execution_count": None}
        else:
            output = {"output_type": "display_data", "data": bundle, "metadata": {}}
        self.outputs.display(output, display_id)

    def _error(self, error: Any) -> None:
        if error.name == "ContextRestarting":  # what the code interpreter says when it restarts
            self.kernel_died = True
            self.outputs.display({**error_output("KernelDied", KERNEL_DIED_MESSAGE), "traceback": []})
            return
        traceback = (error.traceback or "").split("\n")
        self.outputs.display(
            {"output_type": "error", "ename": error.name, "evalue": error.value, "traceback": traceback}
        )


class E2BExecutor(Executor):
    name = "e2b"

    def __init__(
        self,
        *,
        api_key: str,
        notebook_dir: Path,
        template: str | None = None,
        idle_timeout: float = 1800.0,
        max_copy_back_bytes: int = 50 * 2**20,
        log: logging.Logger | None = None,
        sandbox_id: str | None = None,
        context_id: str | None = None,
        sdk_options: dict[str, Any] | None = None,
        max_output_chars: int = MAX_OUTPUT_CHARS,
        metadata: dict[str, str] | None = None,
        start_attempts: int = START_ATTEMPTS,
    ) -> None:
        """`sandbox_id` (and `context_id`, both from an earlier `state()`) reconnect to a
        sandbox that may still run; `sdk_options` go to AsyncSandbox.create/connect
        (tests point the SDK at the stand-in with them; production passes none).
        `metadata` is set on every sandbox it creates (which chat and server it is for:
        how a restarted server finds its orphans: `TurnRegistry.kill_orphans`)."""
        self.api_key = api_key
        self.template = template or None
        self.idle_timeout = idle_timeout
        self.notebook_dir = Path(notebook_dir)
        self.max_copy_back_bytes = max_copy_back_bytes
        self.max_output_chars = max_output_chars
        self.log = log or logging.getLogger(__name__)
        self.sdk_options = dict(sdk_options or {})
        self.metadata = {"app": APP, **(metadata or {})}
        self.start_attempts = max(1, start_attempts)
        self._wanted_id = sandbox_id
        self._wanted_context = context_id
        #: The `In [n]` of the last visible cell: ours, not the sandbox's, whose kernel also
        #: counts hidden runs (variables, checks) and restored cells.
        self._count = 0
        self._bridged = False  # the display bridge is in the current kernel
        self._kernel_mark = ""  # what the bridge left in that kernel (see _settle)
        self._unsettled = False  # a cell was stopped: check the kernel before the next run
        self._sandbox: AsyncSandbox | None = None
        self._context: Any = None  # our own code context after a restart; None: the default
        self._start_task: asyncio.Task | None = None
        self._lock = asyncio.Lock()  # one execution, upload or restart at a time
        self._running: asyncio.Task | None = None  # the /execute request, for interrupt()
        self._files: dict[str, LocalFile] = {}  # everything synced, to upload again
        self._uploaded: dict[str, str] = {}  # relative path -> sha256 in this sandbox
        #: Set on reconnecting to a living sandbox: ask it which files it already has.
        self._ask_remote_digests = False
        self._history: list[str] = []  # cells that ran without error since the last restart
        self._baseline: workspace.Listing | None = None  # the working dir after the last cell
        self._lost: str | None = None  # why the previous sandbox is gone, until replaced
        self._restore_needed = False  # a new sandbox replaced a lost one: files and cells
        self._notices: list[str] = []  # for the next run_cell's result
        self._seeded: list[str] = []  # cells handed over before the first start
        self._background: set[asyncio.Task] = set()  # kills of abandoned sandboxes
        self._cell_timeout = 300.0  # the last cell's timeout, also used when re-running cells
        self._last_used = time.monotonic()
        self._extended_at = 0.0

    # -- lifetime ---------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "sandbox_id": self._sandbox.sandbox_id if self._sandbox else self._wanted_id
        }
        context = self._context.id if self._context is not None else self._wanted_context
        if context:
            state["context_id"] = context
        return state

    def idle_for(self) -> float:
        """Seconds since the executor was last used."""
        return time.monotonic() - self._last_used

    def seed_history(self, codes: list[str], last_count: int = 0) -> None:
        """Cells that ran before in the remembered sandbox (`sandbox_id`), e.g. read back
        from the notebook after a server restart. If that sandbox turns out to be gone,
        they are re-run in the new one, and they are re-run whenever it is replaced
        later. Without a remembered sandbox they never ran here and are ignored.
        `last_count`: the highest `In [n]` they show; the next cell is n + 1."""
        self._count = max(self._count, last_count)
        codes = [c for c in codes if c.strip()]
        if self._sandbox is None and self._start_task is None:
            self._seeded = codes
        else:
            self._history = codes + self._history

    async def ensure_ready(self) -> None:
        self._last_used = time.monotonic()
        while self._sandbox is None:
            if self._start_task is None or self._start_task.done():
                self._start_task = asyncio.ensure_future(self._start())
            # Shielded: one caller giving up does not stop the start the others wait for.
            await asyncio.shield(self._start_task)
        if not await self._keep_alive():
            self._forget_sandbox("had stopped")
            await self.ensure_ready()

    async def _start(self) -> None:
        """Reconnect to the wanted sandbox if it still runs, else create one."""
        options = {"api_key": self.api_key, **self.sdk_options}
        wanted, self._wanted_id = self._wanted_id, None
        seeded, self._seeded = self._seeded, []
        sandbox = None
        if wanted:
            self._history = seeded + self._history  # they ran in the wanted sandbox
            try:
                sandbox = await AsyncSandbox.connect(
                    wanted, timeout=int(self.idle_timeout), **options
                )
            except NotFoundException:
                self.log.info("nbchat: E2B sandbox %s is gone; starting a new one", wanted)
                if self._history:
                    self._lost = self._lost or "had stopped"
            except Exception as err:
                self._wanted_id = wanted  # try again next time
                raise ExecutorUnavailable(_start_failure("connect to", err)) from err
        if sandbox is not None:
            await self._adopt_context(sandbox)
            self._ask_remote_digests = True  # its files may already be there
        else:
            sandbox = await self._create(options)
            self._restore_needed = self._lost is not None
            self.log.info("nbchat: started E2B sandbox %s", sandbox.sandbox_id)
        self._wanted_context = None
        self._extended_at = time.monotonic()
        self._sandbox = sandbox

    async def _create(self, options: dict[str, Any]) -> AsyncSandbox:
        """A new sandbox; a failure that may pass (5xx, busy, network) is retried with
        backoff before the person hears of it."""
        for attempt in range(self.start_attempts):
            try:
                return await AsyncSandbox.create(
                    template=self.template,
                    timeout=int(self.idle_timeout),
                    metadata=dict(self.metadata),
                    **options,
                )
            except Exception as err:
                if attempt + 1 >= self.start_attempts or not _may_pass(err):
                    raise ExecutorUnavailable(_start_failure("start", err)) from err
                delay = START_BACKOFF * 2**attempt
                self.log.warning(
                    "nbchat: starting an E2B sandbox failed (%s); retrying in %.1f s", _describe(err), delay
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _adopt_context(self, sandbox: AsyncSandbox) -> None:
        """After a reconnect: keep using our own context if it is still there."""
        if not self._wanted_context:
            return
        try:
            contexts = await sandbox.list_code_contexts()
        except _SDK_ERRORS:
            self.log.warning("nbchat: could not list the sandbox's code contexts", exc_info=True)
            return
        self._context = next((c for c in contexts if c.id == self._wanted_context), None)
        if self._context is None:
            self.log.info(
                "nbchat: code context %s is gone; using the default one", self._wanted_context
            )

    async def _keep_alive(self) -> bool:
        """Push the sandbox's timeout out again (at most once a minute); False if it is gone."""
        sandbox = self._sandbox
        if sandbox is None or time.monotonic() - self._extended_at < KEEPALIVE_SECONDS:
            return True
        self._extended_at = time.monotonic()
        try:
            await sandbox.set_timeout(int(self.idle_timeout))
        except NotFoundException:
            return False
        except Exception:
            self.log.warning(
                "nbchat: could not extend the timeout of E2B sandbox %s",
                sandbox.sandbox_id,
                exc_info=True,
            )
        return True

    def _forget_sandbox(self, why: str) -> None:
        """The sandbox is gone: the next use starts a new one and restores files and cells."""
        if self._sandbox is not None:
            self.log.info("nbchat: E2B sandbox %s %s", self._sandbox.sandbox_id, why)
        self._sandbox = None
        self._context = None
        self._bridged = self._unsettled = False
        self._uploaded.clear()
        self._baseline = None
        self._lost = why

    async def _gone(self, sandbox: AsyncSandbox, err: BaseException) -> bool:
        """Did `err` happen because the sandbox stopped? Asks the sandbox when unsure."""
        if isinstance(err, (SandboxNotRunningException, SandboxNotFoundException)):
            return True
        try:
            return not await sandbox.is_running(request_timeout=CHECK_TIMEOUT)
        except Exception:  # noqa: BLE001 - cannot tell: treat it as a connection problem
            return False

    async def _ready_sandbox(self) -> AsyncSandbox:
        """The running sandbox, with files and cells restored if it replaced a lost one.
        Call with the lock held."""
        await self.ensure_ready()
        if self._restore_needed:
            try:
                await self._restore()
            except _SDK_ERRORS as err:
                self._forget_sandbox("had stopped")
                raise ExecutorUnavailable(
                    f"A new E2B sandbox was started, but restoring the files and earlier cells failed: {_describe(err)}"
                ) from err
        assert self._sandbox is not None
        return self._sandbox

    async def _restore(self) -> None:
        """Upload the files again and re-run the earlier cells in the new sandbox.

        All or nothing: a restore that fails or is cancelled half-way leaves no
        half-restored sandbox behind (re-running its first cells twice would be wrong);
        that sandbox is killed and the next use starts over."""
        sandbox = self._sandbox
        assert sandbox is not None
        why = self._lost or "had stopped"
        files = [f for f in self._files.values() if f.absolute_path.is_file()]
        try:
            for f in files:
                await self._upload(sandbox, f)
            replayed, failures = await self._replay(sandbox)
        except BaseException:
            self._forget_sandbox(why)
            self._kill_later(sandbox)
            raise
        self._restore_needed = False
        self._lost = None
        self._baseline = None
        parts = ["started a new one"]
        if files:
            parts.append(f"re-uploaded {_count(len(files), 'file')}")
        if replayed:
            parts.append(f"re-ran {_count(replayed, 'earlier cell')}")
        notice = f"The sandbox {why}; " + _join(parts) + "."
        if failures:
            notice += f" {failures} of them failed this time, so some variables may be missing."
        self._notices.append(notice)

    async def _replay(self, sandbox: AsyncSandbox) -> tuple[int, int]:
        """Run the chat's earlier cells again, in order, in a new kernel: (re-run, failed
        this time). Raises the SDK's or the connection's failure."""
        replayed = failures = 0
        for code in list(self._history):
            run = await self._execute(sandbox, code, self._cell_timeout)
            if run.failure is not None:
                raise run.failure
            replayed += 1
            failures += bool(run.timed_out or run.interrupted or run.outputs.has_error)
        return replayed, failures

    def _kill_later(self, sandbox: AsyncSandbox) -> None:
        task = asyncio.ensure_future(self._kill(sandbox))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _kill(self, sandbox: AsyncSandbox) -> None:
        try:
            await asyncio.wait_for(sandbox.kill(), KILL_TIMEOUT)
        except Exception:  # never raises: an unkilled sandbox expires on its own
            self.log.warning(
                "nbchat: could not kill E2B sandbox %s", sandbox.sandbox_id, exc_info=True
            )

    async def close(self) -> None:
        """Kill the sandbox; never raises. A later use starts a new one and restores."""
        task, self._start_task = self._start_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        sandbox = self._sandbox
        if sandbox is None:
            return
        self._forget_sandbox("had been shut down")
        await self._kill(sandbox)

    # -- files ------------------------------------------------------------------

    async def sync_files(self, files: list[LocalFile]) -> SyncReport:
        for f in files:
            workspace.check_relative(f.relative_path)
        missing = [f.relative_path for f in files if not f.absolute_path.is_file()]
        if missing:
            raise ExecutorUnavailable(
                f"Attached file(s) not found next to the notebook: {', '.join(missing)}"
            )
        async with self._lock:
            report = SyncReport()
            # Known before the sandbox is made ready: a restore uploads them before it
            # re-runs the earlier cells, which read them.
            for f in files:
                self._files[f.relative_path] = f
            sandbox = await self._ready_sandbox()
            self._touch()
            if self._ask_remote_digests:
                self._ask_remote_digests = False
                await self._learn_remote_digests(sandbox, files)
            for f in files:
                if self._uploaded.get(f.relative_path) == f.sha256:
                    report.unchanged.append(f.relative_path)
                    continue
                try:
                    await self._upload(sandbox, f)
                except _SDK_ERRORS as err:
                    if not await self._gone(sandbox, err):
                        raise ExecutorUnavailable(
                            f"Uploading {f.relative_path} to the E2B sandbox failed: {err}"
                        ) from err
                    self._forget_sandbox("had stopped")
                    sandbox = await self._ready_sandbox()  # uploads every known file again
                    if self._uploaded.get(f.relative_path) != f.sha256:
                        await self._upload(sandbox, f)
                report.uploaded.append(f.relative_path)
                report.bytes_sent += f.size
            return report

    async def _learn_remote_digests(self, sandbox: AsyncSandbox, files: list[LocalFile]) -> None:
        """After reconnecting to a living sandbox, count as uploaded what is already there.

        The sandbox hashes its own copies, so unchanged files cost a hidden run, not a transfer.
        """
        wanted = [f.relative_path for f in files if f.relative_path not in self._uploaded]
        if not wanted:
            return
        code = _REMOTE_DIGESTS % (WORKDIR, json.dumps(wanted))
        run = await self._execute(sandbox, code, CHECK_TIMEOUT, CellOutputs(max_chars=None))
        if run.failure is not None or run.timed_out or run.interrupted:
            return  # uploading again is always correct, only slower
        text = run.outputs.stdout()
        try:
            remote = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return
        for f in files:
            if remote.get(f.relative_path) == f.sha256:
                self._uploaded[f.relative_path] = f.sha256

    async def _upload(self, sandbox: AsyncSandbox, f: LocalFile) -> None:
        """Stream one file to its place below the working directory."""
        handle = await asyncio.to_thread(open, f.absolute_path, "rb")
        try:
            await sandbox.files.write(f"{WORKDIR}/{f.relative_path}", handle)
        finally:
            await asyncio.to_thread(handle.close)
        self._uploaded[f.relative_path] = f.sha256
        self._baseline = None

    async def _list_workdir(self, sandbox: AsyncSandbox) -> workspace.Listing:
        walk = workspace.Walk()
        for folder in walk.folders():
            path = f"{WORKDIR}/{folder}" if folder else WORKDIR
            entries = await sandbox.files.list(path, depth=1, request_timeout=CHECK_TIMEOUT)
            walk.add(
                folder, [(e.name, _kind(e), e.size, e.modified_time.timestamp()) for e in entries]
            )
        return walk.listing

    async def _copy_back(
        self, sandbox: AsyncSandbox, before: workspace.Listing
    ) -> tuple[list[ChangedFile], str | None]:
        """Bring the files the cell created or changed into the notebook's folder."""
        try:
            after = await self._list_workdir(sandbox)
        except _SDK_ERRORS as err:
            return [], f"Could not check which files the cell wrote in the sandbox: {err}"
        self._baseline = after
        changed = await copy_back.copy_back(
            before,
            after,
            lambda path: self._download(sandbox, path),
            max_bytes=self.max_copy_back_bytes,
            errors=_SDK_ERRORS,
            place="the sandbox",
            uploaded=self._uploaded,
        )
        return changed, None

    async def _download(self, sandbox: AsyncSandbox, relative: str) -> str:
        """Stream a sandbox file to the same relative path below the notebook's folder;
        returns its sha256. The file appears complete or not at all."""
        dest = await asyncio.to_thread(workspace.destination, self.notebook_dir, relative)
        partial = await asyncio.to_thread(workspace.PartialFile, dest)
        digest = hashlib.sha256()
        received = 0
        buffer = bytearray()

        def write(data: bytes) -> None:
            digest.update(data)
            partial.write(data)

        try:
            async with await sandbox.files.read(f"{WORKDIR}/{relative}", format="stream") as stream:
                async for chunk in stream:
                    received += len(chunk)
                    if received > self.max_copy_back_bytes:
                        raise copy_back.FileTooLarge()
                    buffer += chunk
                    if len(buffer) >= WRITE_CHUNK:
                        await asyncio.to_thread(write, bytes(buffer))
                        buffer.clear()
            await asyncio.to_thread(write, bytes(buffer))
            await asyncio.to_thread(partial.commit)
        except BaseException:
            await asyncio.to_thread(partial.discard)
            raise
        return digest.hexdigest()

    # -- running code -----------------------------------------------------------

    async def run_cell(
        self, code: str, timeout: float, on_output: Callable[[], None] | None = None
    ) -> ExecutionResult:
        async with self._lock:
            self._cell_timeout = timeout
            self.live = CellOutputs(self.max_output_chars, on_change=on_output)
            try:
                return await self._run_cell(code, timeout, self.live)
            except _SDK_ERRORS as err:
                raise ExecutorUnavailable(
                    f"The E2B sandbox could not run the cell: {_describe(err)}"
                ) from err

    async def _run_cell(self, code: str, timeout: float, live: CellOutputs) -> ExecutionResult:
        notices: list[str] = []
        sandbox, before = await self._sandbox_and_listing(notices)
        await self._settle(sandbox)
        await self._bridge(sandbox)
        count = live.execution_count = self._count + 1  # shown at once, as a kernel's [n]
        run = await self._execute(sandbox, code, timeout, live)
        if run.failure is not None and _refused(run) and await self._gone(sandbox, run.failure):
            # Gone before the code was accepted (nothing printed): run it in a new sandbox.
            self._forget_sandbox("had stopped")
            sandbox, before = await self._sandbox_and_listing(notices)
            await self._bridge(sandbox)
            run = await self._execute(sandbox, code, timeout, live)
        if not (run.failure is not None and _refused(run)):
            self._count = count
        run.execution_count = live.execution_count = count if self._count == count else None
        if run.timed_out:
            run.outputs.add(
                error_output(
                    "TimeoutError", f"The cell ran longer than {timeout:g} s and was interrupted."
                )
            )
        elif run.interrupted:
            run.outputs.add(error_output("KeyboardInterrupt", "The cell was interrupted."))
        elif run.failure is not None:
            await self._report_failure(sandbox, run, notices)
        changed: list[ChangedFile] = []
        if before is not None and self._sandbox is sandbox:
            changed, problem = await self._copy_back(sandbox, before)
            if problem:
                notices.append(problem)
        if not (run.timed_out or run.interrupted or run.failure or run.outputs.has_error):
            self._history.append(code)
        return ExecutionResult(
            outputs=run.outputs.outputs(),
            execution_count=run.execution_count,
            timed_out=run.timed_out,
            changed_files=changed,
            notices=self._take_notices() + notices,
        )

    async def _bridge(self, sandbox: AsyncSandbox) -> None:
        """Install the display bridge (`_DISPLAY_BRIDGE`) in the kernel, once per kernel.
        Without it cells still run; `clear_output` and display updates then add outputs."""
        if self._bridged:
            return
        mark = uuid.uuid4().hex
        run = await self._execute(sandbox, _DISPLAY_BRIDGE % mark, CHECK_TIMEOUT, CellOutputs(max_chars=None))
        if run.failure is None and not (run.timed_out or run.interrupted or run.outputs.has_error):
            self._bridged, self._kernel_mark = True, mark
        else:
            self.log.warning("nbchat: the display bridge could not be installed: %s", run.outputs.error() or run.failure)

    async def _settle(self, sandbox: AsyncSandbox) -> None:
        """After a stopped cell, before anything else runs: is the kernel idle, and still the
        one that ran the chat's cells?

        Stop closes the /execute request and the code interpreter then interrupts the kernel,
        but an interrupt that lands before the cell has begun is lost, and the cell runs on
        (or the code interpreter restarts the kernel). A probe tells: it answers at once, with
        the kernel's mark, only from the same idle kernel. Otherwise the kernel is restarted
        and the chat's earlier cells re-run, so Stop always stops and variables are kept."""
        if not self._unsettled:
            return
        probe = await self._execute(sandbox, _PROBE, PROBE_TIMEOUT, CellOutputs(max_chars=None))
        self._unsettled = False  # also when the probe itself timed out: settled below
        same = probe.failure is None and not (probe.timed_out or probe.interrupted)
        if same and self._kernel_mark and probe.outputs.stdout().strip() == self._kernel_mark:
            return
        self.log.info("nbchat: the stopped cell did not stop cleanly; restarting the sandbox's kernel")
        await self._fresh_kernel(sandbox)
        replayed, _ = await self._replay(sandbox)
        self._notices.append(
            "The stopped cell did not stop when interrupted, so the sandbox's kernel was restarted"
            + (f" and {_count(replayed, 'earlier cell')} re-run." if replayed else ".")
        )

    async def _fresh_kernel(self, sandbox: AsyncSandbox) -> None:
        """Our own code context, restarted (or made, the first time: the default one cannot
        be restarted by id); other contexts are removed, so nothing keeps spinning."""
        self._bridged = False
        if self._context is None:
            self._context = await sandbox.create_code_context(cwd=WORKDIR, language="python")
        else:
            await sandbox.restart_code_context(self._context)
        try:
            for context in await sandbox.list_code_contexts():
                if context.id != self._context.id:
                    await sandbox.remove_code_context(context)
        except _SDK_ERRORS:
            self.log.debug("nbchat: could not remove the sandbox's other code contexts", exc_info=True)

    async def _sandbox_and_listing(
        self, notices: list[str]
    ) -> tuple[AsyncSandbox, workspace.Listing | None]:
        """The ready sandbox and its working directory before the cell (None if that
        could not be listed). Listing is also how a sandbox that stopped since the
        last cell is noticed, and replaced, before the cell runs."""
        sandbox = await self._ready_sandbox()
        self._touch()
        if self._baseline is not None:
            return sandbox, self._baseline
        try:
            return sandbox, await self._list_workdir(sandbox)
        except _SDK_ERRORS as err:
            if not await self._gone(sandbox, err):
                notices.append(
                    f"Could not list the sandbox's files before the cell: {_describe(err)}"
                )
                return sandbox, None
        self._forget_sandbox("had stopped")
        sandbox = await self._ready_sandbox()
        return sandbox, await self._list_workdir(sandbox)

    async def _report_failure(self, sandbox: AsyncSandbox, run: _Run, notices: list[str]) -> None:
        """The request failed: say whether the sandbox is gone or only the connection."""
        err = run.failure
        if await self._gone(sandbox, err):
            self._forget_sandbox("had stopped")
            run.outputs.add(
                error_output(
                    "SandboxStopped",
                    "The E2B sandbox stopped while the cell was running. The next cell starts a "
                    "new sandbox, uploads the files again and re-runs the earlier cells.",
                )
            )
            notices.append("The sandbox stopped while a cell was running.")
        else:
            run.outputs.add(
                error_output(
                    "SandboxConnectionError",
                    f"The connection to the E2B sandbox failed while running the cell ({_describe(err)}). "
                    "The sandbox is still running and keeps its variables; the cell may not have "
                    "finished, so run it again.",
                )
            )

    async def _execute(
        self, sandbox: AsyncSandbox, code: str, timeout: float, outputs: CellOutputs | None = None
    ) -> _Run:
        """Run `code` in our context, collecting outputs in order (into `outputs`, live),
        within `timeout` seconds.

        Never raises for the sandbox's or the connection's failures (see `_Run`). When
        the caller is cancelled, the request is closed, which interrupts the kernel."""
        run = _Run(outputs=outputs if outputs is not None else CellOutputs(self.max_output_chars))
        kwargs: dict[str, Any] = {"context": self._context} if self._context is not None else {}
        task = asyncio.ensure_future(
            sandbox.run_code(
                code,
                **run.callbacks(),
                # The SDK's timeout bounds the silence between two outputs; ours, below,
                # bounds the whole cell and comes first.
                timeout=timeout + 30,
                **kwargs,
            )
        )
        self._running = task
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout)
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            run.outputs.add(error_output("KeyboardInterrupt", "The cell was interrupted."))
            self._unsettled = True  # see _settle
            raise
        finally:
            self._running = None
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            run.timed_out = self._unsettled = True
        elif task.cancelled():
            run.interrupted = self._unsettled = True
        elif task.exception() is not None:
            run.failure = task.exception()
        else:
            run.execution_count = task.result().execution_count  # the sandbox's; see _run_cell
        if run.kernel_died:
            self._history.clear()
            self._bridged = False
            self._notices.append(
                "The sandbox's kernel died while running a cell and was restarted; "
                "variables from earlier cells are gone."
            )
        return run

    async def run_hidden(self, code: str, timeout: float = 30.0) -> str:
        async with self._lock:
            sandbox = await self._ready_sandbox()
            self._touch()
            await self._settle(sandbox)
            run = await self._execute(sandbox, code, timeout, CellOutputs(max_chars=None))
            if run.failure is not None and await self._gone(sandbox, run.failure):
                self._forget_sandbox("had stopped")
                sandbox = await self._ready_sandbox()
                run = await self._execute(sandbox, code, timeout, CellOutputs(max_chars=None))
        if run.timed_out:
            raise TimeoutError("hidden execution timed out")
        if run.interrupted:
            raise RuntimeError("hidden execution was interrupted")
        if run.failure is not None:
            raise RuntimeError(f"hidden execution failed: {_describe(run.failure)}")
        error = run.outputs.error()
        if error is not None:
            raise RuntimeError(f"{error['ename']}: {error['evalue']}")
        return run.outputs.stdout()

    async def interrupt(self) -> None:
        """Close the running /execute request; the code interpreter then interrupts the kernel."""
        task = self._running
        if task is not None and not task.done():
            task.cancel()

    async def restart(self) -> None:
        """A fresh Python kernel in the same sandbox: variables are gone, files stay."""
        async with self._lock:
            self._history.clear()
            self._count = 0  # a fresh kernel counts from 1, as Jupyter's do
            self._bridged = self._unsettled = False
            sandbox = await self._ready_sandbox()
            self._touch()
            try:
                if self._context is None:
                    self._context = await sandbox.create_code_context(
                        cwd=WORKDIR, language="python"
                    )
                else:
                    await sandbox.restart_code_context(self._context)
            except _SDK_ERRORS as err:
                if not await self._gone(sandbox, err):
                    raise ExecutorUnavailable(
                        f"Restarting the sandbox's kernel failed: {_describe(err)}"
                    ) from err
                # A new sandbox is a restart too; no cells to re-run, the files come back.
                self._forget_sandbox("had stopped")
                await self._ready_sandbox()

    # -- helpers ----------------------------------------------------------------

    def _touch(self) -> None:
        self._last_used = time.monotonic()

    def _take_notices(self) -> list[str]:
        notices, self._notices = self._notices, []
        return notices


async def list_sandboxes(api_key: str, metadata: dict[str, str], **sdk_options: Any) -> list[tuple[str, dict[str, str]]]:
    """(sandbox_id, metadata) of every running or paused sandbox we created whose metadata
    holds `metadata` (all pages)."""
    query = SandboxQuery(metadata={"app": APP, **metadata}, state=[SandboxState.RUNNING, SandboxState.PAUSED])
    paginator = AsyncSandbox.list(query=query, api_key=api_key, **sdk_options)
    found: list[tuple[str, dict[str, str]]] = []
    while paginator.has_next:
        for info in await paginator.next_items():
            found.append((info.sandbox_id, dict(info.metadata or {})))
    return found


async def kill_sandbox(api_key: str, sandbox_id: str, **sdk_options: Any) -> bool:
    """Kill a sandbox by id; False when it was gone already or could not be killed."""
    try:
        return bool(await asyncio.wait_for(AsyncSandbox.kill(sandbox_id, api_key=api_key, **sdk_options), KILL_TIMEOUT))
    except Exception as err:  # noqa: BLE001 - it expires on its own; the next start tries again
        logging.getLogger(__name__).warning("nbchat: could not kill E2B sandbox %s: %s", sandbox_id, _describe(err))
        return False


def describe(err: BaseException | None) -> str:
    """An SDK or connection error in one line, for logs and messages."""
    return _describe(err)


def _refused(run: _Run) -> bool:
    """The request was answered with an HTTP error before any output: the code
    interpreter never accepted the code (the SDK raises these straight from the
    status, with no underlying transport error)."""
    err = run.failure
    return (
        isinstance(err, SandboxException)
        and err.__cause__ is None
        and err.__context__ is None
        and not run.outputs.outputs()
    )


def _kind(entry: Any) -> workspace.Kind:
    if entry.type == FileType.SYMLINK or getattr(entry, "symlink_target", None):
        return "symlink"
    if entry.type == FileType.DIR:
        return "dir"
    if entry.type == FileType.FILE:
        return "file"
    return "other"


def _describe(err: BaseException | None) -> str:
    text = str(err).strip().splitlines()[0] if err is not None and str(err).strip() else ""
    name = type(err).__name__
    return f"{name}: {text}" if text else name


def _may_pass(err: BaseException) -> bool:
    """Worth another try: E2B busy or failing (5xx, 429), or the network; not a refusal."""
    if isinstance(err, (AuthenticationException, NotFoundException)):
        return False
    if isinstance(err, (ServiceBusyException, RateLimitException, httpx.TransportError, OSError)):
        return True
    status = getattr(err, "status_code", None)  # the SDK's SandboxException for other statuses
    return isinstance(status, int) and status >= 500


def _start_failure(verb: str, err: BaseException) -> str:
    if isinstance(err, AuthenticationException):
        return (
            "E2B rejected the API key. Check E2B_API_KEY (or c.NbChat.e2b_api_key) on the server."
        )
    if isinstance(err, ServiceBusyException):
        return (
            f"E2B is busy and could not {verb} a sandbox; try again in a moment, or choose the "
            f"local kernel under \u201cRuns in\u201d in the chat. ({_describe(err)})"
        )
    return (
        f"Could not {verb} an E2B sandbox: {_describe(err)}. Try again in a moment, or choose "
        "the local kernel under \u201cRuns in\u201d in the chat."
    )


def _count(n: int, noun: str, plural: str | None = None) -> str:
    if plural is not None:
        return f"{n} {noun if n == 1 else plural}"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
