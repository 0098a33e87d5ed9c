"""Which files a cell created or changed, for every executor.

A listing maps a relative POSIX path to (size, modified time). It comes from a
bounded breadth-first walk that every executor drives with its own way of reading
a directory (``os.scandir`` next to the notebook, the sandbox's filesystem API in
E2B), so both skip the same things and stop at the same bounds. Comparing the
listing before a cell with the one after gives the changed files.

Writing a file that came from elsewhere (the sandbox) into the workspace goes
through ``destination`` and ``PartialFile``: never outside the notebook's folder,
never through a symlink, and never a half-written file under the real name.
"""

from __future__ import annotations

import os
import secrets
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

#: Most directory entries one listing looks at; beyond it the listing is `truncated`.
MAX_ENTRIES = 2000
#: Deepest folder level below the root that is listed.
MAX_DEPTH = 12
#: Folders never worth walking into (besides hidden ones).
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})

Kind = Literal["file", "dir", "symlink", "other"]


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime: float  # seconds since the epoch


@dataclass
class Listing:
    """Files below a root by relative POSIX path, from a bounded walk."""

    files: dict[str, FileStat] = field(default_factory=dict)
    truncated: bool = False  # the walk hit MAX_ENTRIES or MAX_DEPTH


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def wanted_file(name: str) -> bool:
    """Hidden files and notebooks (autosaved while a cell runs) are not a cell's output."""
    return not is_hidden(name) and not name.endswith(".ipynb")


def wanted_dir(name: str) -> bool:
    return not is_hidden(name) and name not in SKIPPED_DIRS


class Walk:
    """A bounded breadth-first walk; the caller reads each folder it hands out.

    ``for folder in walk.folders(): walk.add(folder, entries)`` where entries are
    ``(name, kind, size, mtime)`` of that folder. Symlinks are never followed nor
    listed: a link in the tree could point anywhere.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES, max_depth: int = MAX_DEPTH) -> None:
        self.listing = Listing()
        self._max_entries = max_entries
        self._max_depth = max_depth
        self._seen = 0
        self._pending: deque[tuple[str, int]] = deque([("", 0)])
        self._depth: dict[str, int] = {}

    def folders(self) -> Iterator[str]:
        """Relative folders to read ("" is the root), until the bounds are reached."""
        while self._pending and not self.listing.truncated:
            folder, depth = self._pending.popleft()
            self._depth[folder] = depth
            yield folder

    def add(self, folder: str, entries: Iterable[tuple[str, Kind, int, float]]) -> None:
        depth = self._depth.get(folder, 0)
        for name, kind, size, mtime in sorted(entries, key=lambda e: e[0]):
            if self._seen >= self._max_entries:
                self.listing.truncated = True
                return
            self._seen += 1
            path = f"{folder}/{name}" if folder else name
            if kind == "dir" and wanted_dir(name):
                if depth + 1 <= self._max_depth:
                    self._pending.append((path, depth + 1))
                else:
                    self.listing.truncated = True
            elif kind == "file" and wanted_file(name):
                self.listing.files[path] = FileStat(size, mtime)


def list_local(root: Path, max_entries: int = MAX_ENTRIES) -> Listing:
    """The files below `root` on this machine. Blocking: run it in a worker thread."""
    walk = Walk(max_entries)
    for folder in walk.folders():
        entries: list[tuple[str, Kind, int, float]] = []
        try:
            with os.scandir(root / folder if folder else root) as found:
                for entry in found:
                    try:
                        kind = _local_kind(entry)
                        st = entry.stat(follow_symlinks=False) if kind == "file" else None
                    except OSError:  # removed while we looked
                        continue
                    entries.append(
                        (
                            entry.name,
                            kind,
                            st.st_size if st else 0,
                            st.st_mtime_ns / 1e9 if st else 0.0,
                        )
                    )
        except OSError:
            continue
        walk.add(folder, entries)
    return walk.listing


def _local_kind(entry: os.DirEntry) -> Kind:
    if entry.is_symlink():
        return "symlink"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    if entry.is_file(follow_symlinks=False):
        return "file"
    return "other"


def changed_paths(before: Listing, after: Listing) -> list[str]:
    """Files that are new in `after`, or whose size or modified time differ."""
    return sorted(path for path, stat in after.files.items() if before.files.get(path) != stat)


# --- writing into the workspace ------------------------------------------------


class UnsafePath(Exception):
    """A file that must not be written where it asks to be; the message says why."""


def check_relative(relative: str) -> list[str]:
    """The parts of a relative POSIX path; raises UnsafePath for absolute, empty or `..` paths."""
    parts = relative.split("/")
    if relative.startswith("/") or any(p in ("", ".", "..") or "\x00" in p for p in parts):
        raise UnsafePath(f"{relative!r} is not a plain relative path")
    return parts


def destination(root: Path, relative: str) -> Path:
    """Where `relative` goes below `root`, creating its folders. Blocking.

    Raises UnsafePath when the path would leave `root`, when any folder on the way
    or the file itself is a symlink, or when a file or folder is in the way.
    """
    parts = check_relative(relative)
    path = Path(os.path.realpath(root))
    for part in parts[:-1]:
        path = path / part
        if path.is_symlink():
            raise UnsafePath(f"the folder {part!r} in the workspace is a symlink")
        if path.exists() and not path.is_dir():
            raise UnsafePath(f"{part!r} in the workspace is a file, not a folder")
        try:
            path.mkdir(exist_ok=True)
        except OSError as err:
            raise UnsafePath(f"could not create the folder {part!r}: {err.strerror}") from None
    path = path / parts[-1]
    if path.is_symlink():
        raise UnsafePath("a symlink with that name is in the workspace; it was left alone")
    if path.is_dir():
        raise UnsafePath("a folder with that name is in the workspace")
    return path


class PartialFile:
    """A hidden temporary file next to `dest`, moved over it only when complete. Blocking."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.path = dest.with_name(f".{dest.name}.nbchat-{secrets.token_hex(4)}.part")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        self._file = os.fdopen(os.open(self.path, flags, 0o666), "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> None:
        """Replace `dest` (a regular file or nothing; re-checked) with what was written."""
        self._file.close()
        if self.dest.is_symlink() or self.dest.is_dir():
            self.discard()
            raise UnsafePath("a symlink or folder with that name appeared in the workspace")
        os.replace(self.path, self.dest)

    def discard(self) -> None:
        try:
            self._file.close()
        finally:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
