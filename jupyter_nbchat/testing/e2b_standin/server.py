"""The stand-in: one tornado server on the current event loop for the control
API and all sandboxes (see ``handlers`` for the routes and how the SDK uses them).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import tornado.httpserver
import tornado.netutil
import tornado.web

from . import handlers as h
from .faults import Faults, Stats
from .sandbox import Sandbox

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)

DEFAULT_API_KEY = "e2b_test_standin_0000000000000000000000000000"
ENVD_VERSION = "0.6.4"


class E2BStandIn:
    """A local E2B cloud for the real SDK: control API, envd files and a code
    interpreter backed by real kernels, with fault injection for tests.

    Runs on the current event loop: ``await start()`` … ``await stop()``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        default_timeout: int = 300,
        envd_version: str = ENVD_VERSION,
        max_upload_bytes: int = 64 * 2**30,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.default_timeout = default_timeout
        self.envd_version = envd_version
        self.max_upload_bytes = max_upload_bytes
        self.faults = Faults()
        self.stats = Stats()
        self.sandboxes: dict[str, Sandbox] = {}
        self._server: tornado.httpserver.HTTPServer | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def sdk_kwargs(self) -> dict:
        """Keyword arguments pointing ``AsyncSandbox.create``/``connect`` here."""
        return {
            "api_key": self.api_key,
            "api_url": self.url,
            "sandbox_url": self.url,
            "debug": False,
        }

    def env(self) -> dict[str, str]:
        """Environment variables the SDK reads, for code that builds its own sandbox.

        ``E2B_API_URL``/``E2B_SANDBOX_URL`` are what ``api_url``/``sandbox_url``
        default to; ``E2B_DEBUG`` must be false or the SDK skips the control API."""
        return {
            "E2B_API_KEY": self.api_key,
            "E2B_API_URL": self.url,
            "E2B_SANDBOX_URL": self.url,
            "E2B_DEBUG": "false",
        }

    def _app(self) -> tornado.web.Application:
        kw = {"standin": self}
        return tornado.web.Application(
            [(route, handler, kw) for route, handler in h.ROUTES], log_function=h.log_request
        )

    async def start(self) -> str:
        """Listen on ``host:port`` (port 0 picks a free one); returns the URL."""
        sockets = tornado.netutil.bind_sockets(self.port, self.host, family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(
            self._app(), max_body_size=2**30, idle_connection_timeout=60
        )
        self._server.add_sockets(sockets)
        return self.url

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop listening, kill every sandbox and its kernels; never raises."""
        server, self._server = self._server, None
        try:
            if server is not None:
                server.stop()
            await asyncio.gather(
                *(self.kill_sandbox(sid) for sid in list(self.sandboxes)), return_exceptions=True
            )
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if server is not None:
                await asyncio.wait_for(server.close_all_connections(), 5)
        except Exception:
            log.exception("stopping the E2B stand-in failed")

    async def kill_sandbox(self, sandbox_id: str) -> bool:
        """Kill a sandbox as if it died: kernels stop, later requests see it gone."""
        sandbox = self.sandboxes.pop(sandbox_id, None)
        if sandbox is None:
            return False
        self.stats.kills += 1
        await asyncio.shield(self._close(sandbox))
        return True

    def _close(self, sandbox: Sandbox) -> asyncio.Task:
        """Close a sandbox in a task ``stop()`` waits for, even if the caller goes away."""
        task = asyncio.ensure_future(sandbox.close())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def kernel_pids(self, sandbox_id: str) -> list[int]:
        """The kernel process ids of a running sandbox (for tests)."""
        sandbox = self.sandboxes.get(sandbox_id)
        contexts = sandbox.contexts.values() if sandbox else []
        return [c.kernel_pid for c in contexts if c.kernel_pid]

    def files_root(self, sandbox_id: str) -> Path:
        """The host directory holding the sandbox's ``/`` (``/home/user`` is below it)."""
        return self.sandboxes[sandbox_id].fs.root

    async def _create_sandbox(self, template: str, timeout, metadata: dict, envs: dict) -> Sandbox:
        sandbox_id = "i" + secrets.token_hex(10)
        sandbox = await Sandbox.create(sandbox_id, template, metadata, envs, self._expire)
        self.sandboxes[sandbox_id] = sandbox
        seconds = timeout if isinstance(timeout, (int, float)) else self.default_timeout
        sandbox.set_timeout(min(seconds, h.MAX_TIMEOUT))
        self.stats.creates += 1
        return sandbox

    def _expire(self, sandbox: Sandbox) -> None:
        if self.sandboxes.get(sandbox.id) is sandbox:
            del self.sandboxes[sandbox.id]
            self.stats.expired += 1
            self._close(sandbox)
