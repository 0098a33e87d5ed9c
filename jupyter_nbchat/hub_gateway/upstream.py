"""The one place that speaks to the real Messages API with the organisation's key.

A request is forwarded with the headers the API needs and the org key; the answer comes back
unchanged, chunk by chunk as it arrives (a streamed answer stays a stream, and each chunk is
flushed to the caller before the next is read), while its usage is read on the way
(usage.py). The caller's own credential never leaves the gateway. A caller who hangs up ends
the upstream request too, so the API stops generating what nobody will read.

aiohttp (a dependency of JupyterHub) is the client: its streamed body is an async iterator
and a response can be dropped mid-stream without raising out of a callback.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
from tornado import httputil, iostream, web

from .usage import StreamUsage, Usage

#: Request headers passed on to the API (the caller's x-api-key / Authorization never are).
REQUEST_HEADERS = ("anthropic-version", "anthropic-beta", "content-type", "accept")
#: Response headers passed back: what the SDK reads for retries, ids and limits (+ anthropic-*).
RESPONSE_HEADERS = ("content-type", "request-id", "retry-after", "retry-after-ms", "x-should-retry")


class Upstream:
    def __init__(self, url: str, api_key: str, *, request_timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self._api_key = api_key
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """One pooled session for the process, made on the running loop."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.request_timeout, connect=20),
                connector=aiohttp.TCPConnector(limit=200),
                skip_auto_headers=("Accept-Encoding",),  # plain bytes: relayed as they are, usage readable
            )
        return self._session

    async def forward(self, handler: web.RequestHandler, path: str) -> Usage | None:
        """Send `handler`'s request to `path` upstream and relay the answer through it.
        Returns the usage of a Messages answer (None if none came back)."""
        headers = {k: v for k, v in handler.request.headers.items() if k.lower() in REQUEST_HEADERS}
        headers["x-api-key"] = self._api_key
        query = f"?{handler.request.query}" if handler.request.query else ""
        method = handler.request.method or "GET"
        try:
            response = await self._client().request(
                method, f"{self.url}/{path}{query}", headers=headers,
                data=handler.request.body if method == "POST" else None,
            )  # fmt: skip
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            handler.set_status(502)
            handler.set_header("Content-Type", "application/json")
            handler.set_header("x-should-retry", "true")
            error = {"type": "api_error", "message": f"The gateway could not reach the Messages API ({type(err).__name__})."}
            handler.finish(json.dumps({"type": "error", "error": error}))
            return None
        relay = _Relay(handler, response)
        try:
            async for chunk in response.content.iter_any():
                relay.feed(chunk)
                handler.write(chunk)
                await handler.flush()
        except iostream.StreamClosedError:  # the caller hung up: so do we
            response.close()
            return relay.usage()
        except (aiohttp.ClientError, asyncio.TimeoutError):  # the API's stream broke: break ours too
            response.close()
            handler.request.connection.close()
            return relay.usage()
        response.release()
        handler.finish()
        return relay.usage()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _Relay:
    """The status and headers of an upstream answer set on the handler, and its usage read
    from the bytes as they pass."""

    def __init__(self, handler: web.RequestHandler, response: aiohttp.ClientResponse) -> None:
        self.status = response.status
        handler.set_status(self.status)
        handler.clear_header("Content-Type")
        upstream = httputil.HTTPHeaders()
        for name, value in response.headers.items():
            upstream.add(name, value)
        for name in RESPONSE_HEADERS:
            if name in upstream:
                handler.set_header(name, upstream[name])
        for name, value in upstream.get_all():
            if name.lower().startswith("anthropic-"):
                handler.add_header(name, value)
        self._stream: StreamUsage | None = None
        self._body = bytearray()
        if self.status == 200 and upstream.get("Content-Type", "").startswith("text/event-stream"):
            self._stream = StreamUsage()
            handler.set_header("Cache-Control", "no-cache")

    def feed(self, chunk: bytes) -> None:
        if self._stream is not None:
            self._stream.feed(chunk)
        elif self.status == 200:
            self._body += chunk

    def usage(self) -> Usage | None:
        if self._stream is not None:
            return self._stream.usage
        if self.status == 200 and self._body:
            try:
                message = json.loads(bytes(self._body))
            except ValueError:
                return None
            if isinstance(message, dict) and message.get("type") == "message":
                return Usage.from_message(message)
        return None
