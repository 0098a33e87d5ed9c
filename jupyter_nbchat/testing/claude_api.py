"""What today's Messages API does besides text and tools, for the Claude stand-in.

The current models (Claude Sonnet 5.5 and its generation) think by default (adaptive
thinking), return the text they write between tool calls as `thinking` blocks, whose text
is left out unless the request asks for it (`thinking.display`, default "omitted"), sign
each thinking block for the model and conversation that produced it, and refuse what they
no longer support: `thinking: {"type": "disabled"}` (use "between_tools"), forced tool use
(`tool_choice` "any" or "tool"), non-default sampling parameters. Older models think only
when asked and keep text as text. The stand-in does the same, and serves the Models API
(`GET /v1/models/{id}`) with the capabilities the SDK reads, so the product can ask.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Any

#: Models that think by default, with text between tool calls as thinking.
_ADAPTIVE = re.compile(r"claude-(sonnet|opus)-5-5")
#: Every model id the stand-in's Models API knows; others are 404, as on the real API.
_KNOWN = re.compile(r"claude-(sonnet|opus|haiku)-\d+(-\d+)?(-\d{8})?")
_SECRET = os.urandom(16)


@dataclass(frozen=True)
class Behaviour:
    """How one model answers."""

    adaptive: bool  # thinks by default; text between tools comes back as thinking

    def refusal(self, body: dict[str, Any]) -> str | None:
        """Why this model answers 400 to the request, or None."""
        if not self.adaptive:
            return None
        model = body.get("model")
        thinking = body.get("thinking") or {}
        if thinking.get("type") == "disabled":
            return f"thinking.type 'disabled' is not supported on {model}; use 'between_tools' to turn off up-front thinking"
        if thinking.get("type") == "enabled":
            return f"thinking.type 'enabled' (a thinking budget) is not supported on {model}; use 'adaptive'"
        if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
            return f"forced tool use is not supported on {model}; use tool_choice 'auto' or 'none'"
        for name in ("temperature", "top_p", "top_k"):
            if name in body:
                return f"{name}: sampling parameters cannot be changed on {model}"
        return None

    def thinks(self, body: dict[str, Any]) -> bool:
        """Whether the model writes thinking blocks for this request."""
        kind = (body.get("thinking") or {}).get("type")
        return self.adaptive or kind in ("enabled", "adaptive")

    def shows_thinking(self, body: dict[str, Any]) -> bool:
        """Whether thinking blocks carry their text (`display`; the default differs by model)."""
        display = (body.get("thinking") or {}).get("display")
        return display == "summarized" if self.adaptive else display != "omitted"


def behaviour(model: str) -> Behaviour:
    return Behaviour(adaptive=bool(_ADAPTIVE.match(model or "")))


def model_info(model: str) -> dict[str, Any] | None:
    """`GET /v1/models/{id}` as the API answers it; None: not a known model (404)."""
    if not _KNOWN.fullmatch(model):
        return None
    adaptive = behaviour(model).adaptive
    yes, no = {"supported": True}, {"supported": False}
    return {
        "type": "model",
        "id": model,
        "display_name": model.replace("-", " ").title(),
        "created_at": "2026-01-01T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": 1_000_000 if adaptive else 200_000,
        "max_tokens": 128_000 if adaptive else 64_000,
        "capabilities": {
            "batch": yes,
            "citations": yes,
            "code_execution": yes,
            "context_management": {"supported": False},
            "effort": {"supported": adaptive},
            "image_input": yes,
            "pdf_input": yes,
            "server_tools": {"supported": False},
            "structured_outputs": yes,
            "thinking": {
                "supported": True,
                "types": {
                    "adaptive": yes if adaptive else no,
                    "between_tools": yes if adaptive else no,
                    "disabled": no if adaptive else yes,
                    "enabled": no if adaptive else yes,
                },
            },
        },
    }


def sign(model: str, thinking: str) -> str:
    """A thinking block's signature: bound to the model and to the block's full text."""
    digest = hmac.new(_SECRET, f"{model}\0{thinking}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def tampered_thinking(body: dict[str, Any], issued: dict[str, str]) -> str | None:
    """Why the thinking blocks passed back in `body` are refused (changed, or from another
    model or conversation), or None. `issued`: signature -> the block's full text."""
    model = body.get("model", "")
    for message in body.get("messages", []):
        if message.get("role") != "assistant" or not isinstance(message.get("content"), list):
            continue
        for block in message["content"]:
            if not isinstance(block, dict) or block.get("type") != "thinking":
                continue
            signature = block.get("signature", "")
            full = issued.get(signature)
            if full is None or sign(model, full) != signature:
                return "messages: thinking block signature is invalid for this model and conversation"
            if block.get("thinking") not in ("", full):
                return "messages: thinking blocks must be passed back unchanged"
    return None


