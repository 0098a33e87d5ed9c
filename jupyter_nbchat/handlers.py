"""Thin HTTP and WebSocket handlers under /nbchat: parse, delegate, answer JSON.

Every method is authenticated and authorized against the `nbchat` resource.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import BaseModel, ValidationError
from tornado import web, websocket

from . import __version__
from .errors import API_KEY_HELP, NbChatError
from .models import (
    NotebookRef,
    RecordRequest,
    RerunRequest,
    ReviewDecision,
    Status,
    TurnCreated,
    TurnList,
    TurnRequest,
    UndoRequest,
    Variables,
    VerifyCreated,
    VerifyRequest,
    WarmRequest,
)

AUTH_RESOURCE = "nbchat"
_TURN_ID = r"(?P<turn_id>[0-9a-f]{32})"
_VERIFY_ID = r"(?P<verify_id>[0-9a-f]{32})"


class NbChatHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def nbchat(self) -> Any:
        return self.settings["nbchat"]

    def write_model(self, model: BaseModel, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(model.model_dump_json())

    def parse(self, model: type[BaseModel]) -> Any:
        """The JSON body as `model`, or a 400 whose message says what is wrong."""
        try:
            return model.model_validate_json(self.request.body or b"{}")
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            reason = first.get("msg", "invalid").removeprefix("Value error, ")
            raise web.HTTPError(400, f"Invalid request ({where}): {reason}") from None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """JSON errors carry only our message: no traceback, no secret, ever."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))


