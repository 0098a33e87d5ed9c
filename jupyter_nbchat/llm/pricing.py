"""Estimated cost of a turn from the model's own list price (USD per million tokens).

One table: each row says which model ids it prices, the input, output, 5-minute cache write
and cache read prices, where the figures come from and when they were read. Cache writes
here are the 5-minute kind (the only one the chat asks for). An unknown model gets no
estimate rather than a wrong one: the panel then shows tokens without a price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    pattern: str  # matched against the model id from its start
    input: float
    output: float
    cache_write: float  # 5-minute cache write
    cache_read: float
    source: str
    read_on: str


_DOCS = "https://platform.claude.com/docs/en/models"
#: Newest first; the first row whose pattern matches prices the model.
PRICES: list[Price] = [
    Price(r"claude-sonnet-5-5", 2.0, 10.0, 2.50, 0.20, f"{_DOCS}/sonnet-5-5/overview", "2026-12-01"),
    Price(r"claude-sonnet-5(-|$)", 2.0, 10.0, 2.50, 0.20, f"{_DOCS}/sonnet-5/overview", "2026-12-01"),
    Price(r"claude-opus-5(-\d{8})?$", 5.0, 25.0, 6.25, 0.50, f"{_DOCS}/whats-new-opus-5", "2026-12-01"),
    # Cache prices as listed by a pricing-page refresh (github.com/kurofune/claudit v1.8.2): 0.05x input reads.
    Price(r"claude-opus-5-5", 4.0, 20.0, 5.00, 0.20, f"{_DOCS}/opus-5-5/overview", "2026-12-01"),
    Price(r"claude-fable-5", 10.0, 50.0, 12.50, 1.00, f"{_DOCS}/overview", "2026-12-01"),
    Price(r"claude-opus-4-(5|6|7|8)", 5.0, 25.0, 6.25, 0.50, f"{_DOCS}/overview", "2026-12-01"),
    Price(r"claude-opus-4(-0|-1)?(-\d{8})?$", 15.0, 75.0, 18.75, 1.50, f"{_DOCS}/overview", "2026-12-01"),
    Price(r"claude-sonnet-4", 3.0, 15.0, 3.75, 0.30, f"{_DOCS}/overview", "2026-12-01"),
    Price(r"claude-3-7-sonnet", 3.0, 15.0, 3.75, 0.30, f"{_DOCS}/overview", "2026-12-01"),
    Price(r"claude-haiku-4", 1.0, 5.0, 1.25, 0.10, f"{_DOCS}/overview", "2026-12-01"),
    Price(r"claude-3-5-haiku", 0.8, 4.0, 1.00, 0.08, f"{_DOCS}/overview", "2026-12-01"),
    Price(r"claude-3-haiku", 0.25, 1.25, 0.30, 0.03, f"{_DOCS}/overview", "2026-12-01"),
]


def price_of(model: str) -> Price | None:
    """The row that prices `model`, or None (unknown: no estimate)."""
    return next((p for p in PRICES if re.match(p.pattern, model)), None)


def estimate_cost(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_input_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
) -> float | None:
    price = price_of(model)
    if price is None:
        return None
    dollars = (
        input_tokens * price.input
        + cache_creation_input_tokens * price.cache_write
        + cache_read_input_tokens * price.cache_read
        + output_tokens * price.output
    ) / 1_000_000
    return round(dollars, 6)
