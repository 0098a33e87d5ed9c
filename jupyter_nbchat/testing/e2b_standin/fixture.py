"""The ``e2b_standin`` pytest fixture.

It follows this repo's test convention (tests/conftest.py loads pytest-jupyter):
``async def`` tests run on pytest-jupyter's loop, ``jp_asyncio_loop``, so the
fixture is synchronous and starts the stand-in on that same loop. Without
pytest-jupyter it uses the loop pytest-jupyter would have used, the thread's
``ensure_event_loop``. For any other loop, use ``async with E2BStandIn()``.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from jupyter_core.utils import ensure_event_loop

from .server import E2BStandIn

_LOCAL = ("localhost", "127.0.0.1")


def _with_local(value: str | None) -> str:
    hosts = [h for h in (value or "").split(",") if h.strip()]
    return ",".join(hosts + [h for h in _LOCAL if h not in hosts])


def _test_loop(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoop:
    try:
        return request.getfixturevalue("jp_asyncio_loop")
    except pytest.FixtureLookupError:
        return ensure_event_loop(prefer_selector_loop=True)


@pytest.fixture
def e2b_standin(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """A started ``E2BStandIn``; ``standin.env()`` is exported while the test runs.

    NO_PROXY gains localhost: the SDK's transports honour proxy variables even
    for 127.0.0.1. ``E2B_DEBUG`` is forced off, or the SDK would skip the API."""
    loop = _test_loop(request)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, _with_local(os.environ.get(name)))
    standin = E2BStandIn()
    loop.run_until_complete(standin.start())
    for name, value in standin.env().items():
        monkeypatch.setenv(name, value)
    yield standin
    loop.run_until_complete(standin.stop())
