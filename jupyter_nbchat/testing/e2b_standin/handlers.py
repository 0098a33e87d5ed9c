"""HTTP handlers: E2B's control API and every sandbox's envd and
code-interpreter endpoints.

Routing (learnt from the SDK, e2b 2.63 / e2b-code-interpreter 2.11):

* ``api_url`` receives the control API (``X-API-KEY`` header):
  ``POST /v2/sandboxes``, ``GET /v2/sandboxes``, ``GET|DELETE /sandboxes/{id}``,
  ``POST /sandboxes/{id}/timeout``, ``POST /v2/sandboxes/{id}/connect``.
* With ``sandbox_url`` set, the SDK sends every sandbox request (envd, port
  49983, and the code interpreter, port 49999) to that one URL and names the
  target in the ``E2b-Sandbox-Id`` / ``E2b-Sandbox-Port`` headers, which is
  what lets one server host many sandboxes. envd requests carry
  ``X-Access-Token`` (the ``envdAccessToken`` returned at create).
* A sandbox that is gone answers 502 with a message containing "was not
  found", as E2B's proxy does: the SDK maps that to ``TimeoutException``
  (``/execute``) or ``SandboxNotRunningException`` (envd), and
  ``is_running()`` to False. The control API answers 404 for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
import zlib
from dataclasses import asdict, fields
from typing import TYPE_CHECKING

import tornado.web
from tornado.iostream import StreamClosedError

from . import files
from .errors import ContextNotFound, PathError, RpcError, SandboxGone, UnsupportedLanguage
from .faults import Faults, RecordedRequest
from .kernels import Execution
from .sandbox import Sandbox

if TYPE_CHECKING:
    from .server import E2BStandIn

log = logging.getLogger(__name__)

MAX_TIMEOUT = 86_400
_DOWNLOAD_CHUNK = 256 * 1024


class _Handler(tornado.web.RequestHandler):
    """Records every request and answers errors as JSON."""

    def initialize(self, standin: E2BStandIn) -> None:
        self.standin = standin
        self._record: RecordedRequest | None = None

    def prepare(self):
        headers = self.request.headers
        self._record = RecordedRequest(
            self.request.method,
            self.request.path,
            self.request.query,
            headers.get("E2b-Sandbox-Id"),
            headers.get("E2b-Sandbox-Port"),
            time.monotonic(),
        )
        self.standin.stats.requests.append(self._record)

    def on_finish(self) -> None:
        if self._record is not None:
            self._record.status = self.get_status()

    def send_json(self, status: int, payload) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))

    def send_text(self, status: int, text: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(text)

    def json_body(self) -> dict | None:
        """The JSON object body, or None after answering 400."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.send_json(400, {"code": 400, "message": "request body must be a JSON object"})
            return None
        return body

    def write_error(self, status_code: int, **kwargs) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"code": status_code, "message": self._reason}))

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, StreamClosedError):
            return
        super().log_exception(typ, value, tb)


class _ApiHandler(_Handler):
    """Control API: the ``X-API-KEY`` header must hold the stand-in's key (else 401,
    the SDK's ``AuthenticationException``); unknown sandboxes are 404."""

    def prepare(self):
        super().prepare()
        if self.request.headers.get("X-API-KEY") != self.standin.api_key:
            self.send_json(401, {"code": 401, "message": "Invalid API key"})

    def sandbox(self, sandbox_id: str) -> Sandbox | None:
        sandbox = self.standin.sandboxes.get(sandbox_id)
        if sandbox is None:
            self.send_json(
                404,
                {
                    "code": 404,
                    "message": f"sandbox \"{sandbox_id}\" doesn't exist or you don't have access to it",
                },
            )
        return sandbox


