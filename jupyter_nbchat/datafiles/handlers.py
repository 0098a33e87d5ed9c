"""HTTP routes for data files: inspect files under the root, upload a file into it.

POST /nbchat/files/inspect   {"paths": [...], "level"?, "notebook_path"?} -> InspectResult
PUT  /nbchat/files/upload?dir=<folder>&name=<file name>   raw bytes -> 201 UploadResult

Both are authenticated and authorized like every nbchat route. The upload streams its body
to a temporary file in the target folder (refusing with 413 as soon as the size limit is
passed), inspects it, and only then gives it its name: a file nbchat cannot read is never
left behind, and an existing file is never overwritten.
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import NbChatError
from ..handlers import AUTH_RESOURCE, NbChatHandler, nbchat_errors
from .cache import DataFiles, Upload
from .errors import FileTooLarge
from .models import ContextLevel, InspectRequest, UploadResult

LEVELS = ("headers", "schema", "sample")


class InspectHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        request = self.parse(InspectRequest)
        service = DataFiles.for_app(self.nbchat)
        self.write_model(await service.inspect(request.paths, request.level, request.notebook_path))


@web.stream_request_body
class UploadHandler(NbChatHandler):
    """Streams the request body to disk; see the module docstring."""

    upload: Upload | None = None
    failed: NbChatError | None = None

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()  # authentication (403 without a user), XSRF, origin
        if self._finished:
            return
        if not self.current_user:
            raise web.HTTPError(403)
        allowed = await ensure_async(self.authorizer.is_authorized(self, self.current_user, "write", AUTH_RESOURCE))
        if not allowed:
            raise web.HTTPError(403, f"User is not authorized to write on resource: {AUTH_RESOURCE}.")
        if self.request.method != "PUT":
            return
        service = DataFiles.for_app(self.nbchat)
        limit = service.limits.max_upload_bytes
        name = self.get_query_argument("name", "")
        folder = self.get_query_argument("dir", "")
        level = self.get_query_argument("level", "") or None
        if level is not None and level not in LEVELS:
            raise web.HTTPError(400, f"Invalid request (level): must be one of {', '.join(LEVELS)}")
        length = self.request.headers.get("Content-Length")
        try:
            if length is not None and int(length) > limit:
                raise FileTooLarge(name or "the file", service.limits.max_upload_mb)
            self.upload = await asyncio.to_thread(service.start_upload, folder, name)
        except NbChatError as err:
            raise web.HTTPError(err.status, str(err)) from None
        except ValueError:
            raise web.HTTPError(400, "Invalid Content-Length header") from None
        # Tornado's own cap (jupyter_server's max_body_size) would drop the connection without a
        # word; ours answers 413 first.
        self.request.connection.set_max_body_size(limit + (1 << 20))

    async def data_received(self, chunk: bytes) -> None:
        if self.upload is None or self.failed is not None:
            return
        try:
            await self.upload.write(chunk)
        except NbChatError as err:
            self.failed = err
            self.upload.abort()
            # Answer at once; tornado closes the connection rather than read the rest.
            self.send_error(err.status, exc_info=(web.HTTPError, web.HTTPError(err.status, str(err)), None))

    @web.authenticated
    @authorized
    @nbchat_errors
    async def put(self) -> None:
        if self.failed is not None or self.upload is None:
            return
        try:
            summary = await self.upload.finish(self._level())
        except BaseException:
            self.upload.abort()
            raise
        self.write_model(UploadResult(file=summary), status=201)

    def _level(self) -> ContextLevel | None:
        level = self.get_query_argument("level", "") or None
        return level  # type: ignore[return-value]

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if self.upload is not None and not self.upload.done:
            self.upload.abort()

    def on_finish(self) -> None:
        if self.upload is not None and not self.upload.done:
            self.upload.abort()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if self.upload is not None:
            self.upload.abort()
        super().write_error(status_code, **kwargs)


def datafile_routes() -> list[tuple[str, type]]:
    """Routes relative to the server's base URL, for handlers.route_table()."""
    return [
        (r"/nbchat/files/inspect", InspectHandler),
        (r"/nbchat/files/upload", UploadHandler),
    ]
