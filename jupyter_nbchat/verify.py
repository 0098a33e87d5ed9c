"""Verify notebook: run every code cell again in a fresh runtime and compare the outputs.

Why: saved outputs are evidence only if a runtime with no hidden state (variables of
deleted cells, cells run out of order, a file changed since) reproduces them. So the
notebook runs top to bottom in a FRESH kernel (or a fresh E2B sandbox) owned by the job,
beside the live one, which is never touched; every output is compared with the saved one
and the numbers each answer of the record quotes are looked up again (llm/numbers.py) in
the fresh outputs. The fresh runtime is shut down when the job ends, however it ends.

Comparing is about what a reader sees, not bytes: streams are joined per name with `\\r`
folded, rich outputs compared by MIME bundle (text exactly, once memory addresses are
masked; images by sha256), errors by name and value; execution counts, metadata and the
interleaving of streams with rich outputs are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import posixpath
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from . import notebook
from .databases.environment import set_environment
from .databases.service import Databases
from .errors import ExecutorUnavailable, NbChatError, NotebookNotFound, VerificationConflict, VerificationNotFound
from .execution import Executor, KernelExecutor
from .execution.base import LocalFile
from .execution.outputs import fold_carriage_returns
from .llm import numbers
from .models import NotebookCell, VerifyAnswer, VerifyCell, VerifyReport, VerifyRequest, VerifyStatus
from .record import read_record, turn_records

#: Finished verifications kept for late readers before the oldest are dropped.
KEEP_FINISHED = 50
#: Characters of saved or fresh text quoted in one difference.
CLIP_CHARS = 80
_HEX = re.compile(r"0x[0-9a-fA-F]{6,}")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: MIME types whose content is new on every run by design (a widget's model id).
VOLATILE_MIMES = frozenset({"application/vnd.jupyter.widget-view+json"})

# -- comparing outputs ------------------------------------------------------------------------


@dataclass
class _Seen:
    """What a reader sees of a cell's outputs, normalised."""

    streams: dict[str, str] = field(default_factory=dict)
    rich: list[dict[str, str]] = field(default_factory=list)  # MIME type -> text or "sha256:…"
    error: str | None = None  # "KeyError: 'x'"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _mask(text: str) -> str:
    """Memory addresses change on every run: `<Foo at 0x7f3a…>` reads the same."""
    return _HEX.sub("0x…", text)


