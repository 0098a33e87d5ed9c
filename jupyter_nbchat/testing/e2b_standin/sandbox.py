"""One stand-in sandbox: its files, its kernels (code contexts) and its deadline."""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import ContextNotFound, SandboxGone, UnsupportedLanguage
from .files import HOME, SandboxFS
from .kernels import KernelContext, kernel_env, new_context_id

log = logging.getLogger(__name__)

CLIENT_ID = "e2bstandin"
PYTHON_NAMES = {"python", "python3"}


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(value: datetime.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class Sandbox:
    """A running sandbox. Its default kernel starts in the background at creation,
    so ``create`` answers at once (plus any injected start delay) and the first
    ``/execute`` waits for the kernel, as a freshly booted real sandbox may."""

    def __init__(
        self,
        sandbox_id: str,
        template: str,
        metadata: dict,
        envs: dict,
        root: Path,
        fs: SandboxFS,
        on_expire: Callable[[Sandbox], None],
    ) -> None:
        self.id = sandbox_id
        self.template = template
        self.metadata = metadata
        self.envs = envs
        self.root = root
        self.fs = fs
        self.access_token = secrets.token_urlsafe(24)
        self.started_at = _utcnow()
        self.end_at = self.started_at
        self.contexts: dict[str, KernelContext] = {}
        self.streams: set = set()  # live /execute handlers, cut when the sandbox dies
        self._on_expire = on_expire
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False
        self.default_context = self._new_context(HOME, fs.home)
        self._ready = asyncio.create_task(self.default_context.start(), name=f"start-{self.id}")

    @classmethod
    async def create(cls, sandbox_id: str, template: str, metadata: dict, envs: dict, on_expire):
        """Make the sandbox's directories (in a thread) and start its default kernel."""

        def make_dirs() -> tuple[Path, SandboxFS]:
            root = Path(tempfile.mkdtemp(prefix=f"e2b-standin-{sandbox_id}-"))
            (root / "kernels").mkdir()  # IPC sockets of the kernels
            return root, SandboxFS(root / "fs")

        root, fs = await asyncio.to_thread(make_dirs)
        return cls(sandbox_id, template, metadata, envs, root, fs, on_expire)

    def _new_context(self, cwd: str, cwd_real: Path) -> KernelContext:
        context_id = new_context_id()
        context = KernelContext(
            context_id,
            "python",
            cwd,
            cwd_real,
            kernel_env(self.envs),
            ipc=self.root / "kernels" / context_id[:8],
        )
        self.contexts[context.id] = context
        return context

    # -- lifetime -------------------------------------------------------------

    def set_timeout(self, seconds: float) -> None:
        """The sandbox dies ``seconds`` from now (replaces the previous deadline)."""
        if self._timer is not None:
            self._timer.cancel()
        self.end_at = _utcnow() + datetime.timedelta(seconds=seconds)
        self._timer = asyncio.get_running_loop().call_later(max(seconds, 0), self._on_expire, self)

    def seconds_left(self) -> float:
        return (self.end_at - _utcnow()).total_seconds()

    async def close(self) -> None:
        """Cut live executions, stop every kernel, delete the files; never raises."""
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        for handler in list(self.streams):
            handler.cut()
        await asyncio.wait([self._ready])  # a kernel still starting is stopped after
        await asyncio.gather(*(c.shutdown() for c in self.contexts.values()))
        self.contexts.clear()
        try:
            await asyncio.to_thread(shutil.rmtree, self.root, True)
        except Exception:
            log.exception("removing the files of sandbox %s failed", self.id)

    # -- contexts -------------------------------------------------------------

    async def ready(self) -> None:
        """Wait for the default kernel; raises if it failed to start or the sandbox died."""
        await asyncio.shield(self._ready)
        if self.closed:
            raise SandboxGone(self.id)

    async def context_for(self, context_id: str | None, language: str | None) -> KernelContext:
        """The context an ``/execute`` request names: by id, by language, or the default."""
        await self.ready()
        if context_id:
            context = self.contexts.get(context_id)
            if context is None:
                raise ContextNotFound(context_id)
            return context
        if language and language.lower() not in PYTHON_NAMES:
            raise UnsupportedLanguage(language)
        if self.default_context.id not in self.contexts:
            raise ContextNotFound("default")
        return self.default_context

    async def create_context(self, language: str | None, cwd: str | None) -> KernelContext:
        """A new kernel; a missing ``cwd`` is created (the real server would fail)."""
        if language and language.lower() not in PYTHON_NAMES:
            raise UnsupportedLanguage(language)

        def make_cwd() -> tuple[str, Path]:
            virtual = self.fs.to_virtual_path(cwd or HOME)
            real = self.fs.to_real(virtual)
            real.mkdir(parents=True, exist_ok=True)
            return virtual, real

        cwd_virtual, cwd_real = await asyncio.to_thread(make_cwd)
        if self.closed:
            raise SandboxGone(self.id)
        # Registered before it starts, so a concurrent close() stops it too.
        context = self._new_context(cwd_virtual, cwd_real)
        try:
            await context.start()
        except BaseException:
            self.contexts.pop(context.id, None)
            await context.shutdown()
            raise
        if self.closed:
            raise SandboxGone(self.id)
        return context

    async def remove_context(self, context_id: str) -> None:
        context = self.contexts.pop(context_id, None)
        if context is None:
            raise ContextNotFound(context_id)
        await context.shutdown()

    async def restart_context(self, context_id: str) -> None:
        context = self.contexts.get(context_id)
        if context is None:
            raise ContextNotFound(context_id)
        await context.restart()

    # -- wire shapes ----------------------------------------------------------

    def created_json(self, envd_version: str) -> dict:
        """The control API's ``Sandbox`` (answer to create and connect)."""
        return {
            "templateID": self.template,
            "sandboxID": self.id,
            "clientID": CLIENT_ID,
            "alias": self.template,
            "envdVersion": envd_version,
            "envdAccessToken": self.access_token,
            "trafficAccessToken": None,
            "domain": None,
        }

    def detail_json(self, envd_version: str) -> dict:
        """The control API's ``SandboxDetail`` / ``ListedSandbox``."""
        return {
            "templateID": self.template,
            "sandboxID": self.id,
            "clientID": CLIENT_ID,
            "alias": self.template,
            "startedAt": _iso(self.started_at),
            "endAt": _iso(self.end_at),
            "envdVersion": envd_version,
            "cpuCount": 2,
            "memoryMB": 1024,
            "diskSizeMB": 4096,
            "state": "running",
            "metadata": self.metadata,
            "envdAccessToken": self.access_token,
            "domain": None,
        }
