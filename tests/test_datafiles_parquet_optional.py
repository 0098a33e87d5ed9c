"""pyarrow is optional (the `parquet` extra): a real Jupyter server started without it.

The server runs in a subprocess whose every Python process (the server, the file-reading
worker pool, anything it spawns) finds no pyarrow: a `sitecustomize` on PYTHONPATH puts
`None` in `sys.modules["pyarrow"]`, which makes `import pyarrow` raise ImportError exactly as
when the package is not installed. Attaching a Parquet file (inspect or upload) then answers
415 with how to install pyarrow, and the other formats still work.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import data_factory as make

NEEDS_PYARROW = "Parquet files need pyarrow on the server: pip install 'jupyter_nbchat[parquet]'"

BLOCK_PYARROW = """\
import sys
sys.modules["pyarrow"] = None  # `import pyarrow` raises ImportError, as when it is not installed
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Jupyter server with jupyter_nbchat, token-authenticated, in a subprocess."""

    def __init__(self, root: Path, home: Path, block: str = BLOCK_PYARROW) -> None:
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        site = home / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(block, encoding="utf-8")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "NO_PROXY": "localhost,127.0.0.1",
            "no_proxy": "localhost,127.0.0.1",
        }
        self.log = (home / "server.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter_server", "--no-browser",
                f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
                "--ServerApp.allow_root=True", "--ServerApp.jpserver_extensions={'jupyter_nbchat': True}",
                "--NbChat.anthropic_api_key=sk-ant-unused",
            ],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 180  # a busy two-core machine starts it in 5-50 s
        while True:
            try:
                self.request("GET", "api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    output = self.output()
                    self.stop()
                    raise RuntimeError("the server did not start:\n" + output) from None
                time.sleep(0.3)

    def request(self, method: str, path: str, body: bytes | None = None, **params: str) -> tuple[int, dict]:
        url = f"{self.url}/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        req = urllib.request.Request(url, data=body, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as reply:  # noqa: S310 - local test server
                return reply.status, json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def inspect(self, *paths: str) -> tuple[int, dict]:
        return self.request("POST", "nbchat/files/inspect", json.dumps({"paths": list(paths)}).encode())

    def upload(self, name: str, data: bytes) -> tuple[int, dict]:
        return self.request("PUT", "nbchat/files/upload", data, dir="", name=name)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _parquet_bytes(tmp_path: Path) -> bytes:
    """A real Parquet file, written here (the test process has pyarrow)."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "made.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "city": ["Lyon", "Oslo", None]}), path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    running = Server(root, tmp_path_factory.mktemp("home"))
    running.root = root
    yield running
    running.stop()


def test_attaching_parquet_without_pyarrow_says_how_to_install_it(server, tmp_path):
    """The same file reads fine in this process (pyarrow installed); the server has none."""
    data = _parquet_bytes(tmp_path)
    (server.root / "sales.parquet").write_bytes(data)

    status, reply = server.inspect("sales.parquet")
    assert status == 415, reply
    assert NEEDS_PYARROW in reply["message"] and "'sales.parquet'" in reply["message"]
    assert "Traceback" not in reply["message"]

    status, reply = server.upload("upload.parquet", data)
    assert status == 415, reply
    assert NEEDS_PYARROW in reply["message"]
    assert not (server.root / "upload.parquet").exists()  # a refused upload leaves nothing behind
    assert not [p for p in server.root.iterdir() if p.name.startswith(".nbchat-upload-")]


def test_a_file_that_is_not_parquet_is_still_told_apart(server):
    """The PAR1 check comes first: a misnamed CSV is "not Parquet", not "install pyarrow"."""
    (server.root / "fake.parquet").write_text("a,b\n1,2\n", encoding="utf-8")
    status, reply = server.inspect("fake.parquet")
    assert status == 422, reply
    assert "PAR1" in reply["message"] and "pyarrow" not in reply["message"]


def test_other_formats_still_work_without_pyarrow(server):
    make.write_text(server.root / "sales.csv", make.csv_text([["id", "city"], [1, "Lyon"], [2, "Oslo"]]))
    make.xlsx(server.root / "book.xlsx", {"Sales": [["a", "b"], [1, 2]]})
    make.write_text(server.root / "rows.jsonl", '{"a": 1}\n{"a": 2}\n')

    status, reply = server.inspect("sales.csv", "book.xlsx", "rows.jsonl")
    assert status == 200, reply
    assert [f["type"] for f in reply["files"]] == ["csv", "xlsx", "jsonl"]
    assert reply["files"][0]["tables"][0]["columns"] == ["id", "city"]

    status, reply = server.upload("more.csv", b"x,y\n1,2\n")
    assert status == 201, reply
    assert reply["file"]["tables"][0]["columns"] == ["x", "y"]
    assert (server.root / "more.csv").exists()
