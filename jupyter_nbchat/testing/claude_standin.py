"""A local stand-in for Anthropic's Messages API, spoken to by the real `anthropic` SDK.

Tests script what "Claude" answers (text and tool_use blocks, error statuses, a
mid-stream error, slow streaming, usage figures) and read back every request it got.
It serves `POST /v1/messages` in both streaming (SSE) and plain JSON form, plus a small
control API under `/_standin/` (docs/protocol.md) so browser tests can script it too.

Run standalone: `python -m jupyter_nbchat.testing.claude_standin --port 8775`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import uuid
from collections import deque
from typing import Any

from tornado import httpserver, web
from tornado.netutil import bind_sockets

from . import claude_api

#: Characters per text_delta / input_json_delta chunk, so streaming is real.
CHUNK = 24

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _estimate_tokens(payload: Any) -> int:
    """About 4 characters a token; an image costs width x height / 750, as the API counts."""
    text, image_tokens = json.dumps(payload), 0
    for block in _image_blocks(payload):
        text = text.replace(block["source"]["data"], "", 1)
        width, height = _image_size(block)
        image_tokens += width * height // 750
    return max(1, len(text) // 4) + image_tokens


#: What the real Messages API accepts in an image block (docs "Images and vision").
IMAGE_MEDIA_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
IMAGE_MAX_PX = 8000
IMAGE_MAX_PX_MANY = 2000  # in a request with more than 20 images
IMAGE_MAX_BYTES = 5 * 1024 * 1024


def _image_blocks(payload: Any) -> Any:
    """Every image block in a request's messages, tool_result contents included."""
    if isinstance(payload, dict):
        if payload.get("type") == "image" and isinstance(payload.get("source"), dict):
            yield payload
        for value in payload.values():
            yield from _image_blocks(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from _image_blocks(item)


def _image_size(block: dict[str, Any]) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(block["source"]["data"]))) as image:
        return image.size


def image_problem(messages: Any) -> str | None:
    """Why the real API would answer 400 to these image blocks, or None."""
    blocks = list(_image_blocks(messages))
    limit = IMAGE_MAX_PX_MANY if len(blocks) > 20 else IMAGE_MAX_PX
    for index, block in enumerate(blocks):
        source = block["source"]
        if source.get("type") != "base64":
            return f"image {index}: only base64 sources are accepted here"
        fmt = IMAGE_MEDIA_TYPES.get(source.get("media_type", ""))
        if fmt is None:
            return f"image {index}: media_type {source.get('media_type')!r} is not supported"
        data = source.get("data", "")
        if len(data) > IMAGE_MAX_BYTES:
            return f"image {index}: image exceeds 5 MB maximum"
        try:
            from PIL import Image

            with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as image:
                image.verify()
                actual, size = image.format, image.size
        except Exception:
            return f"image {index}: Could not process image"
        if actual != fmt:
            return f"image {index}: Image does not match the provided media type {source['media_type']}"
        if max(size) > limit:
            return f"image {index}: image dimensions exceed max allowed size: {limit} pixels"
    return None


