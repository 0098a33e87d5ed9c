"""Where a kernel really runs, and its files when that is not next to the notebook.

A kernel started through a gateway (`--gateway-url`, e.g. Jupyter Enterprise Gateway) or a
remote provisioner runs in a working directory of its own, often on another machine: the
server's disk is not its disk. So the executor asks the kernel itself (a hidden run of
`kernel_agent`) for its working directory and whether the attachments are there:

- the kernel's working directory *is* the notebook's folder on this machine (same boot id,
  device and inode): nothing is copied, written files are already in the workspace;
- otherwise every attachment is sent through the kernel, in base64 chunks (each a hidden
  request whose user expression calls the agent: IPython's cell transforms never see it),
  hash-checked, once per file and kernel (the E2B executor's upload-once rule), and the
  files a cell writes are listed there and brought back the same way.

Gateways offer no file API of their own (Enterprise Gateway serves kernels and kernel
specs only), so the kernel's own channel is the one path that reaches every kernel.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExecutorUnavailable, KernelDied
from . import copy_back, kernel_agent, workspace
from .base import ChangedFile, LocalFile, SyncReport

#: Raw bytes per hidden run: 1.4 MB of base64, well under the 10 MiB a WebSocket message
#: may carry through a gateway.
CHUNK = 1 << 20
#: Seconds one hidden file call may take.
CALL_TIMEOUT = 120.0
AGENT = "_nbchat_kernel_agent"
#: Installs `workspace` and the agent as modules in the kernel (gone with a restart).
_INSTALL = """
def _nbchat_install(sources):
    import sys, types
    for name, source in sources:
        module = types.ModuleType(name)
        sys.modules[name] = module
        exec(compile(source, name, "exec"), module.__dict__)
