"""The nbchat hub gateway in-process, spoken to by the real `anthropic` SDK: the answer streams
through as it is made, the upstream sees only the org key, each call is counted against the
caller's own credential, budgets refuse, and every wrong credential is refused.

The hub is a stand-in here (its `GET /hub/api/user`, which HubAuth asks); tests/hub/test_hub.py
runs the same gateway under a real JupyterHub. Runs anywhere, in a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import time

import anthropic
import pytest
from tornado import httpserver, web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.netutil import bind_sockets
from traitlets.config import Config

from jupyter_nbchat.hub_gateway.app import HubGateway

from .upstream import OrgKeyStandIn

ORG_KEY = "sk-ant-org-unit-0123456789abcdef"
PREFIX = "/services/nbchat-gateway/"
SCOPE = "access:services!service=nbchat-gateway"
#: token -> (user, scopes): what the hub stand-in knows.
TOKENS = {
    "tok-alice": ("alice", [SCOPE, "access:servers!user=alice"]),
    "tok-bob": ("bob", [SCOPE]),
    "tok-carol": ("carol", ["access:servers!user=carol"]),  # no right to the gateway
}
MODEL = "claude-sonnet-4-5"


class HubUserHandler(web.RequestHandler):
    """JupyterHub's GET /hub/api/user: the token's owner and scopes, or 403."""

    def get(self) -> None:
        token = self.request.headers.get("Authorization", "").partition(" ")[2]
        if token not in TOKENS:
            self.set_status(403)
            return self.finish({"status": 403, "message": "Missing or invalid credentials"})
        name, scopes = TOKENS[token]
        self.finish({"kind": "user", "name": name, "admin": False, "scopes": scopes})


def _serve(app: web.Application) -> tuple[httpserver.HTTPServer, int]:
    sockets = bind_sockets(0, "127.0.0.1")
    server = httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    return server, sockets[0].getsockname()[1]


@pytest.fixture
def upstream(jp_asyncio_loop, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    standin = OrgKeyStandIn(ORG_KEY)
    jp_asyncio_loop.run_until_complete(standin.start())
    yield standin
    jp_asyncio_loop.run_until_complete(standin.stop())


@pytest.fixture
def gateway(jp_asyncio_loop, upstream, tmp_path):
    hub, hub_port = _serve(web.Application([(r"/hub/api/user", HubUserHandler)]))
    config = Config()
    config.HubGateway.update(upstream_url=upstream.url, upstream_api_key=ORG_KEY, db_path=str(tmp_path / "ledger.sqlite"),
                             budgets={"bob": 1}, prefix=PREFIX, service_url="http://127.0.0.1:0")  # fmt: skip
    config.HubAuth.update(api_url=f"http://127.0.0.1:{hub_port}/hub/api", api_token="service-token")
    gw = HubGateway(config=config)
    gw.initialize([])
    jp_asyncio_loop.run_until_complete(gw.ledger.open())
    server, port = _serve(gw.make_app())
    gw.url = f"http://127.0.0.1:{port}{PREFIX.rstrip('/')}"
    yield gw
    server.stop()
    hub.stop()
    jp_asyncio_loop.run_until_complete(gw.upstream.close())
    jp_asyncio_loop.run_until_complete(gw.ledger.close())


def client(gw: HubGateway, key: str | None) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gw.url, api_key=key, max_retries=0)


async def usage(gw: HubGateway, token: str) -> dict:
    response = await AsyncHTTPClient().fetch(f"{gw.url}/usage", headers={"x-api-key": token})
    return json.loads(response.body)


async def test_an_answer_streams_through_with_the_org_key_and_is_billed_to_its_caller(gateway, upstream):
    text = "The mean is in cell one, and the chart shows it. " * 4
    upstream.script({"content": [{"type": "text", "text": text}], "chunk_delay": 0.05})
    arrivals, received = [], ""
    async with client(gateway, "tok-alice").messages.stream(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "Describe the data."}]
    ) as stream:
        async for delta in stream.text_stream:
            arrivals.append(time.monotonic())
            received += delta
        message = await stream.get_final_message()
    assert received == text
    assert arrivals[-1] - arrivals[0] > 0.3  # relayed as it came, not gathered first
    assert dict(upstream.keys) == {"org": 1}
    spent = await usage(gateway, "tok-alice")
    billed = message.usage.input_tokens + message.usage.output_tokens
    billed += (message.usage.cache_read_input_tokens or 0) + (message.usage.cache_creation_input_tokens or 0)
    assert (spent["user"], spent["calls"], spent["tokens"]) == ("alice", 1, billed)
    assert spent["budget_tokens"] == 0 and spent["remaining_tokens"] is None
    assert (await usage(gateway, "tok-bob"))["calls"] == 0


async def test_plain_answers_and_the_models_api_pass_through(gateway, upstream):
    upstream.script(ClaudeText := {"content": [{"type": "text", "text": "Plain."}]})
    message = await client(gateway, "tok-alice").messages.create(
        model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "Hi"}]
    )
    assert message.content[0].text == ClaudeText["content"][0]["text"]
    assert (await usage(gateway, "tok-alice"))["tokens"] == message.usage.input_tokens + message.usage.output_tokens
    model = await client(gateway, "tok-alice").models.retrieve(MODEL)
    assert model.id == MODEL
    with pytest.raises(anthropic.NotFoundError):
        await client(gateway, "tok-alice").models.retrieve("no-such-model")


async def test_a_spent_budget_refuses_the_next_call(gateway, upstream):
    upstream.script({"content": [{"type": "text", "text": "One."}]}, {"content": [{"type": "text", "text": "Two."}]})
    bob = client(gateway, "tok-bob")
    ask = {"model": MODEL, "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}
    await bob.messages.create(**ask)  # starts under the budget of 1 token, so it passes whole
    with pytest.raises(anthropic.PermissionDeniedError, match="budget on this hub is spent"):
        await bob.messages.create(**ask)
    assert dict(upstream.keys) == {"org": 1}
    spent = await usage(gateway, "tok-bob")
    assert spent["calls"] == 1 and spent["remaining_tokens"] == 0
    await client(gateway, "tok-alice").messages.create(**ask)  # others' budgets are their own


@pytest.mark.parametrize(
    "key, error",
    [
        ("sk-ant-guess", anthropic.AuthenticationError),
        (ORG_KEY, anthropic.AuthenticationError),  # the org key is no credential here
        ("tok-carol", anthropic.PermissionDeniedError),  # a hub user without the gateway's scope
    ],
)
async def test_wrong_credentials_are_refused_before_the_upstream(gateway, upstream, key, error):
    with pytest.raises(error):
        await client(gateway, key).messages.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert not upstream.keys


async def test_no_credential_and_an_unreachable_upstream(gateway, upstream):
    response = await AsyncHTTPClient().fetch(
        HTTPRequest(f"{gateway.url}/v1/messages", method="POST", body="{}"), raise_error=False
    )
    assert response.code == 401 and json.loads(response.body)["error"]["type"] == "authentication_error"
    await upstream.stop()
    response = await AsyncHTTPClient().fetch(
        HTTPRequest(f"{gateway.url}/v1/messages", method="POST", body="{}", headers={"x-api-key": "tok-alice"}),
        raise_error=False,
    )
    assert response.code == 502 and response.headers["x-should-retry"] == "true"
    assert ORG_KEY not in response.body.decode()


async def test_a_caller_who_hangs_up_mid_stream_stops_the_relay_and_is_still_billed(gateway, upstream):
    upstream.script({"content": [{"type": "text", "text": "x" * 2000}], "chunk_delay": 0.02},
                    {"content": [{"type": "text", "text": "Still here."}]})  # fmt: skip
    body = json.dumps({"model": MODEL, "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "Hi"}]})

    class HangUp(Exception):
        pass

    def on_chunk(chunk: bytes) -> None:
        raise HangUp()  # the first bytes arrived: close the connection

    request = HTTPRequest(f"{gateway.url}/v1/messages", method="POST", body=body, streaming_callback=on_chunk,
                          headers={"x-api-key": "tok-alice", "anthropic-version": "2023-06-01", "content-type": "application/json"})  # fmt: skip
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 (tornado wraps the hang-up in its own errors)
        await AsyncHTTPClient(force_instance=True).fetch(request)
    for _ in range(100):  # the gateway notices at its next chunk and records what the answer said so far
        if (await usage(gateway, "tok-alice"))["calls"] == 1:
            break
        await asyncio.sleep(0.05)
    assert (await usage(gateway, "tok-alice"))["calls"] == 1
    assert time.monotonic() - started < 1.5  # well before the 84 chunks x 0.02 s of the whole answer
    answer = await client(gateway, "tok-alice").messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "Hi"}])
    assert answer.content[0].text == "Still here."
