"""The "Anthropic" behind the hub's gateway: the Claude stand-in, which here accepts only the
organisation's key (as the real API accepts only real keys) and counts the keys it was sent.

    python tests/hub/upstream.py --port N     (the org key comes in $NBCHAT_TEST_ORG_KEY)

Scripted like the stand-in (`POST /_standin/script`); `GET /_standin/keys` answers how many
Messages calls came with the org key and how many with anything else (never the keys).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections import Counter

from tornado import httpserver, web
from tornado.netutil import bind_sockets

from jupyter_nbchat.testing.claude_standin import ClaudeStandIn, MessagesHandler, _StandInHandler


class OrgKeyStandIn(ClaudeStandIn):
    def __init__(self, org_key: str) -> None:
        super().__init__()
        self.org_key = org_key
        self.keys: Counter[str] = Counter()

    def application(self) -> web.Application:
        app = super().application()
        app.wildcard_router.rules.insert(0, web.url(r"/v1/messages", OrgKeyMessages, {"standin": self}))
        app.wildcard_router.rules.insert(0, web.url(r"/_standin/keys", KeysHandler, {"standin": self}))
        return app


class OrgKeyMessages(MessagesHandler):
    async def post(self) -> None:
        key = self.request.headers.get("x-api-key", "")
        org = key == self.standin.org_key
        self.standin.keys["org" if org else "other"] += 1
        if not org:
            self.standin.requests.append({"body": {}, "headers": {"x-api-key": "<not the org key>"}})
            return self._error(401, "invalid x-api-key")
        await super().post()


class KeysHandler(_StandInHandler):
    def get(self) -> None:
        self.write_json(dict(self.standin.keys))


async def serve(port: int) -> None:
    standin = OrgKeyStandIn(os.environ.pop("NBCHAT_TEST_ORG_KEY"))
    sockets = bind_sockets(port, "127.0.0.1")
    standin.port = sockets[0].getsockname()[1]
    server = httpserver.HTTPServer(standin.application())
    server.add_sockets(sockets)
    print(f"upstream stand-in on {standin.url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))
