"""Named database connections: the one module that holds their URLs.

An administrator (or the person, on their own server) defines them in `NbChat.databases` or in
the JSON file `NbChat.databases_file` (re-read when it changes), both shaped
`{name: url}` or `{name: {"url": ..., "description": ...}}`. A URL leaves this module only
into SQLAlchemy (the crawl) and into the kernel's environment (`NBCHAT_DB_<NAME>`); anything
printed shows it with the password hidden, and `redact` strips it from driver messages.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from .errors import UnknownDatabase

#: A connection's name: what the panel shows and the record keeps.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
ENV_PREFIX = "NBCHAT_DB_"

NOTICE = (
    "Code that runs in this notebook's kernel can use these database connections with the "
    "same rights as their configured user: it can read (and, if that user may, change) "
    "whatever that user can. The URL and password stay on the server and in the kernel's "
    "environment; they are never written into the notebook."
)


def env_var(name: str) -> str:
    """NBCHAT_DB_<NAME>: upper-cased, every non-alphanumeric character an underscore."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


@dataclass(frozen=True)
class Connection:
    name: str
    description: str
    url: URL = field(repr=False)

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @property
    def env_var(self) -> str:
        return env_var(self.name)

    def secret_url(self) -> str:
        """The full URL, password included: for SQLAlchemy and the kernel's environment only."""
        return self.url.render_as_string(hide_password=False)

    def __repr__(self) -> str:
        return f"Connection({self.name!r}, {self.url.render_as_string(hide_password=True)!r})"

    def redact(self, text: str) -> str:
        """`text` (a driver's message) without this connection's password or full URL."""
        for secret in (self.secret_url(), str(self.url.password or "")):
            if secret:
                text = text.replace(secret, "***")
        return text


def parse(name: Any, value: Any) -> Connection:
    """One configured entry as a Connection; ValueError (without the URL) when it is not one."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError("the name must start with a letter and hold only letters, digits, '_' and '-' (at most 63)")
    description = ""
    if isinstance(value, Mapping):
        description = value.get("description") or ""
        value = value.get("url")
        if not isinstance(description, str):
            raise ValueError("the description must be a string")
    if not isinstance(value, str) or not value:
        raise ValueError("give a URL string, or an object with a 'url' string")
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError("the URL is not a SQLAlchemy URL (dialect+driver://user:password@host/db)") from None
    return Connection(name=name, description=description, url=_with_driver(url))


def _with_driver(url: URL) -> URL:
    """postgresql:// means psycopg2 to SQLAlchemy; with only psycopg 3 installed, use it."""
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None \
            and importlib.util.find_spec("psycopg") is not None:
        return url.set(drivername="postgresql+psycopg")
    return url


class Connections:
    """The traitlet's connections, then the file's (the file wins on a shared name)."""

    def __init__(self, configured: Mapping[str, Any], file: str = "", log: logging.Logger | None = None) -> None:
        self.log = log or logging.getLogger(__name__)
        self.file = file
        self._configured = self._parse_all(configured, "NbChat.databases")
        self._file_stamp: tuple[int, int] | None = None
        self._from_file: dict[str, Connection] = {}

    def _parse_all(self, entries: Any, where: str) -> dict[str, Connection]:
        found: dict[str, Connection] = {}
        if not isinstance(entries, Mapping):
            self.log.warning("nbchat: %s must map names to database URLs; ignored", where)
            return found
        for name, value in entries.items():
            try:
                found[name] = parse(name, value)
            except ValueError as err:  # the message never holds the URL
                self.log.warning("nbchat: database connection %r in %s skipped: %s", name, where, err)
        return found

    def _read_file(self) -> dict[str, Connection]:
        """The file's connections, read again when its size or mtime changed."""
        if not self.file:
            return {}
        try:
            st = os.stat(self.file)
        except OSError:
            if self._file_stamp is not None:
                self.log.warning("nbchat: NbChat.databases_file %s is gone", self.file)
            self._file_stamp, self._from_file = None, {}
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._file_stamp:
            self._file_stamp = stamp
            try:
                with open(self.file, encoding="utf-8") as f:
                    entries = json.load(f)
            except (OSError, ValueError) as err:
                self.log.warning("nbchat: NbChat.databases_file %s is not readable JSON: %s",
                                 self.file, type(err).__name__)
                entries = {}
            self._from_file = self._parse_all(entries, self.file)
        return self._from_file

    def all(self) -> dict[str, Connection]:
        return {**self._configured, **self._read_file()}

    def get(self, name: str, status: int = 404) -> Connection:
        known = self.all()
        if name not in known:
            raise UnknownDatabase(name, sorted(known), status)
        return known[name]
