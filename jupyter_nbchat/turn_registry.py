"""All turns of this server, the executors they run on, and the one Claude client."""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections import OrderedDict
from pathlib import Path
from collections.abc import Awaitable, Mapping
from typing import Any

import anthropic
from jupyter_core.utils import ensure_async
from tornado.ioloop import PeriodicCallback

from . import collaboration, notebook
from .databases.environment import set_environment
from .databases.service import Databases
from .datafiles import DataFiles, InspectResult
from .errors import ExecutorUnavailable, FocusCellNotFound, NoApiKeyError, NotebookNotFound, TurnConflict, TurnNotFound, TurnRunning
from .execution import Executor, KernelExecutor
from .execution.base import LocalFile
from .execution.introspection import list_variables
from .models import (
    NotebookCell,
    RecordAnswer,
    RecordChanged,
    RecordRequest,
    RerunFailure,
    RerunRequest,
    RerunResult,
    TurnRequest,
    UndoPlan,
    UndoRequest,
    WarmRequest,
)
from .llm.models import thinking_config
from .record import attachments_of, read_record, undo_plan, with_settings
from .turn import Turn, TurnRunner, TurnSettings

#: Finished turns kept for late readers before the oldest are dropped.
KEEP_FINISHED_TURNS = 200
#: Seconds shutdown waits for the runtimes to close (all at once).
CLOSE_TIMEOUT = 10.0


