"""The errors of named database connections; none carries a URL or a password."""

from __future__ import annotations

from ..errors import NbChatError


class UnknownDatabase(NbChatError):
    """A name no connection has; 404 from the inspect route, 400 in a turn (its request is wrong)."""

    status = 404

    def __init__(self, name: str, known: list[str], status: int = 404) -> None:
        listed = ", ".join(repr(n) for n in known) if known else "none (an administrator sets NbChat.databases)"
        super().__init__(f"No database connection named {name!r} on this server. Known: {listed}.")
        self.status = status


class DatabaseUnavailable(NbChatError):
    """The database could not be reached or refused us (down, wrong password, bad URL)."""

    kind = "database"
    status = 502


class DatabaseTimeout(DatabaseUnavailable):
    """Reading the schema took longer than the statement or connect timeout."""

    status = 504