class ClaudeStandIn:
    """Scripted Messages API. `script(...)` queues responses; `requests` records bodies."""

    def __init__(self) -> None:
        self.responses: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        #: Signature -> full text of every thinking block handed out (to check them coming back).
        self.thinking: dict[str, str] = {}
        #: Prefixes cached as the real API caches them; usage figures come from it.
        self.cache = claude_api.PromptCache()
        self.port: int | None = None
        self._server: httpserver.HTTPServer | None = None

    # -- scripting --------------------------------------------------------------------

    def script(self, *responses: dict[str, Any]) -> None:
        """Replace the queue: each request to /v1/messages takes the next response."""
        self.responses = deque(responses)

    def reset(self) -> None:
        self.responses.clear()
        self.requests.clear()
        self.cache = claude_api.PromptCache()

    @staticmethod
    def text(text: str, **extra: Any) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": text}], **extra}

    @staticmethod
    def code(code: str, text: str = "", **extra: Any) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks.append({"type": "tool_use", "name": "run_code", "input": {"code": code}})
        return {"content": blocks, **extra}

    # -- serving ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def application(self) -> web.Application:
        return web.Application(
            [
                (r"/v1/messages", MessagesHandler, {"standin": self}),
                (r"/v1/models/([^/]+)", ModelHandler),
                (r"/_standin/health", HealthHandler),
                (r"/_standin/script", ScriptHandler, {"standin": self}),
                (r"/_standin/requests", RequestsHandler, {"standin": self}),
                (r"/_standin/reset", ResetHandler, {"standin": self}),
            ]
        )

    async def start(self, port: int = 0) -> None:
        sockets = bind_sockets(port, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server = httpserver.HTTPServer(self.application())
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    def next_response(self) -> dict[str, Any]:
        if self.responses:
            return self.responses.popleft()
        return self.text("(The Claude stand-in has no scripted response for this request.)")


class _StandInHandler(web.RequestHandler):
    def initialize(self, standin: ClaudeStandIn | None = None) -> None:
        self.standin = standin

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


class HealthHandler(_StandInHandler):
    def get(self) -> None:
        self.write_json({"ok": True})


class ScriptHandler(_StandInHandler):
    def post(self) -> None:
        self.standin.script(*json.loads(self.request.body or b"{}").get("responses", []))
        self.write_json({"queued": len(self.standin.responses)})


class RequestsHandler(_StandInHandler):
    def get(self) -> None:
        self.write_json({"requests": self.standin.requests})


class ModelHandler(_StandInHandler):
    def get(self, model: str) -> None:
        """The Models API: what the model supports (testing/claude_api.py), or 404."""
        info = claude_api.model_info(model)
        if info is None:
            error = {"type": "not_found_error", "message": f"model: {model}"}
            return self.write_json({"type": "error", "error": error}, status=404)
        self.write_json(info)


class ResetHandler(_StandInHandler):
    def post(self) -> None:
        self.standin.reset()
        self.write_json({"ok": True})


class MessagesHandler(_StandInHandler):
    async def post(self) -> None:
        body = json.loads(self.request.body or b"{}")
        headers = {k.lower(): v for k, v in self.request.headers.items()}
        has_key = bool(headers.get("x-api-key") or headers.get("authorization"))
        for secret in ("x-api-key", "authorization"):  # recordings show presence, never the key
            if secret in headers:
                headers[secret] = "<redacted>"
        self.standin.requests.append({"body": body, "headers": headers})
        if not has_key:
            return self._error(401, "missing API key")
        problem = image_problem(body.get("messages", []))
        if problem is not None:  # as the real API: a bad image fails the whole request
            return self._error(400, f"messages: {problem}")
        problem = claude_api.behaviour(body.get("model", "")).refusal(body)
        problem = problem or claude_api.tampered_thinking(body, self.standin.thinking)
        if problem is not None:  # what today's models refuse (testing/claude_api.py)
            return self._error(400, problem)
        response = self.standin.next_response()
        if response.get("status"):
            return self._error(int(response["status"]), response.get("message", "scripted error"))
        cached = self.standin.cache.usage(body, _estimate_tokens)
        if isinstance(cached, str):
            return self._error(400, cached)
        content = claude_api.shape_content(body, response.get("content", []), self.standin.thinking)
        message, stream_events = _build_message(body, {**response, "content": content}, cached)
        if response.get("delay"):  # time "Claude" spends before answering (benchmarks)
            await asyncio.sleep(float(response["delay"]))
        if not body.get("stream"):
            return self.write_json(message)
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        delay = float(response.get("chunk_delay", 0))
        error_after = response.get("error_after")
        drop_after = response.get("drop_after")  # the network drops: the connection just closes
        for count, (name, data) in enumerate(stream_events):
            if drop_after is not None and count >= int(drop_after):
                self.request.connection.stream.close()
                return
            if error_after is not None and count >= int(error_after):
                error = {"type": "overloaded_error", "message": "Overloaded (scripted mid-stream error)"}
                self.write(f"event: error\ndata: {json.dumps({'type': 'error', 'error': error})}\n\n")
                break
            self.write(f"event: {name}\ndata: {json.dumps(data)}\n\n")
            await self.flush()
            if delay:
                await asyncio.sleep(delay)
        self.finish()

    def _error(self, status: int, message: str) -> None:
        # retry-after-ms keeps the SDK's backoff short in tests.
        self.set_header("retry-after-ms", "10")
        error = {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}
        self.write_json({"type": "error", "error": error}, status=status)


def _build_message(
    body: dict[str, Any], response: dict[str, Any], cached: dict[str, int]
) -> tuple[dict[str, Any], list]:
    """The final Message and the SSE events that stream it, from a scripted response;
    `cached`: the input tokens as the prompt cache bills them (claude_api.PromptCache)."""
    content = []
    for block in response.get("content", []):
        if block["type"] == "tool_use":
            block = {"id": f"toolu_{uuid.uuid4().hex[:20]}", **block}
        content.append(block)
    has_tool = any(b["type"] == "tool_use" for b in content)
    scripted = response.get("usage")
    if scripted:  # a test's own figures: billed as it says, nothing from the cache unless it says so
        cached = {"input_tokens": sum(cached.values()), "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
    usage = {**cached, "output_tokens": _estimate_tokens(content), **(scripted or {})}
    message = {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-standin"),
        "content": content,
        "stop_reason": response.get("stop_reason") or ("tool_use" if has_tool else "end_turn"),
        "stop_sequence": None,
        "usage": usage,
    }
    start_usage = {**usage, "output_tokens": 1}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": {**message, "content": [], "stop_reason": None, "usage": start_usage}}),
    ]
    for index, block in enumerate(content):
        if block["type"] == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
            for i in range(0, len(block["thinking"]), CHUNK):
                delta = {"type": "thinking_delta", "thinking": block["thinking"][i : i + CHUNK]}
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
            delta = {"type": "signature_delta", "signature": block["signature"]}
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        elif block["type"] == "redacted_thinking":
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}))
        elif block["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
            for i in range(0, len(block["text"]), CHUNK):
                delta = {"type": "text_delta", "text": block["text"][i : i + CHUNK]}
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
            raw = json.dumps(block.get("input", {}))
            for i in range(0, len(raw), CHUNK):
                delta = {"type": "input_json_delta", "partial_json": raw[i : i + CHUNK]}
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None}, "usage": {"output_tokens": usage["output_tokens"]}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return message, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8775)
    args = parser.parse_args()

    async def serve() -> None:
        standin = ClaudeStandIn()
        await standin.start(args.port)
        print(f"Claude stand-in listening on {standin.url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
