"""Paths from the browser, checked before any file is opened or written.

A path is relative to the contents manager's root, '/'-separated, without '..', and never
leads outside the root, also not through a symbolic link. Hidden files and folders are
refused unless the contents manager allows them (`ContentsManager.allow_hidden`), and so are
names matching its `hide_globs`, so nbchat shows no more than Jupyter's file browser does.
"""

from __future__ import annotations

import errno
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from jupyter_core.paths import is_hidden

from .errors import BadPath, FileMissing

#: Longest file name accepted, in UTF-8 bytes (ext4 allows 255; leave room for " (99)").
MAX_NAME_BYTES = 200
MAX_PATH_CHARS = 4096
_DRIVE = re.compile(r"^[A-Za-z]:")
_COPY_SUFFIX = re.compile(r"^(?P<stem>.*?)(?: \((?P<n>\d+)\))?$")


@dataclass(frozen=True)
class RootPolicy:
    """Where files live and which ones Jupyter shows (from the contents manager)."""

    root: str
    allow_hidden: bool = False
    hide_globs: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_contents_manager(cls, contents_manager: Any, fallback_root: str = "") -> RootPolicy:
        root = getattr(contents_manager, "root_dir", "") or fallback_root or os.getcwd()
        return cls(
            root=os.path.realpath(os.path.expanduser(root)),
            allow_hidden=bool(getattr(contents_manager, "allow_hidden", False)),
            hide_globs=tuple(getattr(contents_manager, "hide_globs", ()) or ()),
        )


@dataclass(frozen=True)
class Resolved:
    """A checked path: `rel` as shown to people and Claude, `abs` for opening it."""

    rel: str
    abs: str


def check_name(name: str, policy: RootPolicy) -> str:
    """A single file name for an upload; returns it NFC-normalised, or raises BadPath."""
    if not name or not name.strip():
        raise BadPath(name, "the file name is empty")
    if "/" in name or "\\" in name:
        raise BadPath(name, "a file name cannot contain '/' or '\\' (choose the folder with `dir`)")
    _check_characters(name, name)
    if name in (".", ".."):
        raise BadPath(name, "is not a file name")
    name = unicodedata.normalize("NFC", name)
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise BadPath(name, f"the name is too long ({size} bytes in UTF-8; at most {MAX_NAME_BYTES})")
    _check_visible(name, name, policy)
    return name


def split_relative(path: str) -> list[str]:
    """The parts of a relative path, or BadPath for anything that could leave the root."""
    if len(path) > MAX_PATH_CHARS:
        raise BadPath(path, f"the path is too long (at most {MAX_PATH_CHARS} characters)")
    _check_characters(path, path)
    if path.startswith(("/", "\\", "~")) or _DRIVE.match(path):
        raise BadPath(path, "the path must be relative to the server root (absolute paths are refused)")
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BadPath(path, "the path must stay inside the server root ('..' is refused)")
    for part in parts:
        if len(part.encode("utf-8")) > 255:
            raise BadPath(path, "a name in the path is too long (more than 255 bytes)")
    return parts


def resolve(path: str, policy: RootPolicy, *, expect: str = "file") -> Resolved:
    """Check `path` (relative to the root) and find it: a file, or a folder with expect="folder"."""
    parts = split_relative(path)
    if expect == "file" and not parts:
        raise BadPath(path, "the path names no file")
    rel = "/".join(parts)
    for part in parts:
        _check_visible(part, path, policy)
    candidate = os.path.join(policy.root, *parts)
    real = os.path.realpath(candidate)
    if not _inside(real, policy.root):
        raise BadPath(path, "the path leads outside the server root (through a symbolic link)")
    if not os.path.exists(real):
        raise FileMissing(rel or path, expect)
    if not policy.allow_hidden and is_hidden(candidate, policy.root):
        raise BadPath(path, "hidden files and folders cannot be attached (ContentsManager.allow_hidden)")
    if expect == "file" and not os.path.isfile(real):
        raise BadPath(path, "is a folder, not a file" if os.path.isdir(real) else "is not a regular file")
    if expect == "folder" and not os.path.isdir(real):
        raise BadPath(path, "is a file, not a folder")
    return Resolved(rel=rel, abs=real)


def free_names(name: str) -> Iterator[str]:
    """`name`, then "stem (1).ext", "stem (2).ext" … the way JupyterLab names copies."""
    yield name
    stem, dot, ext = name.rpartition(".")
    if not stem:  # no extension ("README") or only one (".csv" is refused earlier)
        stem, dot, ext = name, "", ""
    base = _COPY_SUFFIX.match(stem)
    stem = base.group("stem") if base and base.group("n") else stem
    start = int(base.group("n")) + 1 if base and base.group("n") else 1
    for n in range(start, start + 10_000):
        yield f"{stem} ({n}){dot}{ext}"


def link_without_overwriting(tmp: str, folder: str, name: str, exists: Callable[[str], bool] = os.path.lexists) -> str:
    """Give the finished temp file a free name in `folder` atomically; returns the name used.

    A hard link fails if the target exists, so two uploads of the same name never overwrite
    each other, even at the same instant. Filesystems without hard links fall back to a
    rename after a check.
    """
    for candidate in free_names(name):
        target = os.path.join(folder, candidate)
        try:
            os.link(tmp, target)
        except FileExistsError:
            continue
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.EOPNOTSUPP):
                raise
            if exists(target):
                continue
            os.replace(tmp, target)
            return candidate
        os.unlink(tmp)
        return candidate
    raise BadPath(name, "too many files with this name already exist in the folder")


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _check_characters(text: str, shown: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise BadPath(shown, "the name contains control characters")


def _check_visible(part: str, shown: str, policy: RootPolicy) -> None:
    if policy.allow_hidden:
        return
    if part.startswith("."):
        raise BadPath(shown, "hidden files and folders (names starting with '.') are refused")
    if any(fnmatch(part, glob) for glob in policy.hide_globs):
        raise BadPath(shown, "Jupyter hides files with this name (ContentsManager.hide_globs)")


def relative_to_root(abs_path: str, policy: RootPolicy) -> str:
    return Path(os.path.relpath(abs_path, policy.root)).as_posix()