def nbchat_errors(method: Any) -> Any:
    """Turn NbChatError into an HTTP error with its status and message."""

    async def wrapper(self: NbChatHandler, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except NbChatError as err:
            raise web.HTTPError(err.status, str(err)) from None

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class StatusHandler(NbChatHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        app = self.nbchat
        self.write_model(
            Status(
                version=__version__,
                model=app.chat_model(),
                executor=app.chat_executor(),
                e2b_available=bool(app.e2b_api_key),
                has_api_key=bool(app.anthropic_api_key),
                api_key_help=API_KEY_HELP,
                policy=app.policy(),
            )
        )


class TurnsHandler(NbChatHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """A reloaded panel finds the notebook's running turn here and follows it again."""
        path = self.get_argument("notebook_path")
        self.write_model(TurnList(turns=[t.info() for t in self.nbchat.turns.of_notebook(path)]))

    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        request = self.parse(TurnRequest)
        turn = await self.nbchat.turns.start(request)
        self.write_model(TurnCreated(turn_id=turn.id), status=201)


class TurnHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def get(self, turn_id: str) -> None:
        self.write_model(self.nbchat.turns.get(turn_id).info())


class CancelHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self, turn_id: str) -> None:
        await self.nbchat.turns.cancel(turn_id)
        self.set_status(202)
        self.finish("{}")


class ReviewHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self, turn_id: str) -> None:
        decision = self.parse(ReviewDecision)
        turn = self.nbchat.turns.get(turn_id)
        if not turn.decide(decision.tool_use_id, decision.decision, decision.code):
            raise web.HTTPError(409, "No cell of this turn is waiting for that decision.")
        self.set_status(202)
        self.finish("{}")


class WarmHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        await self.nbchat.turns.warm(self.parse(WarmRequest))
        self.set_status(202)
        self.finish("{}")


class VariablesHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def get(self) -> None:
        path = self.get_argument("notebook_path")
        self.write_model(Variables(variables=await self.nbchat.turns.variables(path)))


class RestartHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        await self.nbchat.turns.restart_executor(self.parse(NotebookRef).notebook_path)
        self.set_status(202)
        self.finish("{}")


class RerunHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        """Restart the chat's executor and run the notebook's remaining code again."""
        self.write_model(await self.nbchat.turns.rerun(self.parse(RerunRequest)))


class RecordHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        """Fold a change of the chat's settings into its record (metadata.nbchat)."""
        self.write_model(await self.nbchat.turns.change_record(self.parse(RecordRequest)))


class UndoHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        """What taking a turn back does to the notebook the browser sent."""
        self.write_model(self.nbchat.turns.undo(self.parse(UndoRequest)))


class VerifyHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        """Run the notebook in a fresh runtime and compare its outputs (verify.py); poll the job."""
        request = self.parse(VerifyRequest)
        request.executor = self.nbchat.verify_executor(request.executor, request.record)
        job = await self.nbchat.verifications.start(request)
        self.write_model(VerifyCreated(verify_id=job.id), status=202)


class VerificationHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def get(self, verify_id: str) -> None:
        self.write_model(self.nbchat.verifications.get(verify_id).info())

    @web.authenticated
    @authorized
    @nbchat_errors
    async def delete(self, verify_id: str) -> None:
        """Stop it; answers once its fresh kernel or sandbox is shut down."""
        await self.nbchat.verifications.cancel(verify_id)
        self.set_status(204)
        self.finish()


class EventsHandler(ExtensionHandlerMixin, WebSocketMixin, JupyterHandler, websocket.WebSocketHandler):
    """Streams a turn's events: those after `?after=N`, then live ones until the turn ends."""

    auth_resource = AUTH_RESOURCE
    _pump: asyncio.Future | None = None

    async def pre_get(self) -> None:
        authorized_ = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "read", AUTH_RESOURCE)
        )
        if not authorized_:
            raise web.HTTPError(403)

    def origin_refused(self) -> bool:
        """Tornado's own cross-origin rule for WebSockets (it applies it only in super().get())."""
        check = getattr(self, "_check_cross_origin", None)  # tornado >= 6.5
        if check is not None:
            return check(self.check_origin) is not None
        origin = self.request.headers.get("Origin")
        return origin is not None and not self.check_origin(origin)

    @ws_authenticated
    async def get(self, turn_id: str) -> None:
        await self.pre_get()
        # Refuse a cross-site page riding the login cookie before looking the turn up: it gets
        # the same 403 whether the id exists or not (otherwise 404 for a missing one).
        if self.origin_refused():
            raise web.HTTPError(403, "Cross origin websockets not allowed")
        try:
            self.turn = self.settings["nbchat"].turns.get(turn_id)
            self.after = int(self.get_argument("after", "0"))
        except (NbChatError, ValueError) as err:
            raise web.HTTPError(404 if isinstance(err, NbChatError) else 400, str(err)) from None
        await super().get(turn_id)

    def open(self, turn_id: str) -> None:  # type: ignore[override]
        super().open()
        self._pump = asyncio.ensure_future(self._send_events())

    async def _send_events(self) -> None:
        """The pump counts as the turn's follower while it runs (on_close cancels it)."""
        with self.turn.following():
            try:
                async for event in self.turn.follow(self.after):
                    await self.write_message(json.dumps(event))
                self.close(1000, "turn finished")
            except websocket.WebSocketClosedError:
                pass

    def on_message(self, message: str | bytes) -> None:
        """The panel sends nothing on this socket; cancelling is a POST."""

    def on_close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        # jupyter_server stops the keep-alive ping only at its next tick (30 s on): a
        # closed socket would be held that long; release it now.
        if self.ping_callback is not None:
            self.ping_callback.stop()
            self.ping_callback = None


def route_table() -> list[tuple[str, type]]:
    """Routes relative to the server's base URL (ExtensionApp joins base_url)."""
    from .databases.handlers import database_routes  # both import this module: import late
    from .datafiles.handlers import datafile_routes

    return [
        (r"/nbchat/status", StatusHandler),
        (r"/nbchat/turns", TurnsHandler),
        (rf"/nbchat/turns/{_TURN_ID}", TurnHandler),
        (rf"/nbchat/turns/{_TURN_ID}/cancel", CancelHandler),
        (rf"/nbchat/turns/{_TURN_ID}/events", EventsHandler),
        (rf"/nbchat/turns/{_TURN_ID}/review", ReviewHandler),
        (r"/nbchat/executor/warm", WarmHandler),
        (r"/nbchat/executor/restart", RestartHandler),
        (r"/nbchat/executor/rerun", RerunHandler),
        (r"/nbchat/record", RecordHandler),
        (r"/nbchat/undo", UndoHandler),
        (r"/nbchat/variables", VariablesHandler),
        (r"/nbchat/verify", VerifyHandler),
        (rf"/nbchat/verify/{_VERIFY_ID}", VerificationHandler),
        *datafile_routes(),
        *database_routes(),
    ]
