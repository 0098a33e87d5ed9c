"""The data-file service: checks paths, runs extraction off the event loop, caches summaries.

`inspect_file` runs in a thread, never on the event loop JupyterLab shares; its heavy parts
run in tasks.py's worker processes (which the service turns on), so parsing neither holds
the server's GIL nor can crash the server.

Summaries are cached by (real path, size, mtime_ns, level, sample rows): re-inspecting an
unchanged file costs a stat. `extractions` counts the files actually read.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from . import tasks
from .errors import DataFileError, FileMissing, FileTooLarge, TooManyFiles
from .models import ContextLevel, FileSummary, InspectResult
from .paths import Resolved, RootPolicy, check_name, link_without_overwriting, resolve
from .prompt import prompt_text
from .summary import DEFAULT_SCHEMA_ROWS, inspect_file

CACHE_ENTRIES = 1024
UPLOAD_PREFIX = ".nbchat-upload-"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_upload_mb: float = 50.0
    max_files: int = 5
    default_level: ContextLevel = "headers"
    sample_rows: int = 5
    schema_rows: int = DEFAULT_SCHEMA_ROWS

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @classmethod
    def from_app(cls, app: Any) -> Limits:
        return cls(
            max_upload_mb=float(getattr(app, "max_upload_mb", 50.0)),
            max_files=int(getattr(app, "max_files_per_chat", 5)),
            default_level=getattr(app, "context_level", "headers"),
            sample_rows=int(getattr(app, "sample_rows", 5)),
        )


# --- threads that run inspect_file (its heavy parts go to tasks.py's worker processes) ------

_threads_lock = threading.Lock()
_threads: ThreadPoolExecutor | None = None


def _inspect_threads() -> ThreadPoolExecutor:
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(4, thread_name_prefix="nbchat-inspect")
        return _threads


# --- the service ---------------------------------------------------------------------------


class DataFiles:
    """Attachable data files under one root: inspect, upload, cache."""

    def __init__(self, policy: RootPolicy, limits: Limits | None = None, processes: bool = True) -> None:
        self.policy = policy
        self.limits = limits or Limits()
        if processes:
            tasks.enable()
        self.extractions = 0  # files actually read (cache misses)
        self._cache: OrderedDict[tuple, FileSummary] = OrderedDict()
        self._inflight: dict[tuple, asyncio.Future] = {}

    @classmethod
    def for_app(cls, app: Any) -> DataFiles:
        """The service of an NbChat app (made on first use if the app did not make one)."""
        service = getattr(app, "datafiles", None)
        if service is None:
            serverapp = app.serverapp
            policy = RootPolicy.from_contents_manager(serverapp.contents_manager, serverapp.root_dir)
            service = cls(policy, Limits.from_app(app))
            app.datafiles = service
        return service

    # -- inspect --------------------------------------------------------------------------

    async def inspect(self, paths: Sequence[str], level: ContextLevel | None = None,
                      notebook_path: str | None = None) -> InspectResult:
        level = level or self.limits.default_level
        unique = list(dict.fromkeys(paths))
        if len(unique) > self.limits.max_files:
            raise TooManyFiles(len(unique), self.limits.max_files)
        # Every path is checked before any file is read (in a thread: stat calls may be slow).
        resolved = await asyncio.to_thread(lambda: [resolve(p, self.policy) for p in unique])
        resolved = list({r.rel: r for r in resolved}.values())  # "a.csv" and "./a.csv" are one file
        files = list(await asyncio.gather(*(self.summary(r, level) for r in resolved)))
        notebook_dir = ""
        if notebook_path:
            notebook_dir = "/".join(p for p in notebook_path.replace("\\", "/").split("/")[:-1] if p)
        return InspectResult(files=files, prompt=prompt_text(files, level, notebook_dir))

    async def summary(self, file: Resolved, level: ContextLevel | None = None) -> FileSummary:
        level = level or self.limits.default_level
        try:
            st = await asyncio.to_thread(os.stat, file.abs)
        except FileNotFoundError:
            raise FileMissing(file.rel) from None
        key = self._key(file.abs, st.st_size, st.st_mtime_ns, level)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached.model_copy(update={"path": file.rel, "name": file.rel.rsplit("/", 1)[-1]})
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._extract(file.abs, file.rel, level))
            self._inflight[key] = pending
            pending.add_done_callback(lambda _f, k=key: self._inflight.pop(k, None))
        result = await asyncio.shield(pending)
        return result.model_copy(update={"path": file.rel, "name": file.rel.rsplit("/", 1)[-1]})

    def _key(self, abs_path: str, size: int, mtime_ns: int, level: ContextLevel) -> tuple:
        return (abs_path, size, mtime_ns, level, self.limits.sample_rows, self.limits.schema_rows)

    async def _extract(self, abs_path: str, rel: str, level: ContextLevel) -> FileSummary:
        self.extractions += 1
        summary = await self._run(abs_path, rel, level)
        self._remember(abs_path, summary)
        return summary

    async def _run(self, abs_path: str, rel: str, level: ContextLevel) -> FileSummary:
        loop = asyncio.get_running_loop()
        args = (abs_path, rel, level, self.limits.sample_rows, self.limits.schema_rows)
        return await loop.run_in_executor(_inspect_threads(), inspect_file, *args)

    def _remember(self, abs_path: str, summary: FileSummary) -> None:
        key = self._key(abs_path, summary.size, summary.mtime_ns, summary.level)
        self._cache[key] = summary
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)

    # -- upload ---------------------------------------------------------------------------

    def start_upload(self, folder: str, name: str) -> Upload:
        """Check the target and open a temporary file beside it (raises before any byte is read)."""
        name = check_name(name, self.policy)
        target = resolve(folder or "", self.policy, expect="folder")
        for _ in range(100):
            tmp = os.path.join(target.abs, f"{UPLOAD_PREFIX}{secrets.token_hex(8)}.part")
            try:  # created with the umask's permissions, like any file the server writes
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            except FileExistsError:
                continue
            return Upload(self, target, name, tmp, os.fdopen(fd, "wb"))
        raise OSError("no free temporary name")


class Upload:
    """One upload being streamed to a temporary file in its target folder."""

    FLUSH = 1 << 20

    def __init__(self, service: DataFiles, folder: Resolved, name: str, tmp: str, file: Any) -> None:
        self.service = service
        self.folder = folder
        self.name = name
        self.tmp = tmp
        self.file = file
        self.size = 0
        self._buffer = bytearray()
        self.done = False

    @property
    def limit(self) -> int:
        return self.service.limits.max_upload_bytes

    def too_large(self) -> FileTooLarge:
        return FileTooLarge(self.name, self.service.limits.max_upload_mb)

    async def write(self, data: bytes) -> None:
        """Buffer `data`; write to disk off the loop a megabyte at a time. Raises past the limit."""
        self.size += len(data)
        if self.size > self.limit:
            raise self.too_large()
        self._buffer += data
        if len(self._buffer) >= self.FLUSH:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            await asyncio.to_thread(self.file.write, chunk)

    async def finish(self, level: ContextLevel | None = None) -> FileSummary:
        """Inspect the finished file, give it a free name (never overwriting), return its summary."""
        level = level or self.service.limits.default_level
        chunk, self._buffer = bytes(self._buffer), bytearray()
        await asyncio.to_thread(self._close, chunk)
        rel_name = "/".join(p for p in (self.folder.rel, self.name) if p)
        service = self.service
        service.extractions += 1
        summary = await service._run(self.tmp, rel_name, level)  # raises for unreadable files
        final = await asyncio.to_thread(link_without_overwriting, self.tmp, self.folder.abs, self.name)
        self.done = True
        rel = "/".join(p for p in (self.folder.rel, final) if p)
        summary = summary.model_copy(update={"path": rel, "name": final})
        service._remember(os.path.join(self.folder.abs, final), summary)
        return summary

    def _close(self, chunk: bytes) -> None:
        if chunk:
            self.file.write(chunk)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def abort(self) -> None:
        """Remove the temporary file (the upload failed or was cut off)."""
        if self.done:
            return
        self.done = True
        try:
            self.file.close()
        except OSError:
            pass
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


__all__ = ["DataFiles", "DataFileError", "Limits", "Upload"]