def _fold(text: str) -> str:
    """Stream text as a terminal shows it (what the live outputs keep, see execution/outputs)."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(fold_carriage_returns(line) for line in lines)


def _mime_value(mime: str, value: Any) -> str:
    if mime.startswith("image/"):
        data = _text(value)
        data = data if mime == "image/svg+xml" else "".join(data.split())  # base64 line breaks
        return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()
    if isinstance(value, (str, list)):
        return _mask(_text(value))
    return _mask(json.dumps(value, sort_keys=True, default=str))


def _seen(outputs: Sequence[Mapping[str, Any]]) -> _Seen:
    seen = _Seen()
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            name = str(output.get("name", "stdout"))
            seen.streams[name] = seen.streams.get(name, "") + _text(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data") or {}
            bundle = {m: _mime_value(m, v) for m, v in data.items() if m not in VOLATILE_MIMES}
            if bundle:
                seen.rich.append(bundle)
        elif kind == "error" and seen.error is None:
            evalue = _ANSI.sub("", str(output.get("evalue", "")))
            seen.error = _mask(f"{output.get('ename', '')}: {evalue}")
    seen.streams = {name: _mask(_fold(text)) for name, text in seen.streams.items()}
    return seen


def _clip(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= CLIP_CHARS else text[: CLIP_CHARS - 1] + "…")


def _text_difference(label: str, saved: str, fresh: str) -> str:
    """Where two texts first differ, quoted line against line."""
    old, new = saved.splitlines(), fresh.splitlines()
    for line in range(max(len(old), len(new))):
        a = old[line] if line < len(old) else ""
        b = new[line] if line < len(new) else ""
        if a != b:
            where = f" at line {line + 1}" if len(old) > 1 or len(new) > 1 else ""
            return f"{label} differs{where}: saved {_clip(a)}, now {_clip(b)}"
    return f"{label} differs: saved {_clip(saved)}, now {_clip(fresh)}"  # only whitespace


def _stream_differences(saved: dict[str, str], fresh: dict[str, str]) -> list[str]:
    found = []
    for name in sorted(saved.keys() | fresh.keys(), key=lambda n: (n != "stdout", n)):
        old, new = saved.get(name), fresh.get(name)
        if old == new:
            continue
        if new is None:
            found.append(f"{name} is missing now (saved {_clip(old or '')})")
        elif old is None:
            found.append(f"new {name}: {_clip(new)}")
        else:
            found.append(_text_difference(name, old, new))
    return found


def _bundle_differences(saved: dict[str, str], fresh: dict[str, str]) -> list[str]:
    found = []
    for mime, old in saved.items():
        new = fresh.get(mime)
        if new is None:
            found.append(f"the {mime} is missing now")
        elif new == old:
            continue
        elif old.startswith("sha256:"):
            found.append(f"the {mime} differs")
        else:
            found.append(_text_difference(f"the {mime}", old, new))
    found += [f"a new {mime}" for mime in fresh if mime not in saved]
    return found


def _rich_differences(saved: list[dict[str, str]], fresh: list[dict[str, str]]) -> list[str]:
    found = [d for old, new in zip(saved, fresh) for d in _bundle_differences(old, new)]
    missing, extra = len(saved) - len(fresh), len(fresh) - len(saved)
    if missing > 0:
        found.append("an output is missing" if missing == 1 else f"{missing} outputs are missing")
    if extra > 0:
        found.append("an output is new" if extra == 1 else f"{extra} outputs are new")
    return found


def _error_difference(saved: str | None, fresh: str | None) -> list[str]:
    if saved == fresh:
        return []
    if fresh is None:
        return [f"no longer raises {_clip(saved or '')[1:-1]}"]
    if saved is None:
        return [f"now raises {_clip(fresh)[1:-1]}"]
    return [f"now raises {_clip(fresh)[1:-1]} (saved: {_clip(saved)[1:-1]})"]


def compare_outputs(saved: Sequence[Mapping[str, Any]], fresh: Sequence[Mapping[str, Any]]) -> list[str]:
    """Short sentences saying how the fresh outputs differ from the saved ones; [] = the same."""
    old, new = _seen(saved), _seen(fresh)
    return [
        *_stream_differences(old.streams, new.streams),
        *_rich_differences(old.rich, new.rich),
        *_error_difference(old.error, new.error),
    ]


# -- the report -------------------------------------------------------------------------------


@dataclass
class CellRun:
    """A code cell as saved and what it printed in the fresh runtime."""

    index: int
    cell: NotebookCell
    outputs: list[dict[str, Any]]


def build_report(executor: str, runs: Sequence[CellRun], record: Any, elapsed: float) -> VerifyReport:
    """Pure and CPU-bound (hashing images, matching numbers): run it off the event loop.

    The answers' numbers are looked up in the fresh outputs, each cell labelled with its
    SAVED execution count: that is the `Cell [n]` an answer cites."""
    cells = []
    for run in runs:
        differences = compare_outputs(run.cell.outputs, run.outputs)
        if differences:
            cells.append(
                VerifyCell(
                    cell_id=run.cell.id,
                    index=run.index,
                    execution_count=run.cell.execution_count,
                    differences=differences,
                )
            )
    sources = [numbers.Source(run.cell.execution_count, run.cell.text, run.outputs) for run in runs]
    answers = []
    for turn in turn_records(read_record(record)):
        if not turn.answer:
            continue
        check = numbers.check(turn.answer, sources, turn.question)
        missing = [u.text for u in check.unverified]
        answers.append(
            VerifyAnswer(turn_id=turn.turn_id, question=turn.question, checked=check.checked, missing=missing)
        )
    return VerifyReport(
        executor=executor,  # type: ignore[arg-type]
        total=len(runs),
        same=len(runs) - len(cells),
        different=len(cells),
        cells=cells,
        answers=answers,
        elapsed_seconds=round(elapsed, 3),
    )


# -- one verification -------------------------------------------------------------------------

#: Opens the job's own fresh executor and closes (shuts down) it on leaving, always.
FreshExecutor = Callable[[], contextlib.AbstractAsyncContextManager[Executor]]


class Verification:
    """One "Verify notebook" run: its progress (ran / total) and, once done, its report."""

    def __init__(self, notebook_path: str, executor: str, cells: list[NotebookCell], record: Any) -> None:
        self.id = uuid.uuid4().hex
        self.notebook_path = notebook_path
        self.executor = executor
        self.record = record
        #: (index in the notebook, cell) of every non-empty code cell, in order.
        self.code_cells = [(i, c) for i, c in enumerate(cells) if c.cell_type == "code" and c.text.strip()]
        self.status = "running"
        self.ran = 0
        self.report: VerifyReport | None = None
        self.message: str | None = None
        self.task: asyncio.Task | None = None

    @property
    def finished(self) -> bool:
        return self.status != "running"

    def info(self) -> VerifyStatus:
        return VerifyStatus(
            verify_id=self.id,
            notebook_path=self.notebook_path,
            status=self.status,  # type: ignore[arg-type]
            ran=self.ran,
            total=len(self.code_cells),
            report=self.report,
            message=self.message,
        )

    def settle(self, _task: asyncio.Task) -> None:
        """A task cancelled before it began never ran `run`: it still ended, cancelled."""
        if not self.finished:
            self.status = "cancelled"

    async def run(self, fresh: FreshExecutor, timeout: float, log: logging.Logger) -> None:
        """Run every code cell in order (on after errors), then compare; never raises."""
        started = time.monotonic()
        try:
            async with fresh() as executor:
                runs = await self._run_cells(executor, timeout)
            report = await asyncio.to_thread(build_report, self.executor, runs, self.record, 0.0)
            report.elapsed_seconds = round(time.monotonic() - started, 3)
            self.report, self.status = report, "done"
        except asyncio.CancelledError:
            self.status = "cancelled"
        except NbChatError as err:
            self.message, self.status = str(err), "error"
        except Exception as err:
            log.warning("nbchat: verifying %s failed", self.notebook_path, exc_info=True)
            self.message, self.status = f"Verifying the notebook failed: {type(err).__name__}: {err}", "error"

    async def _run_cells(self, executor: Executor, timeout: float) -> list[CellRun]:
        runs = []
        for index, cell in self.code_cells:
            result = await executor.run_cell(cell.text, timeout)
            runs.append(CellRun(index, cell, result.outputs))
            self.ran += 1
        return runs


# -- the fresh runtimes -----------------------------------------------------------------------


async def _shut_down(km: Any, kernel_id: str, log: logging.Logger) -> None:
    """Shut our kernel down; shielded, so a second cancellation cannot leave it running."""
    if kernel_id not in km:
        return
    try:
        await asyncio.shield(km.shutdown_kernel(kernel_id))
    except Exception:
        log.warning("nbchat: could not shut down the verification kernel %s", kernel_id, exc_info=True)


async def _start_kernel(km: Any, kernel_name: str, folder: str, log: logging.Logger) -> str:
    """A new kernel in the notebook's folder; one started under a cancellation is shut down."""
    starting = asyncio.ensure_future(km.start_kernel(kernel_name=kernel_name, path=folder))
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        started = (await asyncio.gather(starting, return_exceptions=True))[0]
        if isinstance(started, str):
            await _shut_down(km, started, log)
        raise


