"""Where generated cells run: one interface (base.Executor), several executors."""

from .base import ChangedFile, ExecutionResult, Executor, LocalFile, SyncReport
from .e2b import E2BExecutor
from .kernel import KernelExecutor

__all__ = [
    "ChangedFile",
    "E2BExecutor",
    "ExecutionResult",
    "Executor",
    "KernelExecutor",
    "LocalFile",
    "SyncReport",
]