class SandboxesHandler(_ApiHandler):
    async def post(self) -> None:
        """Create a sandbox (after ``start_delay``; or fail with ``create_status``)."""
        standin = self.standin
        standin.stats.create_requests += 1
        body = self.json_body()
        if body is None:
            return
        if standin.faults.start_delay > 0:
            await asyncio.sleep(standin.faults.start_delay)
        status = standin.faults.create_status
        if status is None and standin.faults.create_failures > 0:
            standin.faults.create_failures -= 1
            status = 500
        if status is not None:
            self.send_json(
                status, {"code": status, "message": f"injected create failure ({status})"}
            )
            return
        sandbox = await standin._create_sandbox(
            template=str(body.get("templateID") or "base"),
            timeout=body.get("timeout"),
            metadata=body.get("metadata") or {},
            envs=body.get("envVars") or {},
        )
        self.send_json(201, sandbox.created_json(standin.envd_version))

    def get(self) -> None:
        """List running sandboxes, one page, filtered as E2B's API does: `metadata` (an
        urlencoded `key=value&…` every listed sandbox's metadata holds) and `state`
        (comma-separated; every stand-in sandbox is running)."""
        v = self.standin.envd_version
        wanted = dict(urllib.parse.parse_qsl(self.get_argument("metadata", "")))
        states = {s for a in self.get_arguments("state") for s in a.split(",") if s}
        listed = [
            s.detail_json(v)
            for s in self.standin.sandboxes.values()
            if all(s.metadata.get(k) == value for k, value in wanted.items()) and (not states or "running" in states)
        ]
        for item in listed:
            item.pop("envdAccessToken", None)
        self.send_json(200, listed)


class SandboxHandler(_ApiHandler):
    def get(self, sandbox_id: str) -> None:
        sandbox = self.sandbox(sandbox_id)
        if sandbox is not None:
            self.send_json(200, sandbox.detail_json(self.standin.envd_version))

    async def delete(self, sandbox_id: str) -> None:
        stats, delay = self.standin.stats, self.standin.faults.kill_delay
        stats.kills_in_flight += 1
        stats.most_kills_in_flight = max(stats.most_kills_in_flight, stats.kills_in_flight)
        try:
            if delay > 0:  # a slow cloud: the kill request takes this long
                await asyncio.sleep(delay)
            killed = await self.standin.kill_sandbox(sandbox_id)
        finally:
            stats.kills_in_flight -= 1
        if killed:
            self.set_status(204)
            self.finish()
        else:
            self.sandbox(sandbox_id)


class TimeoutHandler(_ApiHandler):
    def post(self, sandbox_id: str) -> None:
        body = self.json_body()
        sandbox = self.sandbox(sandbox_id) if body is not None else None
        if sandbox is None:
            return
        timeout = body.get("timeout")
        if not isinstance(timeout, (int, float)) or timeout < 0 or timeout > MAX_TIMEOUT:
            self.send_json(400, {"code": 400, "message": f"invalid timeout {timeout!r}"})
            return
        sandbox.set_timeout(timeout)
        self.set_status(204)
        self.finish()


class ConnectHandler(_ApiHandler):
    def post(self, sandbox_id: str) -> None:
        """Connect: a running sandbox's timeout only ever grows here."""
        body = self.json_body()
        sandbox = self.sandbox(sandbox_id) if body is not None else None
        if sandbox is None:
            return
        timeout = body.get("timeout")
        if isinstance(timeout, (int, float)) and timeout > sandbox.seconds_left():
            sandbox.set_timeout(min(timeout, MAX_TIMEOUT))
        self.send_json(200, sandbox.created_json(self.standin.envd_version))


class _SandboxHandler(_Handler):
    """A request to a sandbox, routed by the ``E2b-Sandbox-Id`` header."""

    def find_sandbox(self, envd: bool = False) -> Sandbox | None:
        """The target sandbox, or None after answering as E2B's proxy does.

        ``envd`` requests must carry the sandbox's access token (or a signed URL,
        whose signature the stand-in does not verify)."""
        sandbox_id = self.request.headers.get("E2b-Sandbox-Id", "")
        sandbox = self.standin.sandboxes.get(sandbox_id)
        if sandbox is None:
            self.send_json(
                502,
                {
                    "code": 502,
                    "message": f"The sandbox {sandbox_id} was not found",
                    "sandboxId": sandbox_id,
                },
            )
            return None
        if envd:
            token = self.request.headers.get("X-Access-Token")
            signed = self.get_query_argument("signature", None)
            if token != sandbox.access_token and not signed:
                self.send_json(401, {"code": 401, "message": "invalid access token"})
                return None
        return sandbox


class HealthHandler(_SandboxHandler):
    def get(self) -> None:
        if self.find_sandbox() is not None:
            self.set_status(204)
            self.finish()


