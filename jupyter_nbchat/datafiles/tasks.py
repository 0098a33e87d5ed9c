"""Where the heavy parts of an extraction run: a small pool of worker processes.

`inspect_file` itself runs in a thread (the server's event loop never waits for it) and hands
the CPU-heavy, crash-prone parts to this pool: CSV range scans over memory maps, one task per
worksheet, JSON parsing, Parquet and .xls readers, pandas for dtypes. In worker processes the
GIL is not shared with the server (NumPy's many short calls do not scale on threads), the two
workers scan one big file in parallel, and a file truncated while mapped (SIGBUS) or a
pathological file kills a worker, never the server: the pool is rebuilt and the file refused.

Without a pool (the default outside the server, and for small inputs) tasks run inline, and
CSV scans read with pread instead of mapping (a SIGBUS there would take the caller down).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_enabled = False


class WorkerCrashed(Exception):
    """A worker process died while reading a file (rebuilt for the next one)."""


def _warm() -> int:
    """Each worker imports the parsers once, before the first file arrives."""
    from . import delimited, excel, jsonish  # noqa: F401

    return os.getpid()


def peak_rss() -> tuple[int, int]:
    """(pid, peak resident memory in bytes) of the calling process (Linux, macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return os.getpid(), peak if sys.platform == "darwin" else peak * 1024


def worker_peaks() -> dict[int, int]:
    """Peak resident memory of each worker process (diagnostics, for the benchmark)."""
    pool = _get_pool()
    if pool is None:
        return {}
    return dict(f.result() for f in [pool.submit(peak_rss) for _ in range(8)])


def enable(workers: int | None = None) -> None:
    """Run tasks in worker processes from now on (started at once, in the background)."""
    global _enabled
    _enabled = True
    _get_pool(workers)


def disable() -> None:
    global _enabled, _pool
    with _lock:
        _enabled = False
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def in_processes() -> bool:
    return _enabled


def _get_pool(workers: int | None = None) -> ProcessPoolExecutor | None:
    global _pool, _enabled
    with _lock:
        if not _enabled:
            return None
        if _pool is None:
            count = workers or max(1, min(2, os.cpu_count() or 1))
            try:
                method = "forkserver" if sys.platform.startswith("linux") else "spawn"
                _pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context(method), initializer=_warm)
                for _ in range(count):
                    _pool.submit(_warm)
            except (OSError, ValueError, NotImplementedError) as err:  # pragma: no cover
                log.warning("nbchat: worker processes unavailable (%s); extracting inline", err)
                _enabled = False
                return None
        return _pool


def _broken(pool: Executor) -> WorkerCrashed:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)
    return WorkerCrashed("the reader stopped unexpectedly (was the file changed or truncated while it was read?)")


def call(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in a worker process when enabled, else here."""
    pool = _get_pool()
    if pool is None:
        return fn(*args)
    try:
        return pool.submit(fn, *args).result()
    except BrokenProcessPool:
        raise _broken(pool) from None


def pmap(fn: Callable[..., T], arguments: Iterable[Sequence[Any]], inline_threads: bool = False) -> list[T]:
    """[fn(*a) for a in arguments], spread over the workers when enabled; inline, in threads
    if `inline_threads` (for work that releases the GIL, like inflating) or one by one."""
    arguments = list(arguments)
    pool = _get_pool()
    if pool is None or len(arguments) < 2:
        if pool is not None:
            return [call(fn, *a) for a in arguments]
        if inline_threads and len(arguments) > 1:
            with ThreadPoolExecutor(min(4, len(arguments)), thread_name_prefix="nbchat-inline") as threads:
                return list(threads.map(lambda a: fn(*a), arguments))
        return [fn(*a) for a in arguments]
    try:
        futures = [pool.submit(fn, *a) for a in arguments]
        return [f.result() for f in futures]
    except BrokenProcessPool:
        raise _broken(pool) from None
