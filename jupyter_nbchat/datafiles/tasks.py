"""Where the heavy parts of an extraction run: a small pool of worker processes.

`inspect_file` itself runs in a thread (the server's event loop never waits for it) and hands
the CPU-heavy, crash-prone parts to this pool: CSV range scans over memory maps, one task per
worksheet, JSON parsing, Parquet and .xls readers, pandas for dtypes. In worker processes the
GIL is not shared with the server (NumPy's many short calls do not scale on threads), the two
workers scan one big file in parallel, and a file truncated while mapped (SIGBUS) or a
pathological file kills a worker, never the server: the pool is rebuilt and the file refused.

Without a pool (the default outside the server, and for small inputs) tasks run inline, and
CSV scans read with pread instead of mapping (a SIGBUS there would take the caller down).

Workers die with the server however it ends, SIGKILL included (see `_die_with_server`).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_enabled = False

#: prctl(2): the signal the kernel sends this process when its parent dies (Linux).
PR_SET_PDEATHSIG = 1
#: How often a worker's watcher looks at its parent (and, without a pidfd, at the server).
WATCH_SECONDS = 1.0


class WorkerCrashed(Exception):
    """A worker process died while reading a file (rebuilt for the next one)."""


def _warm() -> int:
    """Each worker imports the parsers once, before the first file arrives."""
    from . import delimited, excel, jsonish  # noqa: F401

    return os.getpid()


def _start_worker(server_pid: int) -> int:
    """The pool's initializer: tie the worker's life to the server's, then import the parsers."""
    _die_with_server(server_pid)
    return _warm()


def _die_with_server(server_pid: int) -> None:
    """End this worker when the server ends, even by SIGKILL (no cleanup runs then).

    A forkserver worker is a child of the forkserver, not of the server, and it holds a copy of
    the pipe whose end tells the forkserver the server is gone: when the server is killed,
    nothing else ends either of them. So on Linux the kernel kills the worker when its parent
    (the forkserver) dies, and a thread in the worker watches the server itself."""
    if sys.platform.startswith("linux"):
        _kill_me_with_parent()
    try:
        pidfd = _open_pidfd(server_pid)
    except ProcessLookupError:
        os._exit(0)  # the server died before this worker started
    if not _pid_exists(server_pid):
        os._exit(0)
    watcher = threading.Thread(
        target=_watch_server,
        args=(server_pid, os.getppid(), pidfd),
        name="nbchat-server-watch",
        daemon=True,
    )
    watcher.start()


def _kill_me_with_parent() -> None:
    """prctl(PR_SET_PDEATHSIG, SIGKILL); exit at once if the parent died before it was set."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):  # no libc prctl: the watcher thread is enough
        return
    if os.getppid() != parent:  # it died in between: no signal will come
        os._exit(0)


def _open_pidfd(pid: int) -> int | None:
    """A pidfd that becomes readable when `pid` exits (Linux 5.3+), or None where pidfds are
    unavailable (the watcher then polls). ProcessLookupError: it has already exited."""
    if not hasattr(os, "pidfd_open"):
        return None
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        raise
    except OSError:
        return None


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_server(server_pid: int, parent: int, pidfd: int | None) -> None:
    """Exit the worker once the server has ended or the worker's parent has changed (it died).

    A pidfd wakes at once when the server exits (a zombie server counts as ended); without one,
    poll every WATCH_SECONDS."""
    while os.getppid() == parent:
        if pidfd is not None:
            if select.select([pidfd], [], [], WATCH_SECONDS)[0]:
                break
        elif _pid_exists(server_pid):
            time.sleep(WATCH_SECONDS)
        else:
            break
    os._exit(0)


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
                _pool = ProcessPoolExecutor(
                    count,
                    mp_context=multiprocessing.get_context(method),
                    initializer=_start_worker,
                    initargs=(os.getpid(),),
                )
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
