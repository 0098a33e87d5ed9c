"""Every exception the stand-in raises internally, in one place."""

from __future__ import annotations


class PathError(ValueError):
    """A sandbox path that cannot be mapped (NUL byte, or leaves the sandbox root)."""


class RpcError(Exception):
    """A Connect error: ``code`` is the Connect code name, e.g. ``not_found``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ContextNotFound(LookupError):
    """No code context with that id in the sandbox (``/execute`` answers 404)."""


class UnsupportedLanguage(ValueError):
    """Only Python contexts exist here; the real template also has JS, R, Java, bash."""


class SandboxGone(LookupError):
    """The sandbox was killed or expired while a request was waiting on it."""