class ExecuteHandler(_SandboxHandler):
    """``POST /execute``: newline-delimited JSON of one execution, streamed."""

    _execution: Execution | None = None
    _cut = False

    async def post(self) -> None:
        standin = self.standin
        sandbox = self.find_sandbox()
        if sandbox is None:
            return
        if standin.faults.execute_status is not None:
            status, standin.faults.execute_status = standin.faults.execute_status, None
            self.send_text(status, f"injected /execute failure ({status})")
            return
        body = self.json_body()
        if body is None:
            return
        context_id, language = body.get("context_id"), body.get("language")
        if context_id and language:
            self.send_text(400, "Only one of context_id or language can be provided")
            return
        try:
            context = await sandbox.context_for(context_id, language)
        except SandboxGone:
            self.find_sandbox()  # answers as for any sandbox that is gone
            return
        except ContextNotFound:
            self.send_text(404, f"Context {context_id} not found")
            return
        except UnsupportedLanguage:
            self.send_text(500, f"Language {language!r} is not supported by the E2B stand-in")
            return
        except Exception as e:
            log.exception("the kernel of sandbox %s did not start", sandbox.id)
            self.send_text(500, f"Failed to start the kernel: {e}")
            return
        if self._cut:  # the client left while the kernel was starting
            return
        drop_after, standin.faults.drop_execute_after = standin.faults.drop_execute_after, None
        standin.stats.executions += 1
        self.set_header("Content-Type", "application/x-ndjson")
        self._execution = Execution()
        sent = 0

        async def emit(line: dict) -> None:
            nonlocal sent
            if drop_after is not None and sent >= drop_after:
                self.cut()
            if self._cut:
                raise StreamClosedError()
            self.write(json.dumps(line, default=str) + "\n")
            await self.flush()
            sent += 1

        sandbox.streams.add(self)
        try:
            await context.run(
                str(body.get("code", "")), body.get("env_vars"), self._execution, emit
            )
        finally:
            sandbox.streams.discard(self)
        if not self._cut and not self.request.connection.stream.closed():
            self.finish()

    def cut(self) -> None:
        """Drop the connection mid-response, like a proxy losing the sandbox."""
        self._cut = True
        self.request.connection.stream.close()

    def on_connection_close(self) -> None:
        self._cut = True
        if self._execution is not None:
            self._execution.abandon()


class ContextsHandler(_SandboxHandler):
    def get(self) -> None:
        sandbox = self.find_sandbox()
        if sandbox is not None:
            self.send_json(200, [c.to_json() for c in sandbox.contexts.values()])

    async def post(self) -> None:
        sandbox = self.find_sandbox()
        body = self.json_body() if sandbox is not None else None
        if body is None:
            return
        try:
            await sandbox.ready()
            context = await sandbox.create_context(body.get("language"), body.get("cwd"))
        except SandboxGone:
            self.find_sandbox()
            return
        except UnsupportedLanguage as e:
            self.send_text(500, f"Language {e} is not supported by the E2B stand-in")
            return
        except PathError as e:
            self.send_text(400, str(e))
            return
        self.send_json(200, context.to_json())


class ContextHandler(_SandboxHandler):
    async def delete(self, context_id: str) -> None:
        sandbox = self.find_sandbox()
        if sandbox is None:
            return
        try:
            await sandbox.remove_context(context_id)
        except ContextNotFound:
            self.send_text(404, f"Context {context_id} not found")
            return
        self.send_json(200, None)


class ContextRestartHandler(_SandboxHandler):
    async def post(self, context_id: str) -> None:
        sandbox = self.find_sandbox()
        if sandbox is None:
            return
        try:
            await sandbox.ready()
            await sandbox.restart_context(context_id)
        except SandboxGone:
            self.find_sandbox()
            return
        except ContextNotFound:
            self.send_text(404, f"Context {context_id} not found")
            return
        self.send_json(200, None)


