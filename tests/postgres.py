"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, a temporary data folder,
a free loopback port, a password-authenticated role (so URLs carry a real secret).

As root the server runs as the `postgres` system user (it refuses root), through runuser.
Missing PostgreSQL skips the tests, or fails them when NBCHAT_REQUIRE_POSTGRES=1 (CI, after
scripts/setup_postgres.sh).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def why_not() -> str | None:
    if _bin_dir() is None:
        return "PostgreSQL is not installed: run scripts/setup_postgres.sh"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no 'postgres' system user to run the server as (root is refused)"
    return None


class Cluster:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="nbchat-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.superpass = secrets.token_hex(16)
        self.user = "analyst"
        self.password = "pw-" + secrets.token_hex(12)  # the secret that must never leak
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.folder)

    def start(self) -> None:
        pwfile = self.folder / "pw"
        pwfile.write_text(self.superpass)
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--pwfile", str(pwfile),
                  "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C")
        pwfile.unlink()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str, user: str | None = None, password: str | None = None) -> str:
        user = user or self.user
        password = self.password if password is None else password
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", password=self.superpass,
                               dbname=database, autocommit=True)

    def execute(self, database: str, sql: str) -> None:
        with self.admin(database) as conn:
            conn.execute(sql)


@pytest.fixture(scope="session")
def postgres():
    why = why_not()
    if why is not None:
        if os.environ.get("NBCHAT_REQUIRE_POSTGRES") == "1":
            pytest.fail(why)
        pytest.skip(why)
    cluster = Cluster()
    try:
        cluster.start()
        cluster.execute("postgres", f"CREATE ROLE {cluster.user} LOGIN PASSWORD '{cluster.password}'")
        yield cluster
    finally:
        cluster.stop()
