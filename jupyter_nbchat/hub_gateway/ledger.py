"""Every call each user made through the gateway, in one small sqlite file.

sqlite blocks, so every statement runs on one thread of its own (one connection, one writer,
statements in order) and the event loop only awaits it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from .usage import Usage

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    user TEXT NOT NULL,
    at REAL NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_input_tokens INTEGER NOT NULL,
    cache_creation_input_tokens INTEGER NOT NULL,
    status INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_user_at ON calls (user, at);
"""


def period_start(period: str, now: float | None = None) -> float:
    """The start (epoch seconds, UTC) of the budget period holding `now`: "month", "day" or
    "total" (since the beginning)."""
    if period == "total":
        return 0.0
    moment = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
    moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        moment = moment.replace(day=1)
    elif period != "day":
        raise ValueError(f"unknown budget period {period!r}: use 'month', 'day' or 'total'")
    return moment.timestamp()


class Ledger:
    def __init__(self, path: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nbchat-ledger")
        self._db: sqlite3.Connection | None = None
        self._path = path

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        self._db = sqlite3.connect(self._path, check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._db.commit()

    async def record(self, user: str, usage: Usage, status: int) -> None:
        await self._run(self._record, user, usage, status)

    def _record(self, user: str, usage: Usage, status: int) -> None:
        assert self._db is not None
        self._db.execute(
            "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (user, time.time(), usage.model, usage.input_tokens, usage.output_tokens,
             usage.cache_read_input_tokens, usage.cache_creation_input_tokens, status),
        )  # fmt: skip
        self._db.commit()

    async def spent(self, user: str, since: float) -> dict[str, int]:
        """`calls` and `tokens` (Usage.total summed) of `user` since `since`."""
        return await self._run(self._spent, user, since)

    def _spent(self, user: str, since: float) -> dict[str, int]:
        assert self._db is not None
        calls, tokens = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(input_tokens + output_tokens + cache_read_input_tokens"
            " + cache_creation_input_tokens), 0) FROM calls WHERE user = ? AND at >= ?",
            (user, since),
        ).fetchone()
        return {"calls": calls, "tokens": tokens}

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._pool.shutdown(wait=False)
