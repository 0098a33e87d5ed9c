"""Which Claude model to use when nobody chose one."""

from __future__ import annotations

import re
import typing

FALLBACK_MODEL = "claude-sonnet-4-5"


def newest_sonnet() -> str:
    """The newest Sonnet alias the installed anthropic SDK lists (no dated snapshots)."""
    try:
        from anthropic.types import Model

        names = [a for arg in typing.get_args(Model) for a in typing.get_args(arg)]
    except Exception:  # an SDK without the literal: fall back to a known alias
        return FALLBACK_MODEL
    versions: list[tuple[tuple[int, ...], str]] = []
    for name in names:
        match = re.fullmatch(r"claude-sonnet-(\d+)(?:-(\d))?", str(name))
        if match:
            versions.append((tuple(int(g or 0) for g in match.groups()), name))
    return max(versions)[1] if versions else FALLBACK_MODEL
