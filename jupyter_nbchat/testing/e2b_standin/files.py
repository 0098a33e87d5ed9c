"""The sandbox filesystem: sandbox paths mapped into a temp dir, as envd shows them.

Every function here touches the disk, so callers run them in a worker thread
(``asyncio.to_thread``) to keep the event loop free.
"""

from __future__ import annotations

import datetime
import os
import posixpath
import re
import shutil
import stat
from pathlib import Path

from .errors import PathError, RpcError

HOME = "/home/user"
"""The sandbox user's home, the default working directory of every kernel."""


class SandboxFS:
    """The files of one sandbox under ``root``; ``/home/user`` is ``root/home/user``.

    Sandbox paths are POSIX paths, absolute or relative to ``/home/user``. They are
    normalised in the virtual tree before being mapped, so ``..`` can never climb
    above the sandbox root, and symlinks pointing out of it are refused.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))
        self.home = self.to_real(HOME)
        self.home.mkdir(parents=True, exist_ok=True)

    def to_virtual_path(self, path: str) -> str:
        """The normalised absolute sandbox path for ``path``."""
        if "\x00" in path:
            raise PathError("path contains a NUL byte")
        virtual = posixpath.normpath(posixpath.join(HOME, path or "."))
        return "/" + virtual.lstrip("/")

    def to_real(self, path: str) -> Path:
        """The host path for a sandbox path; raises ``PathError`` if it would escape."""
        real = self.root.joinpath(self.to_virtual_path(path).lstrip("/"))
        resolved = Path(os.path.realpath(real))
        if resolved != self.root and self.root not in resolved.parents:
            raise PathError(f"path {path!r} leaves the sandbox")
        return real

    def to_virtual(self, real: Path) -> str:
        """The sandbox path of a host path inside the root."""
        return "/" + real.relative_to(self.root).as_posix()


def entry_info(fs: SandboxFS, real: Path) -> dict:
    """The Connect-JSON ``filesystem.EntryInfo`` of one entry (int64 sizes as strings)."""
    st = os.lstat(real)
    is_link = stat.S_ISLNK(st.st_mode)
    target_st = st
    if is_link:
        try:
            target_st = os.stat(real)
        except OSError:
            pass
    is_dir = stat.S_ISDIR(target_st.st_mode)
    modified = datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc)
    info = {
        "name": real.name,
        "type": "FILE_TYPE_DIRECTORY" if is_dir else "FILE_TYPE_FILE",
        "path": fs.to_virtual(real),
        "size": str(target_st.st_size),
        "mode": stat.S_IMODE(target_st.st_mode),
        "permissions": stat.filemode(target_st.st_mode),
        "owner": "user",
        "group": "user",
        "modifiedTime": modified.isoformat().replace("+00:00", "Z"),
    }
    if is_link:
        info["isSymlink"] = True
        info["symlinkTarget"] = os.readlink(real)
    return info


def _existing(fs: SandboxFS, path: str) -> Path:
    try:
        real = fs.to_real(path)
    except PathError as e:
        raise RpcError("invalid_argument", str(e)) from None
    if not os.path.lexists(real):
        raise RpcError("not_found", f"path '{fs.to_virtual_path(path)}' does not exist")
    return real


def list_dir(fs: SandboxFS, path: str, depth: int) -> dict:
    """``ListDir``: the entries below ``path`` down to ``depth`` levels (0 means 1)."""
    real = _existing(fs, path)
    if not real.is_dir():
        raise RpcError("invalid_argument", f"path '{fs.to_virtual(real)}' is not a directory")
    entries: list[dict] = []

    def walk(directory: Path, level: int) -> None:
        for child in sorted(directory.iterdir()):
            entries.append(entry_info(fs, child))
            if level < max(depth, 1) and child.is_dir() and not child.is_symlink():
                walk(child, level + 1)

    walk(real, 1)
    return {"entries": entries}


def stat_entry(fs: SandboxFS, path: str) -> dict:
    """``Stat``: the entry at ``path``."""
    return {"entry": entry_info(fs, _existing(fs, path))}


def make_dir(fs: SandboxFS, path: str) -> dict:
    """``MakeDir``: create the directory and its parents; ``already_exists`` if present."""
    try:
        real = fs.to_real(path)
    except PathError as e:
        raise RpcError("invalid_argument", str(e)) from None
    if os.path.lexists(real):
        raise RpcError("already_exists", f"path '{fs.to_virtual(real)}' already exists")
    real.mkdir(parents=True)
    return {"entry": entry_info(fs, real)}


def remove(fs: SandboxFS, path: str) -> dict:
    """``Remove``: delete a file, symlink or whole directory tree."""
    real = _existing(fs, path)
    if real == fs.root:
        raise RpcError("invalid_argument", "refusing to remove the sandbox root")
    if real.is_dir() and not real.is_symlink():
        shutil.rmtree(real)
    else:
        real.unlink()
    return {}


def move(fs: SandboxFS, source: str, destination: str) -> dict:
    """``Move``: rename ``source`` to ``destination``, creating parent directories."""
    src = _existing(fs, source)
    try:
        dst = fs.to_real(destination)
    except PathError as e:
        raise RpcError("invalid_argument", str(e)) from None
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)
    return {"entry": entry_info(fs, dst)}


def write_info(fs: SandboxFS, real: Path) -> dict:
    """One entry of the ``POST /files`` answer."""
    return {"name": real.name, "type": "file", "path": fs.to_virtual(real)}


def open_for_upload(fs: SandboxFS, path: str):
    """Open the target of an upload for writing, creating parent directories."""
    real = fs.to_real(path)
    if real.is_dir():
        raise PathError(f"path '{fs.to_virtual(real)}' is a directory")
    real.parent.mkdir(parents=True, exist_ok=True)
    return real, open(real, "wb")


class MultipartParser:
    """An incremental ``multipart/form-data`` parser, so uploads stream to disk.

    ``feed`` returns events: ``("part", headers)``, ``("data", bytes)`` and
    ``("end", None)``. It holds back only enough bytes to recognise a boundary
    split across two chunks.
    """

    _MAX_HEADER_BYTES = 64 * 1024

    def __init__(self, boundary: bytes) -> None:
        self._delimiter = b"--" + boundary
        self._body_end = b"\r\n" + self._delimiter
        self._buffer = bytearray()
        self._state = "preamble"

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list[tuple[str, object]]:
        self._buffer += data
        events: list[tuple[str, object]] = []
        buf = self._buffer
        while True:
            if self._state == "preamble":
                i = buf.find(self._delimiter)
                if i < 0:
                    del buf[: max(0, len(buf) - len(self._delimiter))]
                    return events
                del buf[: i + len(self._delimiter)]
                self._state = "after_delimiter"
            if self._state == "after_delimiter":
                if len(buf) < 2:
                    return events
                if buf[:2] == b"--":
                    self._state = "done"
                    buf.clear()
                    return events
                if buf[:2] != b"\r\n":
                    raise ValueError("malformed multipart body")
                del buf[:2]
                self._state = "headers"
            if self._state == "headers":
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    if len(buf) > self._MAX_HEADER_BYTES:
                        raise ValueError("multipart part headers too large")
                    return events
                events.append(("part", _parse_part_headers(bytes(buf[:i]))))
                del buf[: i + 4]
                self._state = "body"
            if self._state == "body":
                i = buf.find(self._body_end)
                if i < 0:
                    keep = len(self._body_end) - 1
                    if len(buf) > keep:
                        events.append(("data", bytes(buf[:-keep])))
                        del buf[:-keep]
                    return events
                if i:
                    events.append(("data", bytes(buf[:i])))
                events.append(("end", None))
                del buf[: i + len(self._body_end)]
                self._state = "after_delimiter"
            if self._state == "done":
                buf.clear()
                return events


_PARAM = re.compile(r';\s*([\w*-]+)="((?:[^"\\]|\\.)*)"')
_HTML5_ESCAPE = re.compile(r"%(0[0-9A-F]|1[0-9A-F]|22)")


def _parse_part_headers(raw: bytes) -> dict:
    """Headers of one part, with ``name``/``filename`` from Content-Disposition.

    httpx escapes ``"`` and control characters in the filename the HTML5 way
    (``%22``, ``%0A`` …); undo that, since the SDK puts the sandbox path there.
    """
    headers: dict = {}
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    for key, value in _PARAM.findall(headers.get("content-disposition", "")):
        value = _HTML5_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
        headers[key.lower()] = value.replace("\\\\", "\\")
    return headers
