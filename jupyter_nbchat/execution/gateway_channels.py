"""Talk to a kernel that lives on a remote gateway (`--gateway-url`), asynchronously.

jupyter_server's own `GatewayKernelClient` opens its WebSocket with the blocking
`websocket-client` library and without the gateway's credentials, so it both blocks the
event loop and is refused by an authenticated gateway. This client speaks the same
kernel WebSocket protocol (JSON messages with a `channel` field) through tornado, with
the connection arguments the server's GatewayClient uses for its own requests. It
offers the part of `AsyncKernelClient` that KernelExecutor needs.
"""

from __future__ import annotations

import asyncio
import json
import queue
from typing import Any

from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.utils import url_escape, url_path_join
from tornado.httpclient import HTTPRequest
from tornado.httputil import responses
from tornado.web import HTTPError
from tornado.websocket import WebSocketClientConnection, websocket_connect

#: What to change, by the status a gateway answered a kernel request with.
_WHAT_TO_CHANGE = {
    401: "The server's gateway token is missing or wrong (c.GatewayClient.auth_token).",
    403: (
        "The gateway decides who may start kernels: an administrator sets KERNEL_USERNAME "
        "for this server (or c.GatewayClient.http_user) to a user the gateway authorizes."
    ),
    404: "The gateway has no such kernel or kernel spec; choose a kernel it offers.",
    503: "The gateway did not answer; check that it runs at c.GatewayClient.url.",
}


class GatewayChannels:
    def __init__(self, kernel_id: str) -> None:
        self.kernel_id = kernel_id
        self.session = Session()
        self._ws: WebSocketClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._queues: dict[str, asyncio.Queue] = {"iopub": asyncio.Queue(), "shell": asyncio.Queue()}

    async def start_channels(self) -> None:
        gateway = GatewayClient.instance()
        url = url_path_join(gateway.ws_url or "", gateway.kernels_endpoint, url_escape(self.kernel_id), "channels")
        self._ws = await websocket_connect(HTTPRequest(url, **gateway.load_connection_args()))
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        while (raw := await self._ws.read_message()) is not None:
            if isinstance(raw, bytes):  # binary frames carry buffers we do not use
                continue
            msg = json.loads(raw)
            target = self._queues.get(msg.get("channel", ""))
            if target is not None:
                target.put_nowait(msg)

    def _send(self, msg_type: str, content: dict[str, Any], channel: str = "shell") -> str:
        assert self._ws is not None, "start_channels() first"
        msg = self.session.msg(msg_type, content)
        msg["channel"] = channel
        self._ws.write_message(json.dumps(msg, default=json_default))
        return msg["header"]["msg_id"]

    def execute(
        self,
        code: str,
        silent: bool = False,
        store_history: bool = True,
        allow_stdin: bool = False,
        stop_on_error: bool = True,
        user_expressions: dict[str, str] | None = None,
    ) -> str:
        return self._send(
            "execute_request",
            {
                "code": code,
                "silent": silent,
                "store_history": store_history,
                "user_expressions": user_expressions or {},
                "allow_stdin": allow_stdin,
                "stop_on_error": stop_on_error,
            },
        )

    async def get_iopub_msg(self, timeout: float | None = None) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(self._queues["iopub"].get(), timeout)
        except asyncio.TimeoutError:
            raise queue.Empty from None

    async def get_shell_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next shell reply (execute replies are read and dropped, so none pile up)."""
        try:
            return await asyncio.wait_for(self._queues["shell"].get(), timeout)
        except asyncio.TimeoutError:
            raise queue.Empty from None

    async def wait_for_ready(self, timeout: float = 60) -> None:
        msg_id = self._send("kernel_info_request", {})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                msg = await asyncio.wait_for(self._queues["shell"].get(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise RuntimeError("the gateway kernel did not answer kernel_info") from None
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return

    def stop_channels(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            self._ws.close()
        self._ws = self._reader = None


def gateway_failure(err: HTTPError) -> str:
    """A kernel request the server's kernel manager refused, said as the gateway said it.

    jupyter_server wraps a gateway's answer as "Error from Gateway: [message] reason. Ensure
    gateway url is valid..." (the last sentence whatever the cause); the gateway's own
    words are its arguments."""
    status = err.status_code
    if err.log_message and err.log_message.startswith("Error from Gateway") and len(err.args) == 2:
        message, reason = (str(a).strip() for a in err.args)
        plain = message in ("", reason, responses.get(status, ""))  # nothing beyond the reason
        said = reason if plain else f"{reason} ({message})"
        text = f"The kernel gateway refused the request ({status}): {said.rstrip('.')}."
    elif err.log_message:
        text = f"The kernel could not be started ({status}): {err.log_message % err.args if err.args else err.log_message}"
    else:
        text = f"The kernel could not be started ({status} {err.reason or ''})".rstrip() + "."
    advice = _WHAT_TO_CHANGE.get(status)
    return f"{text} {advice}" if advice else text