_nbchat_install(%r)
del _nbchat_install
"""
_SOURCES = (
    ("_nbchat_workspace", Path(workspace.__file__).read_text(encoding="utf-8")),
    (AGENT, Path(kernel_agent.__file__).read_text(encoding="utf-8")),
)
#: What a failed call raises: the kernel's error, a timeout, a dead kernel, a bad answer.
CALL_ERRORS = (RuntimeError, TimeoutError, KernelDied, ValueError, OSError)

#: The executor's hidden run: (code, timeout, expression) -> the expression's string value.
Hidden = Callable[[str, float, str], Awaitable[str]]


@dataclass(frozen=True)
class Location:
    cwd: str  # the kernel's working directory, on its own machine
    shared: bool  # it is the notebook's folder on this machine


def _identity(folder: Path | None) -> tuple[str, int, int] | None:
    """(boot id, device, inode) of a folder on this machine. Blocking."""
    if folder is None:
        return None
    try:
        st = os.stat(folder)
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip(), st.st_dev, st.st_ino
    except OSError:
        return None


class KernelFiles:
    """The files of one chat's kernel; `forget()` when the kernel is another one."""

    def __init__(
        self,
        hidden: Hidden,
        notebook_dir: Path | None,
        *,
        max_copy_back_bytes: int,
        log: logging.Logger,
    ) -> None:
        self._hidden = hidden  # the executor's hidden run, called under its lock
        self.notebook_dir = notebook_dir
        self.max_copy_back_bytes = max_copy_back_bytes
        self.log = log
        self.location: Location | None = None
        self._files: dict[str, LocalFile] = {}  # every attachment asked for, by relative path
        self._sent: dict[str, str] = {}  # relative path -> sha256 the kernel has
        self._notice: str | None = None
        self._sending: list[LocalFile] = []  # what the current sync sent
        self.bytes_sent = 0  # through the kernel, over this executor's life

    def forget(self) -> None:
        """A new kernel (or a restarted one, maybe elsewhere): find it again before use."""
        self.location = None
        self._sent.clear()

    def assume_shared(self, why: str) -> None:
        """The kernel could not say where it runs (a kernel that is not Python, or one that
        failed the question): files are expected next to the notebook, as before this was
        asked, and the person is told."""
        self.location = Location(cwd="", shared=True)
        self._notice = (
            f"Could not find out where the kernel runs ({why}): attached files are expected "
            "next to the notebook."
        )

    def take_notice(self) -> list[str]:
        notice, self._notice = self._notice, None
        return [notice] if notice else []

    async def locate(self) -> Location:
        """Ask the kernel where it runs and which known attachments it already has; send
        it the others."""
        if self.location is not None:
            return self.location
        known = {f.relative_path: [f.size, f.sha256] for f in self._files.values()}
        answer = await self._call("where", known)
        ours = await asyncio.to_thread(_identity, self.notebook_dir)
        shared = ours is not None and ours == (answer["boot_id"], answer["dev"], answer["ino"])
        self.location = Location(cwd=answer["cwd"], shared=shared)
        self._sent = {p: self._files[p].sha256 for p, there in answer["present"].items() if there}
        if not shared:
            self.log.info("nbchat: the kernel runs in %s, not next to the notebook", answer["cwd"])
            self._notice = (
                f"The kernel runs in its own folder ({answer['cwd']}), not next to the notebook: "
                "attached files are copied to it, and files the code writes are copied back."
            )
            for f in self._files.values():
                if f.relative_path not in self._sent:
                    await self._upload(f)
        return self.location

    async def sync(self, files: list[LocalFile]) -> SyncReport:
        """Make `files` readable by the kernel at their relative paths; unchanged ones cost
        nothing. Under the executor's lock."""
        for f in files:
            workspace.check_relative(f.relative_path)
            self._files[f.relative_path] = f
        self._sending = []
        location = await self.locate()  # a kernel found anew gets every known file here
        for f in files:
            if not location.shared and self._sent.get(f.relative_path) != f.sha256:
                await self._upload(f)
        sent = {f.relative_path: f.size for f in self._sending}
        return SyncReport(
            uploaded=list(sent),
            unchanged=[f.relative_path for f in files if f.relative_path not in sent],
            bytes_sent=sum(sent.values()),
        )

    async def _upload(self, f: LocalFile) -> None:
        """Send one file through the kernel, chunk by chunk; it lands whole or not at all."""
        digest = hashlib.sha256()
        offset = 0
        source = await asyncio.to_thread(open, f.absolute_path, "rb")
        try:
            while True:
                data = await asyncio.to_thread(source.read, CHUNK)
                if not data and offset:
                    break
                digest.update(data)
                chunk = base64.b64encode(data).decode("ascii")
                try:
                    await self._call("put", f.relative_path, offset, chunk)
                except CALL_ERRORS as err:
                    raise ExecutorUnavailable(
                        f"Sending {f.relative_path} to the kernel failed: {err}"
                    ) from err
                offset += len(data)
                if not data:
                    break
        finally:
            await asyncio.to_thread(source.close)
        answer = await self._call("commit", f.relative_path, offset, digest.hexdigest())
        if not answer["ok"]:
            raise ExecutorUnavailable(
                f"{f.relative_path} arrived damaged in the kernel's folder "
                f"({answer['size']} of {offset} bytes); it was not put in place."
            )
        self._sent[f.relative_path] = digest.hexdigest()
        self._sending.append(f)
        self.bytes_sent += offset
        self.log.info("nbchat: sent %s (%d bytes) to the kernel's folder", f.relative_path, offset)

    async def listing(self) -> workspace.Listing | None:
        """The files below the kernel's working directory (None when it cannot be read)."""
        try:
            answer = await self._call("listing", workspace.MAX_ENTRIES)
        except CALL_ERRORS:
            self.log.warning("nbchat: could not list the kernel's folder", exc_info=True)
            return None
        files = {p: workspace.FileStat(size, mtime) for p, (size, mtime) in answer["files"].items()}
        return workspace.Listing(files=files, truncated=answer["truncated"])

    async def copy_back(self, before: workspace.Listing, after: workspace.Listing) -> list[ChangedFile]:
        if self.notebook_dir is None:
            return []
        return await copy_back.copy_back(
            before,
            after,
            self._download,
            max_bytes=self.max_copy_back_bytes,
            errors=CALL_ERRORS,
            place="the kernel's folder",
            uploaded=self._sent,
        )

    async def _download(self, relative: str) -> str:
        """Bring one file of the kernel's folder to the same place next to the notebook;
        returns its sha256. Checked against the kernel's own hash of it."""
        assert self.notebook_dir is not None
        dest = await asyncio.to_thread(workspace.destination, self.notebook_dir, relative)
        partial = await asyncio.to_thread(workspace.PartialFile, dest)
        digest = hashlib.sha256()
        received = 0
        try:
            while True:
                data = base64.b64decode(await self._call("read", relative, received, CHUNK))
                if not data:
                    break
                received += len(data)
                if received > self.max_copy_back_bytes:
                    raise copy_back.FileTooLarge()
                digest.update(data)
                await asyncio.to_thread(partial.write, data)
            there = await self._call("digest", relative)
            if there != digest.hexdigest():
                raise ValueError("it changed while it was copied")
            await asyncio.to_thread(partial.commit)
        except BaseException:
            await asyncio.to_thread(partial.discard)
            raise
        return digest.hexdigest()

    async def _call(self, function: str, *args: Any) -> Any:
        """Call an agent function in the kernel; installs the agent when it is missing."""
        expression = f"__import__({AGENT!r}).{function}(*{args!r})"
        try:
            text = await self._hidden("", CALL_TIMEOUT, expression)
        except RuntimeError as err:
            if "ModuleNotFoundError" not in str(err):
                raise
            await self._hidden(_INSTALL % (_SOURCES,), CALL_TIMEOUT)
            text = await self._hidden("", CALL_TIMEOUT, expression)
        return json.loads(text)
