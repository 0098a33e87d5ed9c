"""The databases of one server: its named connections and their schema crawls, cached briefly.

Crawls run in worker threads (asyncio.to_thread); a crawl of the same connection and level
already under way is shared, not started twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from ..datafiles.models import ContextLevel
from .connections import NOTICE, Connection, Connections
from .errors import UnknownDatabase
from .models import DatabaseInfo, DatabaseInspectResult, DatabaseList, DatabaseSummary
from .prompt import prompt_text
from .schema import CrawlLimits, crawl


class Databases:
    def __init__(self, connections: Connections, limits: CrawlLimits, cache_seconds: float = 60.0,
                 log: logging.Logger | None = None) -> None:
        self.connections = connections
        self.limits = limits
        self.cache_seconds = cache_seconds
        self.log = log or logging.getLogger(__name__)
        self._cache: dict[tuple[str, str, str], tuple[float, DatabaseSummary]] = {}
        self._crawling: dict[tuple[str, str, str], asyncio.Future] = {}

    @classmethod
    def for_app(cls, app: Any) -> Databases:
        """The service of an NbChat app (made on first use)."""
        service = getattr(app, "databases_service", None)
        if service is None:
            service = cls(
                Connections(app.databases, app.databases_file, app.log),
                CrawlLimits(
                    statement_timeout=app.database_statement_timeout,
                    connect_timeout=app.database_connect_timeout,
                    max_tables=app.database_max_tables,
                    sample_rows=app.sample_rows,
                ),
                cache_seconds=app.database_cache_seconds,
                log=app.log,
            )
            app.databases_service = service
        return service

    async def known(self) -> dict[str, Connection]:
        return await asyncio.to_thread(self.connections.all)  # may re-read the file

    async def listing(self) -> DatabaseList:
        known = await self.known()
        return DatabaseList(
            databases=[DatabaseInfo(name=c.name, dialect=c.dialect, description=c.description)
                       for c in sorted(known.values(), key=lambda c: c.name)],
            notice=NOTICE,
        )

    async def connection(self, name: str, status: int = 404) -> Connection:
        known = await self.known()
        if name not in known:
            raise UnknownDatabase(name, sorted(known), status)
        return known[name]

    async def summary(self, name: str, level: ContextLevel = "headers", status: int = 404) -> DatabaseSummary:
        conn = await self.connection(name, status)
        key = (name, level, conn.secret_url())  # a changed URL is another database
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        running = self._crawling.get(key)
        if running is None:
            running = asyncio.ensure_future(asyncio.to_thread(crawl, conn, level, self.limits))
            self._crawling[key] = running
            running.add_done_callback(lambda _: self._crawling.pop(key, None))
        summary = await asyncio.shield(running)
        self._cache[key] = (time.monotonic(), summary)
        return summary

    async def inspect(self, name: str, level: ContextLevel | None) -> DatabaseInspectResult:
        level = level or "headers"
        summary = await self.summary(name, level)
        return DatabaseInspectResult(database=summary, prompt=prompt_text([summary], level))

    async def for_turn(self, names: Sequence[str], level: ContextLevel) -> tuple[list[DatabaseSummary], str]:
        """The chat's databases and their prompt text; an unknown name is the request's fault (400)."""
        if not names:
            return [], ""
        for name in names:  # every name checked before anything connects
            await self.connection(name, status=400)
        summaries = list(await asyncio.gather(*(self.summary(n, level, status=400) for n in names)))
        return summaries, prompt_text(summaries, level)

    async def environment(self, names: Sequence[str]) -> dict[str, str]:
        """NBCHAT_DB_<NAME> -> URL for the kernel; never logged, never sent to the browser."""
        known = await self.known()
        return {known[n].env_var: known[n].secret_url() for n in names if n in known}