def shape_content(body: dict[str, Any], content: list[dict[str, Any]], issued: dict[str, str]) -> list[dict[str, Any]]:
    """A scripted response's blocks as the model answers this request: text written before a
    tool call becomes a thinking block on the current models; thinking blocks get their
    signature (and lose their text unless the request shows it)."""
    rules = behaviour(body.get("model", ""))
    thinks, shown = rules.thinks(body), rules.shows_thinking(body)
    has_tool = [i for i, b in enumerate(content) if b.get("type") == "tool_use"]
    last_tool = has_tool[-1] if has_tool else -1
    shaped: list[dict[str, Any]] = []
    for index, block in enumerate(content):
        kind = block.get("type")
        if kind == "text" and rules.adaptive and thinks and index < last_tool:
            block, kind = {"type": "thinking", "thinking": block.get("text", "")}, "thinking"
        if kind == "thinking":
            if not thinks:
                continue
            full = str(block.get("thinking", ""))
            signature = sign(body.get("model", ""), full)
            issued[signature] = full
            shaped.append({"type": "thinking", "thinking": full if shown else "", "signature": signature})
        elif kind == "redacted_thinking":
            if thinks:
                shaped.append({"type": "redacted_thinking", "data": base64.b64encode(os.urandom(24)).decode()})
        else:
            shaped.append(block)
    return shaped


# -- prompt caching, as the API counts it --------------------------------------------------

#: The shortest prefix each model caches (Anthropic's prompt-caching documentation and
#: gateway tables, read 2026-12-01; one report has Sonnet 4.6 at 2,048). First match wins.
CACHE_MINIMUM: list[tuple[str, int]] = [
    (r"claude-(opus-5|fable-5)", 512),
    (r"claude-sonnet-5", 1024),
    (r"claude-opus-4-8", 1024),
    (r"claude-sonnet-4-6", 2048),
    (r"claude-(haiku-4-5|opus-4-[567])", 4096),
    (r"claude-3(-5)?-haiku", 2048),
    (r"", 1024),
]
#: Breakpoints a request may set; how many blocks before a breakpoint a hit is looked for.
MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
#: Seconds an entry lives after its last use (the default "5m" lifetime).
CACHE_TTL = 300.0


def cache_minimum(model: str) -> int:
    return next(n for pattern, n in CACHE_MINIMUM if re.match(pattern, model or ""))


class PromptCache:
    """Prefixes cached for the stand-in's requests, counted the way the API bills them:
    a prefix is written at a `cache_control` breakpoint when it is at least the model's
    minimum long, lives `CACHE_TTL` seconds after its last use, and is found from a
    breakpoint by looking back at most `LOOKBACK_BLOCKS` block boundaries. Prefixes are
    tools, then system blocks, then message blocks, in order (tokens: `count`)."""

    def __init__(self, clock: Any = None) -> None:
        import time

        self.clock = clock or time.monotonic
        self.entries: dict[str, float] = {}  # prefix hash -> expiry

    def usage(self, body: dict[str, Any], count: Any) -> dict[str, int] | str:
        """{input_tokens, cache_read_input_tokens, cache_creation_input_tokens}, or why the
        request is refused (too many breakpoints)."""
        hashes, totals, marks = [], [], []
        digest, total = hashlib.sha256(str(body.get("model")).encode()), 0
        for role, block in _blocks(body):
            clean = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
            digest.update(f"{role}\0".encode() + repr(clean).encode())
            total += count(clean)
            hashes.append(digest.copy().hexdigest())
            totals.append(total)
            marks.append(isinstance(block, dict) and "cache_control" in block)
        points = [i for i, marked in enumerate(marks) if marked]
        if len(points) > MAX_BREAKPOINTS:
            return f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {len(points)}."
        now = self.clock()
        self.entries = {h: t for h, t in self.entries.items() if t > now}
        read_at = -1
        for point in points:
            for i in range(point, max(point - LOOKBACK_BLOCKS, -1), -1):
                if hashes[i] in self.entries:
                    read_at = max(read_at, i)
                    break
        read = totals[read_at] if read_at >= 0 else 0
        if read_at >= 0:
            self.entries[hashes[read_at]] = now + CACHE_TTL
        written_to = read_at
        for point in points:
            if point > read_at and totals[point] >= cache_minimum(body.get("model", "")):
                self.entries[hashes[point]] = now + CACHE_TTL
                written_to = max(written_to, point)
        written = totals[written_to] - read if written_to > read_at else 0
        whole = totals[-1] if totals else 0
        return {"input_tokens": whole - read - written, "cache_read_input_tokens": read, "cache_creation_input_tokens": written}


def _blocks(body: dict[str, Any]) -> Any:
    """(role, block) of a request in the order the cache reads them."""
    for tool in body.get("tools") or []:
        yield "tools", tool
    system = body.get("system")
    if isinstance(system, str):
        yield "system", {"type": "text", "text": system}
    else:
        for block in system or []:
            yield "system", block
    for index, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        for block in content or []:
            yield f"{index}:{message.get('role')}", block