@tornado.web.stream_request_body
class FilesHandler(_SandboxHandler):
    """envd ``/files``: multipart or octet-stream uploads streamed to disk, and downloads."""

    _sandbox: Sandbox | None = None
    _parser: files.MultipartParser | None = None
    _target = None  # (path, file) being written
    _written: list
    _error: tuple[int, str] | None = None
    _gunzip = None

    async def prepare(self) -> None:
        super().prepare()
        self._written = []
        self._sandbox = self.find_sandbox(envd=True)
        if self._sandbox is None or self.request.method != "POST":
            return
        self.request.connection.set_max_body_size(self.standin.max_upload_bytes)
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            boundary = _boundary(content_type)
            if boundary is None:
                self.send_json(400, {"code": 400, "message": "multipart boundary missing"})
                return
            self._parser = files.MultipartParser(boundary)
        else:
            path = self.get_query_argument("path", None)
            if not path:
                self.send_json(400, {"code": 400, "message": "path query parameter required"})
                return
            if self.request.headers.get("Content-Encoding", "").lower() == "gzip":
                self._gunzip = zlib.decompressobj(wbits=31)
            await self._open(path)

    async def data_received(self, chunk: bytes) -> None:
        if self._finished or self._sandbox is None or self._error is not None:
            return
        if self._parser is None:
            if self._gunzip is not None:
                chunk = self._gunzip.decompress(chunk)
            await self._write(chunk)
            return
        try:
            events = self._parser.feed(chunk)
        except ValueError as e:
            self._fail(400, str(e))
            return
        for kind, value in events:
            if kind == "part":
                name = value.get("name")
                path = self.get_query_argument("path", None) or value.get("filename")
                if name == "file" and path:
                    await self._open(path)
            elif kind == "data":
                await self._write(value)
            else:
                await self._close_target()

    async def post(self) -> None:
        if self._sandbox is None:
            return
        if self._gunzip is not None and self._error is None:
            await self._write(self._gunzip.flush())
        await self._close_target()
        if self._error is not None:
            self.send_json(self._error[0], {"code": self._error[0], "message": self._error[1]})
        elif not self._written:
            self.send_json(400, {"code": 400, "message": "no file in the upload"})
        else:
            fs = self._sandbox.fs
            self.send_json(200, [files.write_info(fs, p) for p in self._written])

    async def get(self) -> None:
        """Download, streamed from disk in chunks."""
        sandbox = self._sandbox
        if sandbox is None:
            return
        path = self.get_query_argument("path", None)
        if not path:
            self.send_json(400, {"code": 400, "message": "path query parameter required"})
            return
        try:
            real = sandbox.fs.to_real(path)
            handle = await asyncio.to_thread(open, real, "rb")
        except PathError as e:
            self.send_json(400, {"code": 400, "message": str(e)})
            return
        except IsADirectoryError:
            self.send_json(400, {"code": 400, "message": f"path '{path}' is a directory"})
            return
        except FileNotFoundError:
            self.send_json(404, {"code": 404, "message": f"path '{path}' does not exist"})
            return
        try:
            size = (await asyncio.to_thread(real.stat)).st_size
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Length", str(size))
            while chunk := await asyncio.to_thread(handle.read, _DOWNLOAD_CHUNK):
                self.write(chunk)
                await self.flush()
            self.finish()
        except StreamClosedError:
            pass
        finally:
            await asyncio.to_thread(handle.close)

    def on_finish(self) -> None:
        super().on_finish()
        if self._target is not None:  # aborted upload: do not leak the handle
            self._target[1].close()
            self._target = None

    async def _open(self, path: str) -> None:
        await self._close_target()
        try:
            self._target = await asyncio.to_thread(files.open_for_upload, self._sandbox.fs, path)
        except (PathError, OSError) as e:
            self._fail(400, str(e))

    async def _write(self, data: bytes) -> None:
        if self._target is None or not data:
            return
        await asyncio.to_thread(self._target[1].write, data)
        uploaded = self.standin.stats.bytes_uploaded
        uploaded[self._sandbox.id] = uploaded.get(self._sandbox.id, 0) + len(data)

    async def _close_target(self) -> None:
        if self._target is not None:
            path, handle = self._target
            self._target = None
            await asyncio.to_thread(handle.close)
            self._written.append(path)

    def _fail(self, status: int, message: str) -> None:
        if self._error is None:
            self._error = (status, message)


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Access log at DEBUG: injected 5xx answers are expected, not worth an ERROR."""
    request = handler.request
    log.debug(
        "%d %s %s %.1fms",
        handler.get_status(),
        request.method,
        request.uri,
        1000 * request.request_time(),
    )


def _boundary(content_type: str) -> bytes | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    return None


_RPC = {
    "ListDir": lambda fs, b: files.list_dir(fs, b.get("path", ""), int(b.get("depth") or 0)),
    "Stat": lambda fs, b: files.stat_entry(fs, b.get("path", "")),
    "MakeDir": lambda fs, b: files.make_dir(fs, b.get("path", "")),
    "Remove": lambda fs, b: files.remove(fs, b.get("path", "")),
    "Move": lambda fs, b: files.move(fs, b.get("source", ""), b.get("destination", "")),
}
_CONNECT_STATUS = {
    "invalid_argument": 400,
    "unauthenticated": 401,
    "not_found": 404,
    "already_exists": 409,
    "internal": 500,
    "unimplemented": 501,
}


class RpcHandler(_SandboxHandler):
    """envd Connect-RPC, unary calls in the JSON codec the SDK uses."""

    async def post(self, service: str, method: str) -> None:
        sandbox = self.find_sandbox(envd=True)
        if sandbox is None:
            return
        call = _RPC.get(method) if service == "filesystem.Filesystem" else None
        if call is None:
            self._connect_error(
                "unimplemented", f"{service}/{method} is not supported by the E2B stand-in"
            )
            return
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            self._connect_error("invalid_argument", "only the Connect JSON codec is supported")
            return
        try:
            body = json.loads(self.request.body or b"{}")
            result = await asyncio.to_thread(call, sandbox.fs, body)
        except RpcError as e:
            self._connect_error(e.code, e.message)
            return
        except (ValueError, OSError) as e:
            self._connect_error("internal", str(e))
            return
        self.send_json(200, result)

    def _connect_error(self, code: str, message: str) -> None:
        self.send_json(_CONNECT_STATUS.get(code, 500), {"code": code, "message": message})


# --- the stand-in's own control routes (standalone use, e.g. browser tests) ----


class StandinHealthHandler(_Handler):
    def get(self) -> None:
        self.send_json(200, {"ok": True, "sandboxes": list(self.standin.sandboxes)})


class StandinStatsHandler(_Handler):
    def get(self) -> None:
        self.send_json(
            200, {"stats": self.standin.stats.to_json(), "faults": asdict(self.standin.faults)}
        )


class StandinFaultsHandler(_Handler):
    def post(self) -> None:
        """Set fault fields from a JSON object (unknown names are a 400)."""
        body = self.json_body()
        if body is None:
            return
        known = {f.name for f in fields(Faults)}
        if set(body) - known:
            self.send_json(400, {"message": f"unknown faults: {sorted(set(body) - known)}"})
            return
        for key, value in body.items():
            setattr(self.standin.faults, key, value)
        self.send_json(200, asdict(self.standin.faults))


class StandinResetHandler(_Handler):
    def post(self) -> None:
        self.standin.faults.reset()
        self.standin.stats.requests.clear()
        self.send_json(200, {})


class StandinKillHandler(_Handler):
    async def post(self, sandbox_id: str) -> None:
        self.send_json(200, {"killed": await self.standin.kill_sandbox(sandbox_id)})


_ID = r"([^/]+)"
ROUTES = [
    (r"/v2/sandboxes", SandboxesHandler),
    (r"/sandboxes", SandboxesHandler),
    (rf"/sandboxes/{_ID}", SandboxHandler),
    (rf"/sandboxes/{_ID}/timeout", TimeoutHandler),
    (rf"/(?:v2/)?sandboxes/{_ID}/connect", ConnectHandler),
    (r"/health", HealthHandler),
    (r"/execute", ExecuteHandler),
    (r"/contexts", ContextsHandler),
    (rf"/contexts/{_ID}", ContextHandler),
    (rf"/contexts/{_ID}/restart", ContextRestartHandler),
    (r"/files", FilesHandler),
    (r"/_standin/health", StandinHealthHandler),
    (r"/_standin/stats", StandinStatsHandler),
    (r"/_standin/faults", StandinFaultsHandler),
    (r"/_standin/reset", StandinResetHandler),
    (rf"/_standin/sandboxes/{_ID}/kill", StandinKillHandler),
    (r"/(\w+\.\w+)/(\w+)", RpcHandler),  # envd Connect-RPC: /<package.Service>/<Method>
]
