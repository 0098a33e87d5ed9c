"""Bringing the files a cell wrote elsewhere (a sandbox, a remote kernel) next to the notebook.

One rule for every executor whose runtime does not share the server's disk: at most
MAX_COPY_FILES per cell, none over the size limit, each arriving whole (see
`workspace.PartialFile`) or not at all, and a reason for every file left behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from . import workspace
from .base import ChangedFile

#: Most changed files copied back after one cell.
MAX_COPY_FILES = 200


class FileTooLarge(Exception):
    """The file grew past the copy-back limit while it was read."""


async def copy_back(
    before: workspace.Listing,
    after: workspace.Listing,
    download: Callable[[str], Awaitable[str]],
    *,
    max_bytes: int,
    errors: tuple[type[BaseException], ...],
    place: str,
    uploaded: dict[str, str],
) -> list[ChangedFile]:
    """Download what changed between the listings; `download(path)` returns the sha256.

    `place` names where a file left behind stays ("the sandbox"). `uploaded` maps the
    attached files sent there to their sha256: a rewritten one is updated, and one not
    copied is forgotten, so the next sync puts the workspace's version back."""
    changed: list[ChangedFile] = []
    limit_mb = f"{max_bytes / 2**20:g} MB"
    for index, path in enumerate(workspace.changed_paths(before, after)):
        size = after.files[path].size
        reason = ""
        if index >= MAX_COPY_FILES:
            reason = f"more than {MAX_COPY_FILES} files changed in one cell; this one stays in {place}"
        elif size > max_bytes:
            reason = f"larger than the {limit_mb} copy-back limit; it stays in {place}"
        else:
            try:
                digest = await download(path)
            except workspace.UnsafePath as err:
                reason = f"not copied: {err}"
            except FileTooLarge:
                reason = f"grew past the {limit_mb} copy-back limit; it stays in {place}"
            except errors as err:
                reason = f"could not be copied from {place}: {err}"
            else:
                if path in uploaded:  # an attached file the code rewrote
                    uploaded[path] = digest
        if reason and path in uploaded:
            del uploaded[path]
        changed.append(ChangedFile(relative_path=path, size=size, copied=not reason, reason=reason))
    return changed
