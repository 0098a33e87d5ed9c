"""File work done inside a kernel that does not share the server's disk.

This module's source is sent to the kernel (with `workspace`'s, see `kernel_files`) and
run there as the module `_nbchat_kernel_agent`: only the standard library, any Python
3.8+. Every function works below the kernel's current working directory, where the
generated code reads and writes its relative paths, and answers with a JSON string (the value of the user expression that called it).
Uploads and downloads go in base64 chunks through hidden executions; an upload lands
under its real name only once complete and hash-checked (`workspace.PartialFile`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

try:  # inside the kernel, installed beside us by `kernel_files`
    import _nbchat_workspace as workspace  # type: ignore[import-not-found]
except ImportError:  # imported on the server (tests, and the source sent from here)
    from . import workspace

_CHUNK = 1 << 20
#: Uploads under way, by relative path: (the partial file, the running sha256, bytes so far).
_uploads: dict = {}


def _answer(value) -> str:
    return json.dumps(value)


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def _digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def where(files: dict) -> str:
    """The working directory's identity, and which of `files` ({path: [size, sha256]}) are
    there with that size and hash (hashed only when the size matches)."""
    cwd = os.getcwd()
    st = os.stat(cwd)
    present = {}
    for relative, (size, sha256) in files.items():
        try:
            workspace.check_relative(relative)
            path = os.path.join(cwd, relative)
            present[relative] = (
                os.path.isfile(path) and not os.path.islink(path)
                and os.path.getsize(path) == size and _digest(path) == sha256
            )
        except (OSError, workspace.UnsafePath):
            present[relative] = False
    return _answer({"cwd": cwd, "boot_id": _boot_id(), "dev": st.st_dev, "ino": st.st_ino, "present": present})


def put(relative: str, offset: int, chunk: str) -> str:
    """Append one base64 chunk to the upload of `relative` (offset 0 starts it afresh)."""
    if offset == 0:
        _drop(relative)
        dest = workspace.destination(workspace.Path(os.getcwd()), relative)
        _uploads[relative] = (workspace.PartialFile(dest), hashlib.sha256(), 0)
    partial, digest, received = _uploads[relative]
    if received != offset:
        _drop(relative)
        raise ValueError(f"upload of {relative} out of order: at {received}, sent {offset}")
    data = base64.b64decode(chunk)
    partial.write(data)
    digest.update(data)
    _uploads[relative] = (partial, digest, received + len(data))
    return _answer(received + len(data))


def commit(relative: str, size: int, sha256: str) -> str:
    """Put the finished upload under its real name if size and hash are right."""
    partial, digest, received = _uploads.pop(relative)
    if received != size or digest.hexdigest() != sha256:
        partial.discard()
        return _answer({"ok": False, "size": received, "sha256": digest.hexdigest()})
    partial.commit()
    return _answer({"ok": True})


def _drop(relative: str) -> None:
    upload = _uploads.pop(relative, None)
    if upload is not None:
        upload[0].discard()


def listing(max_entries: int) -> str:
    """The files below the working directory: {"files": {path: [size, mtime]}, "truncated"}."""
    found = workspace.list_local(workspace.Path(os.getcwd()), max_entries)
    files = {path: [stat.size, stat.mtime] for path, stat in found.files.items()}
    return _answer({"files": files, "truncated": found.truncated})


def digest(relative: str) -> str:
    """The sha256 of a file below the working directory."""
    workspace.check_relative(relative)
    return _answer(_digest(os.path.join(os.getcwd(), relative)))


def read(relative: str, offset: int, size: int) -> str:
    """Up to `size` bytes of a file from `offset`, in base64 ("" at its end)."""
    workspace.check_relative(relative)
    path = os.path.join(os.getcwd(), relative)
    if os.path.islink(path):
        raise ValueError(f"{relative} is a symlink")
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(size)
    return _answer(base64.b64encode(data).decode("ascii"))
