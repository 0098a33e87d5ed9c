"""A real JupyterHub on loopback for tests/hub: configurable-http-proxy from npm (.hub-node,
scripts/setup_hub.sh), LocalProcessSpawner (each server runs as its own Unix user, so one user's
cells cannot read another's processes, nor the hub's, nor the gateway's), DummyAuthenticator
with a password, and the nbchat gateway as a hub-managed service holding the org key.

Everything here is blocking (requests, websocket-client, subprocesses): the tested servers all
run in other processes, so the test itself needs no event loop.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
import websocket

ROOT = Path(__file__).resolve().parents[2]
CHP = ROOT / ".hub-node" / "node_modules" / ".bin" / "configurable-http-proxy"
VENV_BIN = Path(sys.executable).parent
#: The interpreter the users' servers run on: .venv's own, or, when .venv's Python lives where
#: other users may not go (pyenv under /root), the shim scripts/setup_hub.sh makes for them.
USER_PYTHON = ROOT / ".venv-hubuser" / "bin" / "python"


def singleuser() -> tuple[list[str], dict[str, str]]:
    """The command that starts a user's server, and the environment it needs."""
    if not USER_PYTHON.exists():
        return [str(VENV_BIN / "jupyterhub-singleuser")], {}
    prefix = VENV_BIN.parent  # .venv's Jupyter config (the extension enabled) and data (kernels)
    return [str(USER_PYTHON), "-m", "jupyterhub.singleuser"], {
        "JUPYTER_CONFIG_PATH": str(prefix / "etc" / "jupyter"),
        "JUPYTER_PATH": str(prefix / "share" / "jupyter"),
        "PATH": f"{USER_PYTHON.parent}:/usr/local/bin:/usr/bin:/bin",
    }
GATEWAY = "nbchat-gateway"
PASSWORD = "nbchat-hub-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Any, what: str, timeout: float, log: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (requests.RequestException, OSError):
            pass
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s\n{tail}")
        time.sleep(0.25)


def hub_config(*, public_port: int, hub_port: int, proxy_api_port: int, gateway_port: int,
               upstream_url: str, users: list[str], budgets: dict[str, int], folder: Path) -> str:  # fmt: skip
    """jupyterhub_config.py for the test: the same settings docs/deploy.md shows, plus ports.
    The org key is read from the hub's own environment, so this file never holds it."""
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    cmd, user_env = singleuser()
    (folder / "gateway_config.py").write_text(
        f"c.HubGateway.db_path = {str(folder / 'gateway.sqlite')!r}\n"
        "c.HubGateway.budget_period = 'month'\n"
        f"c.HubGateway.budgets = {budgets!r}\n"
    )
    return f"""
import os
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {public_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.db_url = "sqlite:///{folder / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = "{folder / "cookie_secret"}"
c.JupyterHub.cleanup_servers = True
c.ConfigurableHTTPProxy.command = ["{CHP}"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.auth_token = "{secrets.token_hex(16)}"

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allowed_users = {set(users)!r}

c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = {cmd!r}
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 90
c.Spawner.start_timeout = 90
c.Spawner.args = ["--ServerApp.log_level=INFO"]

# --- the nbchat gateway: the one process that holds the organisation's key --------------
c.JupyterHub.services = [
    {{
        "name": "{GATEWAY}",
        "url": "{gateway_url}",
        "command": [{sys.executable!r}, "-m", "jupyter_nbchat.hub_gateway", "--config={folder / "gateway_config.py"}"],
        "environment": {{
            "ANTHROPIC_API_KEY": os.environ["NBCHAT_ORG_KEY"],
            "NBCHAT_GATEWAY_UPSTREAM": "{upstream_url}",
        }},
    }}
]
# Every user may call the gateway, and each server's own token may too.
c.JupyterHub.extra_user_scopes = {{"access:services!service={GATEWAY}"}}
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "access:services!service={GATEWAY}",
]
# Each server's API key is its user's own JupyterHub token; the base URL is the gateway.
c.Spawner.environment = {{
    "ANTHROPIC_API_KEY": lambda spawner: spawner.api_token,
    "ANTHROPIC_BASE_URL": "{gateway_url}/services/{GATEWAY}",
    "NO_PROXY": "localhost,127.0.0.1",
    **{user_env!r},
}}
"""