class TurnRegistry:
    def __init__(self, *, app: Any, serverapp: Any, log: logging.Logger) -> None:
        self.app = app  # the NbChat extension app: its traits are the configuration
        self.serverapp = serverapp
        self.log = log
        self.turns: OrderedDict[str, Turn] = OrderedDict()
        self.executors: dict[str, Executor] = {}
        #: Per notebook: the task that starts its executor and makes its files available.
        self._preparing: dict[str, asyncio.Task] = {}
        self._claude: anthropic.AsyncAnthropic | None = None
        self._thinking: dict[str, dict[str, Any] | None] = {}  # model -> its thinking config
        #: Per notebook: the NBCHAT_DB_* variables its last turn set (a re-run sets them again).
        self._database_env: dict[str, dict[str, str]] = {}
        self._sweeper: PeriodicCallback | None = None
        #: Set by close(): no panel can come back, so turns waiting for one write at once.
        self._closing = asyncio.Event()

    def start_sweeper(self, interval_seconds: float) -> None:
        """Close sandboxes nobody used for longer than their idle timeout (their cost runs)."""
        self._sweeper = PeriodicCallback(self.close_idle, interval_seconds * 1000)
        self._sweeper.start()

    async def close_idle(self) -> list[str]:
        """Close idle executors of chats with no running turn; returns their notebook paths."""
        closed = []
        for path, executor in list(self.executors.items()):
            idle_for = getattr(executor, "idle_for", None)
            if idle_for is None or self.running(path) or idle_for() < self.app.e2b_idle_timeout:
                continue
            del self.executors[path]
            self._preparing.pop(path, None)
            await executor.close()
            closed.append(path)
            self.log.info("nbchat: closed the idle %s runtime of %s", executor.name, path)
        return closed

    @property
    def claude(self) -> anthropic.AsyncAnthropic:
        """One client for the server's lifetime (it pools connections)."""
        if not self.app.anthropic_api_key:
            raise NoApiKeyError()
        if self._claude is None:
            self._claude = anthropic.AsyncAnthropic(
                api_key=self.app.anthropic_api_key,
                base_url=self.app.anthropic_base_url or None,
                max_retries=self.app.max_retries,
                timeout=self.app.request_timeout,
            )
        return self._claude

    def executor_for(
        self,
        notebook_path: str,
        name: str | None = None,
        state: dict[str, str | None] | None = None,
        cells: list[NotebookCell] = (),  # type: ignore[assignment]
    ) -> Executor:
        """The chat's executor: kept across turns, replaced when the chat switches executors.

        The one way to a runtime, whoever asks (a turn, warm): a new one is told the chat's
        earlier cells (`cells`, the notebook's), so that a sandbox that must be replaced
        re-runs them in order, after the files are uploaded, and numbers on from them."""
        name = name or self.app.chat_executor()
        self.app.check_policy(executor=name)  # NbChat.allowed_executors, for turns and warm alike
        executor = self.executors.get(notebook_path)
        if executor is not None and executor.name == name:
            return executor
        if executor is not None:
            asyncio.ensure_future(executor.close())
        executor = self._new_executor(notebook_path, name, state or {})
        if hasattr(executor, "seed_history"):
            ran = [c for c in cells if c.cell_type == "code" and c.nbchat.get("role") == "code"]
            counts = [c.execution_count for c in ran if isinstance(c.execution_count, int)]
            executor.seed_history([c.text for c in ran], max(counts, default=0))
        self.executors[notebook_path] = executor
        return executor

    def _new_executor(self, notebook_path: str, name: str, state: dict[str, str | None]) -> Executor:
        if name == "kernel":
            return KernelExecutor(
                kernel_manager=self.serverapp.kernel_manager,
                session_manager=self.serverapp.session_manager,
                notebook_path=notebook_path,
                log=self.log,
                max_output_chars=self.app.max_output_chars,
                max_copy_back_bytes=int(self.app.max_copy_back_mb * 2**20),
            )
        if not self.app.e2b_api_key:
            raise ExecutorUnavailable(
                "The E2B executor needs an API key: set E2B_API_KEY (or c.NbChat.e2b_api_key) "
                "on the server and restart it, or choose the local kernel."
            )
        from .execution.e2b import E2BExecutor

        root = Path(self.serverapp.contents_manager.root_dir)
        return E2BExecutor(
            api_key=self.app.e2b_api_key,
            template=self.app.e2b_template or None,
            idle_timeout=self.app.e2b_idle_timeout,
            notebook_dir=root / posixpath.dirname(notebook_path),
            max_copy_back_bytes=int(self.app.max_copy_back_mb * 1024 * 1024),
            sandbox_id=state.get("sandbox_id"),
            context_id=state.get("context_id"),
            log=self.log,
            max_output_chars=self.app.max_output_chars,
            metadata={"instance": self.app.instance_id, "notebook": notebook_path},
        )

    async def start(self, request: TurnRequest) -> Turn:
        # The administrator's policy first: a refused request leaves no trace.
        self.app.check_policy(
            model=request.model,
            executor=request.executor,
            review=request.review if "review" in request.model_fields_set else None,
        )
        if self.app.force_review:
            request = request.model_copy(update={"review": True})
        claude = self.claude
        path = request.notebook_path
        if request.write == "browser":
            exists = await ensure_async(self.serverapp.contents_manager.file_exists(path))
            if not exists:
                raise NotebookNotFound(path)
        if self.running(path):
            raise TurnConflict(path)
        files = await self.inspect_attachments(request.notebook_path, request.attachments, request.context_level)
        cells, record = request.cells, request.record
        if cells is None or record is None:  # what the request did not send, as last saved
            saved_cells, saved_record = await self._saved_notebook(path)
            cells = saved_cells if cells is None else cells
            record = saved_record if record is None else record
        if request.focus is not None and all(c.id != request.focus.cell_id for c in cells):
            raise FocusCellNotFound(request.focus.cell_id)
        chat = read_record(record, self.app.context_level)
        # The chat's databases (record["databases"]): an unknown name fails the request (400)
        # before any runtime starts; the schema comes from the crawl cache.
        database_names = _database_names(chat)
        _, database_prompt = await Databases.for_app(self.app).for_turn(
            database_names, request.context_level or chat["context_level"]
        )
        database_env = await Databases.for_app(self.app).environment(database_names)
        executor = self.executor_for(path, request.executor, _saved_state(request), cells)
        ready = self.prepare(path, executor, files, database_env)
        self._database_env[path] = database_env
        turn = Turn(request, chat)
        model = request.model or self.app.chat_model()
        runner = TurnRunner(
            turn,
            claude=claude,
            executor=executor,
            ready=ready,
            files=files,
            databases_prompt=database_prompt,
            settings=TurnSettings(
                model=model,
                thinking=await self.thinking_config(model),
                max_steps=self.app.max_steps,
                max_tokens=self.app.max_tokens,
                execution_timeout=self.app.execution_timeout,
                max_fix_attempts=request.max_fix_attempts or self.app.max_fix_attempts,
                verify_numbers=self.app.verify_numbers,
                images_to_claude=(
                    self.app.images_to_claude if request.images_to_claude is None else request.images_to_claude
                ),
                image_max_px=self.app.image_max_px,
                max_images_per_turn=self.app.max_images_per_turn,
                max_tokens_per_turn=max(0, self.app.max_tokens_per_turn),
            ),
            log=self.log,
            cells=cells,
            before_finish=self._write_cells if request.write == "server" else self._save_if_unfollowed,
        )
        self.turns[turn.id] = turn
        self._forget_old_turns()
        turn.task = asyncio.create_task(self._run(turn, runner))
        return turn

    async def thinking_config(self, model: str) -> dict[str, Any] | None:
        """How `model` is asked to think (llm/models.thinking_config), asked once per model."""
        if model not in self._thinking:
            self._thinking[model] = await thinking_config(self.claude, model, self.log)
        return self._thinking[model]

    async def inspect_attachments(
        self, notebook_path: str, paths: list[str], level: str | None
    ) -> InspectResult | None:
        """Summaries and prompt text of the attached files (cached; extraction off the loop)."""
        if not paths:
            return None
        return await DataFiles.for_app(self.app).inspect(paths, level, notebook_path)  # type: ignore[arg-type]

    def local_files(self, notebook_path: str, files: InspectResult | None) -> list[LocalFile]:
        """Attachments as the executor sees them: paths relative to the notebook's folder."""
        if files is None:
            return []
        root = Path(self.serverapp.contents_manager.root_dir)
        folder = posixpath.dirname(notebook_path)
        return [
            LocalFile(
                relative_path=posixpath.relpath(f.path, folder or "."),
                absolute_path=root / f.path,
                size=f.size,
                sha256=f.sha256,
            )
            for f in files.files
        ]

    def prepare(
        self, path: str, executor: Executor, files: InspectResult | None, env: Mapping[str, str] | None = None
    ) -> Awaitable[None]:
        """Start the executor and sync files now, so it overlaps with Claude's generation;
        `env` (the databases' NBCHAT_DB_* URLs) is set in the runtime by a hidden run."""
        local = self.local_files(path, files)
        previous = self._preparing.get(path)

        async def run() -> None:
            if previous is not None and not previous.done():
                await asyncio.gather(previous, return_exceptions=True)
            await executor.ensure_ready()
            if local:
                await executor.sync_files(local)
            if env:
                await set_environment(executor, env)

        if not self.app.start_executor_early:
            return run()  # a coroutine: it starts only when the first cell awaits it
        task = asyncio.ensure_future(run())
        self._preparing[path] = task
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved by the turn
        return task

    async def warm(self, request: WarmRequest) -> None:
        """Start the chat's executor and upload its files before the question is asked."""
        files = await self.inspect_attachments(request.notebook_path, request.attachments, request.context_level)
        cells: list[NotebookCell] = []
        if request.notebook_path not in self.executors:  # a new runtime needs the chat's cells
            cells, _ = await self._saved_notebook(request.notebook_path)
        executor = self.executor_for(request.notebook_path, request.executor, _saved_state(request), cells)
        self.prepare(request.notebook_path, executor, files)

    async def variables(self, notebook_path: str) -> list[dict[str, Any]]:
        """Live variables of the chat's executor; none when it has not started."""
        executor = self.executors.get(notebook_path)
        preparing = self._preparing.get(notebook_path)
        if executor is None or preparing is None or not preparing.done() or preparing.exception():
            return []
        return await list_variables(executor)

    async def restart_executor(self, notebook_path: str) -> None:
        executor = self.executors.get(notebook_path)
        if executor is None:
            raise ExecutorUnavailable("This chat has no executor to restart yet.")
        self.app.check_policy(executor=executor.name)  # one started before the policy changed
        if self.running(notebook_path):
            raise TurnConflict(notebook_path)
        await executor.restart()

    async def change_record(self, request: RecordRequest) -> RecordAnswer:
        """The chat's settings changed in the panel: the record with the change folded in,
        attachments summarised (cached) and what Claude will be told about them. A turn
        running for the notebook folds it in too and sends it to its followers."""
        self.app.check_policy(executor=request.change.executor)  # a chat may not choose it either
        chat = read_record(request.record, self.app.context_level)
        change, level = request.change, request.change.context_level or chat["context_level"]
        paths = [a["path"] for a in chat["attachments"]]
        if change.attach:
            paths += [p for p in change.attach if p not in paths]
        if change.detach:
            paths = [p for p in paths if p != change.detach]
        files = await self.inspect_attachments(request.notebook_path, paths, level)
        settings: dict[str, Any] = {
            "attachments": attachments_of(f.model_dump() for f in files.files) if files else [],
            "context_level": level,
        }
        if change.executor:
            settings["executor"] = change.executor
        if change.databases is not None:  # names only: an unknown one is refused (400), nothing connects
            service = Databases.for_app(self.app)
            for name in change.databases:
                await service.connection(name, status=400)
            settings["databases"] = list(dict.fromkeys(change.databases))
        chat = with_settings(chat, settings)
        running = next((t for t in self.of_notebook(request.notebook_path) if not t.finished), None)
        if running is not None:
            running.emit(RecordChanged(change=settings))
            chat = running.record
        return RecordAnswer(record=chat, prompt=files.prompt if files else "")

    def undo(self, request: UndoRequest) -> UndoPlan:
        """What taking a turn back does; stateless (the browser sends cells and record)."""
        turn = self.turns.get(request.turn_id)
        if turn is not None and not turn.finished:
            raise TurnRunning(request.turn_id)
        chat = read_record(request.record, self.app.context_level)
        return UndoPlan.model_validate(undo_plan(chat, request.turn_id, request.cells))

    async def rerun(self, request: RerunRequest) -> RerunResult:
        """Restart the chat's executor and run `codes` in order, stopping at the first error."""
        await self.restart_executor(request.notebook_path)
        executor = self.executors[request.notebook_path]
        await set_environment(executor, self._database_env.get(request.notebook_path, {}))  # lost on restart
        for index, code in enumerate(request.codes):
            result = await executor.run_cell(code, self.app.execution_timeout)
            error = result.error
            if error is not None:
                failure = RerunFailure(index=index, ename=str(error.get("ename", "")), evalue=str(error.get("evalue", "")))
                return RerunResult(ran=index, failed=[failure])
        return RerunResult(ran=len(request.codes), failed=[])

    async def _saved_notebook(self, path: str) -> tuple[list[NotebookCell], Any]:
        """Cells and metadata.nbchat as last saved, for requests that did not send them."""
        content = await notebook.read_saved(self.serverapp.contents_manager, path)
        if content is None:
            return [], None
        return (
            [NotebookCell.model_validate(c) for c in content.get("cells", [])],
            content.get("metadata", {}).get("nbchat"),
        )

    async def _run(self, turn: Turn, runner: TurnRunner) -> None:
        try:
            await runner.run()
        except asyncio.CancelledError:
            pass

    async def _write_cells(self, turn: Turn) -> None:
        """Append the turn's cells and record to the notebook: into the collaboration room's
        shared document when one holds it, else into the file."""
        path = turn.request.notebook_path
        await notebook.append_cells(
            self.serverapp.contents_manager,
            path,
            turn.cells,
            turn.id,
            turn.final_events(),
            turn.displaces,
            live=await collaboration.live_notebook(self.serverapp, path, self.log),
        )

    async def _save_if_unfollowed(self, turn: Turn) -> None:
        """A browser-written turn that ends with no panel following it: the server writes it.

        A reloading page gets `unfollowed_write_delay` seconds to reconnect (and write the
        cells itself); after that the cells would exist only in the event log.
        """
        if await self._follower_within(turn, self.app.unfollowed_write_delay):
            return
        await self._write_cells(turn)
        turn.saved_by_server = True
        self.log.info(
            "nbchat: no panel followed turn %s to its end; the server saved its %d cell(s) to %s",
            turn.id,
            len(turn.cells),
            turn.request.notebook_path,
        )

    async def _follower_within(self, turn: Turn, seconds: float) -> bool:
        """True when a follower is connected, or connects within `seconds` (none at shutdown)."""
        if turn.followers or self._closing.is_set():
            return bool(turn.followers)
        follower = asyncio.ensure_future(turn.follower())
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({follower, closing}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            follower.cancel()
        return follower.done() and not follower.cancelled()

    def of_notebook(self, notebook_path: str) -> list[Turn]:
        """The turns of one notebook this server remembers, oldest first."""
        return [t for t in self.turns.values() if t.request.notebook_path == notebook_path]

    def running(self, notebook_path: str) -> bool:
        return any(not t.finished for t in self.of_notebook(notebook_path))

    def get(self, turn_id: str) -> Turn:
        try:
            return self.turns[turn_id]
        except KeyError:
            raise TurnNotFound(turn_id) from None

    async def cancel(self, turn_id: str) -> None:
        """Stop generation and interrupt a running cell; the turn records `cancelled`.

        A turn already finishing (its answer given, now saving itself) is left to end as it is.
        """
        turn = self.get(turn_id)
        if turn.task is not None and not turn.task.done():
            if not turn.finishing:  # a finishing turn's work is over; it only saves itself
                turn.task.cancel()
            await asyncio.gather(turn.task, return_exceptions=True)

    def _forget_old_turns(self) -> None:
        finished = [tid for tid, t in self.turns.items() if t.finished]
        for tid in finished[: max(0, len(finished) - KEEP_FINISHED_TURNS)]:
            del self.turns[tid]

    async def kill_orphans(self) -> list[str]:
        """Kill this server's sandboxes that no notebook records any longer; their ids.

        A server that crashed, or a sandbox replaced or started by a warm-up whose id never
        reached the notebook, leaves sandboxes running (and billing) until their timeout.
        Each one we create carries its notebook and this server's `instance_id` in its E2B
        metadata; a sandbox whose notebook is gone, or records another sandbox, is
        killed. Run once when the server starts; never raises."""
        if not self.app.e2b_api_key:
            return []
        from .execution import e2b

        try:
            listed = await e2b.list_sandboxes(self.app.e2b_api_key, {"instance": self.app.instance_id})
        except Exception as err:  # noqa: BLE001 - a sweep that cannot list waits for the next start
            self.log.warning("nbchat: could not list E2B sandboxes to find orphans: %s", e2b.describe(err))
            return []
        killed = []
        for sandbox_id, metadata in listed:
            path = metadata.get("notebook", "")
            executor = self.executors.get(path)
            if executor is not None and executor.state().get("sandbox_id") == sandbox_id:
                continue  # in use by this server already
            recorded = await self._recorded_sandbox(path) if path else ""
            if recorded is None or recorded == sandbox_id:
                continue  # unreadable now (mid-save?): the next start looks again
            if await e2b.kill_sandbox(self.app.e2b_api_key, sandbox_id):
                killed.append(sandbox_id)
                self.log.info("nbchat: killed orphaned E2B sandbox %s (of %s)", sandbox_id, path or "?")
        return killed

    async def _recorded_sandbox(self, path: str) -> str | None:
        """The sandbox id the notebook at `path` records ("" if none, None if unreadable:
        a sandbox is never killed on a notebook that could not be read)."""
        try:
            _, record = await self._saved_notebook(path)
        except Exception:  # noqa: BLE001 - unreadable: say so, kill nothing
            return None
        state = read_record(record).get("executor_state") or {}
        recorded = (state.get("state") or {}).get("sandbox_id") if state.get("executor") == "e2b" else None
        return recorded or ""

    async def close(self) -> None:
        """Cancel running turns, close every runtime we started, release clients; never raises."""
        if self._sweeper is not None:
            self._sweeper.stop()
        self._closing.set()
        running = [t for t in self.turns.values() if t.task and not t.task.done()]
        for turn in running:
            if not turn.finishing:  # a finishing turn only saves itself now: let it
                turn.task.cancel()  # type: ignore[union-attr]
        await asyncio.gather(*(t.task for t in running), return_exceptions=True)
        # All at once, and bounded: shutdown must not wait on a slow cloud, one sandbox after
        # another (an unkilled sandbox expires on its own; the next start kills it as an orphan).
        closing = [asyncio.ensure_future(e.close()) for e in self.executors.values()]
        if closing:
            _, late = await asyncio.wait(closing, timeout=CLOSE_TIMEOUT)
            for task in late:
                task.cancel()
            if late:
                self.log.warning("nbchat: %d runtime(s) did not close within %g s", len(late), CLOSE_TIMEOUT)
        if self._claude is not None:
            try:
                await self._claude.close()
            except Exception:
                self.log.debug("nbchat: error closing the Claude client", exc_info=True)


def _database_names(chat: Mapping[str, Any]) -> list[str]:
    """record["databases"]: the names of the chat's database connections (a list of strings)."""
    names = chat.get("databases")
    if not isinstance(names, list):
        return []
    return list(dict.fromkeys(n for n in names if isinstance(n, str)))


def _saved_state(request: TurnRequest | WarmRequest) -> dict[str, str | None]:
    """The executor state the notebook remembered (see Executor.state)."""
    return {"sandbox_id": request.sandbox_id, "context_id": request.context_id}
