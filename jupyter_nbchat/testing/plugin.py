"""pytest plugin: a real Jupyter server with nbchat, talking to the Claude stand-in.

Use from a conftest, after pytest-jupyter so these fixtures override its defaults:
`pytest_plugins = ("pytest_jupyter.jupyter_server", "jupyter_nbchat.testing.plugin")`. Fixtures are synchronous and drive pytest-jupyter's
own event loop (`jp_asyncio_loop`), the loop the server and the async tests run on.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nbformat
import pytest
from jupyter_server.utils import url_path_join
from nbformat.v4 import new_notebook
from tornado.httpclient import HTTPClientError

from .claude_standin import ClaudeStandIn
from .e2b_standin.fixture import e2b_standin  # noqa: F401  (registered for every test module)

STANDIN_API_KEY = "sk-ant-standin-0123456789"


def serving(standin: ClaudeStandIn, jp_asyncio_loop, monkeypatch):
    """Yields `standin` running (for fixtures: `yield from serving(...)`); the SDKs must not
    send localhost through a proxy."""
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    jp_asyncio_loop.run_until_complete(standin.start())
    try:
        yield standin
    finally:
        jp_asyncio_loop.run_until_complete(standin.stop())


@pytest.fixture
def claude_standin(jp_asyncio_loop, monkeypatch):
    """A running Claude stand-in."""
    yield from serving(ClaudeStandIn(), jp_asyncio_loop, monkeypatch)


@pytest.fixture
def nbchat_config() -> dict[str, Any]:
    """Extra NbChat traits for a test module (override this fixture)."""
    return {}


@pytest.fixture
def jp_server_config(claude_standin, nbchat_config):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_nbchat": True},
            "allow_unauthenticated_access": False,
        },
        "NbChat": {
            "anthropic_api_key": STANDIN_API_KEY,
            "anthropic_base_url": claude_standin.url,
            "max_retries": 2,
            "execution_timeout": 60.0,
            # Tests that stop following a turn need not wait the 10 s meant for a reloading page.
            "unfollowed_write_delay": 1.0,
            **nbchat_config,
        },
    }


@pytest.fixture
def notebook_path(jp_root_dir) -> str:
    """A saved, empty python3 notebook under the server root; returns its relative path."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, jp_root_dir / "analysis.ipynb")
    return "analysis.ipynb"


class NbChatClient:
    """The panel's side of docs/protocol.md, for tests."""

    def __init__(self, fetch, ws_fetch) -> None:
        self._fetch = fetch
        self._ws_fetch = ws_fetch

    async def get(self, *path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self._fetch("nbchat", *path, method="GET", params=params or {})
        return json.loads(response.body)

    async def post(self, *path: str, body: Any = None, raw: bytes | None = None) -> Any:
        payload = raw if raw is not None else json.dumps(body or {})
        return await self._fetch("nbchat", *path, method="POST", body=payload)

    async def error(self, method: str, *path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        """Status and JSON of a request that must fail."""
        kwargs = {"body": json.dumps(body) if body is not None else "{}"} if method == "POST" else {}
        with pytest.raises(HTTPClientError) as info:
            await self._fetch("nbchat", *path, method=method, **kwargs)
        return info.value.code, json.loads(info.value.response.body)

    async def start_turn(self, notebook_path: str, question: str, **extra: Any) -> str:
        response = await self.post("turns", body={"notebook_path": notebook_path, "question": question, **extra})
        assert response.code == 201
        return json.loads(response.body)["turn_id"]

    async def events(
        self, turn_id: str, after: int = 0, limit: int | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Events from the WebSocket until the server closes it, `limit` arrived or `until` seen."""
        ws = await self._ws_fetch("nbchat", "turns", turn_id, "events", params={"after": str(after)})
        events: list[dict[str, Any]] = []
        try:
            while limit is None or len(events) < limit:
                message = await ws.read_message()
                if message is None:
                    break
                events.append(json.loads(message))
                if until is not None and events[-1]["type"] == until:
                    break
        finally:
            ws.close()
        return events

    async def ask(self, notebook_path: str, question: str, **extra: Any) -> list[dict[str, Any]]:
        """Start a turn and follow it to its end."""
        return await self.events(await self.start_turn(notebook_path, question, **extra))

    async def start_verify(self, body: dict[str, Any]) -> str:
        response = await self.post("verify", body=body)
        assert response.code == 202
        return json.loads(response.body)["verify_id"]

    async def verified(self, verify_id: str) -> dict[str, Any]:
        """The verification once it no longer runs (its status and report)."""
        for _ in range(1200):  # a bound, not a timing assertion
            info = await self.get("verify", verify_id)
            if info["status"] != "running":
                return info
            await asyncio.sleep(0.1)
        raise AssertionError("the verification never finished")

    async def verify(self, body: dict[str, Any]) -> dict[str, Any]:
        """Start "Verify notebook" and wait for it to stop running."""
        return await self.verified(await self.start_verify(body))


@pytest.fixture
def nbchat(jp_fetch, jp_ws_fetch) -> NbChatClient:
    return NbChatClient(jp_fetch, jp_ws_fetch)


@pytest.fixture
def nbchat_url(jp_base_url):
    def make(*parts: str) -> str:
        return url_path_join(jp_base_url, "nbchat", *parts)

    return make


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]