class Verifications:
    """Every verification of this server: at most one running per notebook."""

    def __init__(self, *, app: Any, serverapp: Any, turns: Any, log: logging.Logger) -> None:
        self.app = app  # the NbChat extension app: its traits are the configuration
        self.serverapp = serverapp
        self.turns = turns  # TurnRegistry: attachments as the executors see them
        self.log = log
        self.jobs: OrderedDict[str, Verification] = OrderedDict()

    async def start(self, request: VerifyRequest) -> Verification:
        path = request.notebook_path
        content = await notebook.read_saved(self.serverapp.contents_manager, path)
        if content is None:
            raise NotebookNotFound(path)
        self._refuse_second(path)
        metadata = content.get("metadata", {})
        cells = request.cells
        if cells is None:
            cells = [NotebookCell.model_validate(c) for c in content.get("cells", [])]
        record = request.record if request.record is not None else metadata.get("nbchat")
        chat = read_record(record, self.app.context_level)
        executor = request.executor or chat.get("executor") or self.app.executor
        if executor == "e2b" and not self.app.e2b_api_key:
            raise ExecutorUnavailable(
                "Verifying in an E2B sandbox needs an API key: set E2B_API_KEY (or "
                "c.NbChat.e2b_api_key) on the server and restart it, or verify on the local kernel."
            )
        self._refuse_second(path)  # again: another request may have started while we read
        job = Verification(path, executor, cells, record)
        if executor == "kernel":
            kernel_name = self._kernel_name(metadata)
            fresh: FreshExecutor = lambda: self._fresh_kernel(path, kernel_name, chat)  # noqa: E731
        else:
            fresh = lambda: self._fresh_sandbox(path, chat)  # noqa: E731
        self.jobs[job.id] = job
        self._forget_old()
        job.task = asyncio.create_task(job.run(fresh, self.app.execution_timeout, self.log))
        job.task.add_done_callback(job.settle)
        return job

    def _kernel_name(self, metadata: Mapping[str, Any]) -> str:
        """The notebook's own kind of kernel, as JupyterLab would start it."""
        spec = metadata.get("kernelspec")
        name = spec.get("name") if isinstance(spec, dict) else None
        return name if isinstance(name, str) and name else self.serverapp.kernel_manager.default_kernel_name

    def _refuse_second(self, path: str) -> None:
        if any(j.notebook_path == path and not j.finished for j in self.jobs.values()):
            raise VerificationConflict(path)

    @contextlib.asynccontextmanager
    async def _fresh_kernel(self, path: str, kernel_name: str, chat: dict[str, Any]) -> AsyncIterator[Executor]:
        """A new kernel of the notebook's kind in its folder (relative paths work), with the
        server's kernel manager (a gateway too, whose kernel gets the record's attachments
        when it runs elsewhere; nothing comes back); shut down on leaving."""
        km = self.serverapp.kernel_manager
        try:
            kernel_id = await _start_kernel(km, kernel_name, posixpath.dirname(path), self.log)
        except Exception as err:
            raise ExecutorUnavailable(f"A fresh {kernel_name!r} kernel did not start: {err}") from err
        executor = KernelExecutor(
            kernel_manager=km,
            session_manager=self.serverapp.session_manager,
            notebook_path=path,
            kernel_id=kernel_id,
            log=self.log,
            max_output_chars=self.app.max_output_chars,
            max_copy_back_bytes=0,
        )
        try:
            files = await self._attachments(path, chat)
            if files:
                await executor.sync_files(files)
            await self._databases(executor, chat)
            yield executor
        finally:
            await executor.close()
            await _shut_down(km, kernel_id, self.log)

    @contextlib.asynccontextmanager
    async def _fresh_sandbox(self, path: str, chat: dict[str, Any]) -> AsyncIterator[Executor]:
        """A new sandbox (never the chat's), with the record's attachments; nothing is
        copied back into the workspace; killed on leaving."""
        from .execution.e2b import E2BExecutor

        root = Path(self.serverapp.contents_manager.root_dir)
        executor = E2BExecutor(
            api_key=self.app.e2b_api_key,
            template=self.app.e2b_template or None,
            idle_timeout=self.app.e2b_idle_timeout,
            notebook_dir=root / posixpath.dirname(path),
            max_copy_back_bytes=0,
            log=self.log,
            max_output_chars=self.app.max_output_chars,
            # A server that dies mid-verification leaves it behind; the next start kills it
            # (no notebook records it: turn_registry.kill_orphans).
            metadata={"instance": self.app.instance_id, "notebook": path},
        )
        try:
            await executor.ensure_ready()
            local = await self._attachments(path, chat)
            if local:
                await executor.sync_files(local)
            await self._databases(executor, chat)
            yield executor
        finally:
            await asyncio.shield(executor.close())

    async def _attachments(self, path: str, chat: dict[str, Any]) -> list[LocalFile]:
        """The record's attachments, as a fresh runtime must be given them."""
        paths = [a["path"] for a in chat["attachments"]]
        if not paths:
            return []
        files = await self.turns.inspect_attachments(path, paths, chat["context_level"])
        return self.turns.local_files(path, files)

    async def _databases(self, executor: Executor, chat: dict[str, Any]) -> None:
        """The record's database connections as NBCHAT_DB_* in the fresh runtime (hidden run),
        so cells reading `os.environ["NBCHAT_DB_…"]` run again; unknown names are left unset."""
        names = chat.get("databases")
        if isinstance(names, list) and names:
            env = await Databases.for_app(self.app).environment([n for n in names if isinstance(n, str)])
            await set_environment(executor, env)

    def get(self, verify_id: str) -> Verification:
        try:
            return self.jobs[verify_id]
        except KeyError:
            raise VerificationNotFound(verify_id) from None

    async def cancel(self, verify_id: str) -> None:
        """Stop the run; returns once its fresh runtime is shut down."""
        job = self.get(verify_id)
        if job.task is not None and not job.task.done():
            job.task.cancel()
            await asyncio.gather(job.task, return_exceptions=True)

    def _forget_old(self) -> None:
        finished = [vid for vid, j in self.jobs.items() if j.finished]
        for vid in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self.jobs[vid]

    async def close(self) -> None:
        """Cancel running verifications (their runtimes shut down); never raises."""
        running = [j.task for j in self.jobs.values() if j.task is not None and not j.task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
