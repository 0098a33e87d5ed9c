"""Which Claude model to use when nobody chose one, and what a model supports."""

from __future__ import annotations

import logging
import re
import typing
from typing import Any

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


#: How the current models are asked to think: adaptively, with the text they write between
#: tool calls returned (it comes back as thinking blocks, empty unless `display` asks for it).
ADAPTIVE_THINKING = {"type": "adaptive", "display": "summarized"}


async def thinking_config(claude: Any, model: str, log: logging.Logger | None = None) -> dict[str, Any] | None:
    """The `thinking` parameter for `model`, from what the Models API says it supports:
    adaptive thinking with its text shown where the model takes it, else none (older
    models answer as before; a gateway without the Models API too)."""
    try:
        info = await claude.models.retrieve(model)
        types = info.capabilities.thinking.types if info.capabilities else None
    except Exception as err:  # noqa: BLE001 - unknown: ask as for an older model
        if log is not None:
            log.info("nbchat: could not read %s's capabilities (%s); not asking it to think", model, type(err).__name__)
        return None
    if types is not None and types.adaptive.supported:
        return dict(ADAPTIVE_THINKING)
    return None