class Hub:
    """`jupyterhub` in a subprocess (as root), its log in `folder/hub.log`."""

    def __init__(self, folder: Path, org_key: str, upstream_url: str, users: list[str], budgets: dict[str, int]) -> None:
        self.folder = folder
        self.port = free_port()
        self.gateway_port = free_port()
        config = folder / "jupyterhub_config.py"
        config.write_text(hub_config(
            public_port=self.port, hub_port=free_port(), proxy_api_port=free_port(), gateway_port=self.gateway_port,
            upstream_url=upstream_url, users=users, budgets=budgets, folder=folder,
        ))  # fmt: skip
        self.log = folder / "hub.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "ANTHROPIC", "JPY"))}
        env.update(PATH=f"{VENV_BIN}:{env.get('PATH', '')}", NBCHAT_ORG_KEY=org_key, NO_PROXY="localhost,127.0.0.1")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "jupyterhub"), "-f", str(config)],
            cwd=folder, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        def up() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited:\n{self.log.read_text()[-4000:]}")
            return requests.get(f"{self.url}/hub/api/", timeout=2).ok
        wait_for(up, "JupyterHub", timeout, self.log)
        gateway = f"http://127.0.0.1:{self.gateway_port}/services/{GATEWAY}/usage"
        wait_for(lambda: requests.get(gateway, timeout=2).status_code == 401, "the gateway service", timeout, self.log)

    def stop(self) -> None:
        self.process.terminate()  # the hub stops the servers (cleanup_servers), the service and CHP
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class HubUser:
    """One person at the hub through its public URL (CHP): a browser-like session that logs in
    with the form, starts its server, and an API token the person made for themselves."""

    def __init__(self, hub: Hub, name: str) -> None:
        self.hub, self.name = hub, name
        self.session = requests.Session()
        self.token = ""

    def login(self) -> None:
        page = self.session.get(f"{self.hub.url}/hub/login", timeout=10)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        answer = self.session.post(
            f"{self.hub.url}/hub/login?next=",
            data={"username": self.name, "password": PASSWORD, "_xsrf": xsrf},
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])
        assert any(c.name.startswith("jupyterhub-session-id") or c.name == "jupyterhub-hub-login" for c in self.session.cookies)

    def _hub_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        xsrf = self.session.cookies.get("_xsrf", path="/hub/") or ""
        headers = {"X-XSRFToken": xsrf, "Referer": f"{self.hub.url}/hub/home"}
        return self.session.request(method, f"{self.hub.url}/hub/api/{path}", headers=headers, timeout=30, **kwargs)

    def start_server(self, timeout: float = 90) -> None:
        """Start the server through the hub (as the Start button does) and wait until the
        proxy routes to it; then make a personal API token for driving nbchat."""
        self.session.get(f"{self.hub.url}/hub/home", timeout=10)  # sets the hub's _xsrf cookie
        started = self._hub_api("POST", f"users/{self.name}/server")
        assert started.status_code in (201, 202), (started.status_code, started.text)

        def ready() -> bool:
            model = self._hub_api("GET", f"users/{self.name}").json()
            return bool(model.get("servers", {}).get("", {}).get("ready"))
        wait_for(ready, f"{self.name}'s server", timeout, self.hub.log)
        made = self._hub_api("POST", f"users/{self.name}/tokens", json={"note": "nbchat hub test", "expires_in": 3600})
        assert made.status_code == 201, (made.status_code, made.text)
        self.token = made.json()["token"]

    def browse(self, path: str) -> requests.Response:
        """GET a page with the browser session (cookies, OAuth redirects followed)."""
        return self.session.get(f"{self.hub.url}{path}", timeout=30)

    def api(self, method: str, path: str, body: Any = None, user: str | None = None) -> requests.Response:
        """Call a route of `user`'s server (default: one's own) through the proxy, with the token."""
        url = f"{self.hub.url}/user/{user or self.name}/{path}"
        return requests.request(method, url, json=body, headers={"Authorization": f"token {self.token}"},
                                allow_redirects=False, timeout=60)  # fmt: skip

    def events(self, turn_id: str, timeout: float = 120) -> list[dict[str, Any]]:
        """Follow a turn's events socket (through the proxy) to its end."""
        url = f"ws://127.0.0.1:{self.hub.port}/user/{self.name}/nbchat/turns/{turn_id}/events"
        ws = websocket.create_connection(url, header=[f"Authorization: token {self.token}"], timeout=timeout)
        events = []
        try:
            while True:
                message = ws.recv()
                if not message:
                    break
                events.append(json.loads(message))
        except websocket.WebSocketConnectionClosedException:
            pass
        finally:
            ws.close()
        return events

    def ask(self, notebook: str, question: str) -> list[dict[str, Any]]:
        created = self.api("PUT", f"api/contents/{notebook}", {"type": "notebook", "content": {
            "cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}})  # fmt: skip
        assert created.status_code in (200, 201), (created.status_code, created.text)
        turn = self.api("POST", "nbchat/turns", {"notebook_path": notebook, "question": question, "write": "server"})
        assert turn.status_code in (200, 201), (turn.status_code, turn.text)
        return self.events(turn.json()["turn_id"])


def unix_user(name: str) -> None:
    """Make the Unix user (with a home) if missing; needs root (scripts/setup_hub.sh does it
    with sudo when the tests do not run as root)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)


def have_unix_users(names: list[str]) -> bool:
    try:
        for name in names:
            pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def chp_installed() -> bool:
    return CHP.exists() and shutil.which("node") is not None
