"""Where generated cells run: one interface (base.Executor), several executors."""

from .base import ExecutionResult, Executor
from .kernel import KernelExecutor

__all__ = ["ExecutionResult", "Executor", "KernelExecutor"]
