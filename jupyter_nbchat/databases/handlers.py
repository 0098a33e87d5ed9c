"""HTTP routes for named database connections; none ever answers with a URL.

GET  /nbchat/databases           -> DatabaseList (names, dialects, descriptions, the notice)
POST /nbchat/databases/inspect   {"name", "level"?} -> DatabaseInspectResult
                                 unknown name 404; unreachable / refused 502; timed out 504
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..handlers import NbChatHandler, nbchat_errors
from .models import DatabaseInspectRequest
from .service import Databases


class DatabasesHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def get(self) -> None:
        self.write_model(await Databases.for_app(self.nbchat).listing())


class DatabaseInspectHandler(NbChatHandler):
    @web.authenticated
    @authorized
    @nbchat_errors
    async def post(self) -> None:
        request = self.parse(DatabaseInspectRequest)
        self.write_model(await Databases.for_app(self.nbchat).inspect(request.name, request.level))


def database_routes() -> list[tuple[str, type]]:
    return [
        (r"/nbchat/databases", DatabasesHandler),
        (r"/nbchat/databases/inspect", DatabaseInspectHandler),
    ]
