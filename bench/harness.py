"""A real `jupyter server` with jupyter_nbchat in a subprocess, driven like the panel drives it."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`jupyter server` on a free port with `config` lines (traitlets) and extra `env`."""

    def __init__(self, root: Path, config: list[str], env: dict[str, str]) -> None:
        self.root, self.port, self.token = root, free_port(), secrets.token_hex(16)
        config_file = root.parent / f"server_config_{self.port}.py"
        lines = [
            f"c.ServerApp.root_dir = {str(root)!r}",
            f"c.ServerApp.port = {self.port}",
            f"c.IdentityProvider.token = {self.token!r}",
            "c.ServerApp.open_browser = False",
            "c.ServerApp.allow_root = True",
            "c.ServerApp.jpserver_extensions = {'jupyter_nbchat': True}",
            *config,
        ]
        config_file.write_text("\n".join(lines) + "\n")
        self.log = root.parent / f"server_{self.port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", f"--config={config_file}"],
            env={**os.environ, "NO_PROXY": "localhost,127.0.0.1", **env},
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        self.http = AsyncHTTPClient()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def fetch(self, path: str, method: str = "GET", body: Any = None) -> Any:
        request = HTTPRequest(
            f"{self.url}/{path}",
            method=method,
            body=None if body is None else json.dumps(body),
            headers={"Authorization": f"token {self.token}"},
            request_timeout=600,
        )
        response = await self.http.fetch(request)
        return json.loads(response.body or b"null")

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited; see {self.log}")
            try:
                await self.fetch("nbchat/status")
                return
            except Exception:
                await asyncio.sleep(0.3)
        raise TimeoutError("jupyter server did not start")

    async def new_notebook(self, path: str) -> None:
        empty = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        created = await self.fetch(f"api/contents/{path}", "PUT", {"type": "notebook", "content": empty})
        assert created["path"] == path

    async def events(self, turn_id: str) -> list[dict[str, Any]]:
        ws = await websocket_connect(
            HTTPRequest(
                f"ws://127.0.0.1:{self.port}/nbchat/turns/{turn_id}/events",
                headers={"Authorization": f"token {self.token}"},
            )
        )
        events = []
        while (message := await ws.read_message()) is not None:
            events.append(json.loads(message))
        return events

    async def ask(self, notebook: str, question: str, **fields: Any) -> list[dict[str, Any]]:
        """One turn, written by the server into the notebook, followed to its end."""
        body = {"notebook_path": notebook, "question": question, "write": "server", **fields}
        turn = await self.fetch("nbchat/turns", "POST", body)
        return await self.events(turn["turn_id"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


#: The virtualenv with the real Jupyter Enterprise Gateway (scripts/setup_gateway.sh).
EG_VENV = Path(os.environ.get("NBCHAT_EG_VENV", Path(__file__).resolve().parents[1] / ".venv-eg"))


class EnterpriseGateway:
    """The real Enterprise Gateway on loopback, started in `home` (its kernels' folder),
    with token auth; only `user` may start kernels. Listing kernels is allowed."""

    def __init__(self, home: Path, user: str) -> None:
        binary = EG_VENV / "bin" / "jupyter-enterprisegateway"
        if not binary.exists():
            raise RuntimeError(f"{binary} is missing: run scripts/setup_gateway.sh")
        self.home, self.port, self.token = home, free_port(), secrets.token_hex(8)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KERNEL_", "VIRTUAL_ENV", "JUPYTER"))}
        env.update(PATH=f"{EG_VENV / 'bin'}:{env.get('PATH', '')}", EG_LIST_KERNELS="True")
        self.log = home.parent / f"gateway_{self.port}.log"
        self.process = subprocess.Popen(
            [str(binary), "--ip=127.0.0.1", f"--port={self.port}",
             f"--EnterpriseGatewayApp.auth_token={self.token}",
             f"--EnterpriseGatewayApp.authorized_users={user}"],
            cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("w"),
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"

    def kernels(self) -> list[dict[str, Any]]:
        request = urllib.request.Request(f"{self.url}/api/kernels", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def wait_ready(self, timeout: float = 90) -> None:
        """Blocking: for test fixtures and the start of a bench."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.kernels()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(self.log.read_text()[-3000:]) from None
                time.sleep(0.3)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@asynccontextmanager
async def kernel_chat(prefix: str, files: Any = None) -> AsyncIterator[tuple[Server, Any, Path]]:
    """A ready server on the local kernel talking to an in-process Claude stand-in, in a
    fresh folder (`files(root)` fills it first); both stopped on the way out."""
    from jupyter_nbchat.testing.claude_standin import ClaudeStandIn

    root = Path(tempfile.mkdtemp(prefix=prefix)) / "root"
    root.mkdir()
    if files is not None:
        files(root)
    claude = ClaudeStandIn()
    await claude.start()
    server = Server(
        root,
        ["c.NbChat.executor = 'kernel'", f"c.NbChat.anthropic_base_url = {claude.url!r}"],
        {"ANTHROPIC_API_KEY": "sk-ant-bench"},
    )
    try:
        await server.ready()
        yield server, claude, root
    finally:
        server.stop()
        await claude.stop()
