"""Estimated cost of a turn from the model's list price (USD per million tokens).

Estimates only: list prices as published for each family; cache writes (5-minute TTL)
cost 1.25× input, cache reads 0.1× input. An unknown model gets no estimate rather
than a wrong one.
"""

from __future__ import annotations

import re

# (input, output) USD per million tokens, matched against the model id in order.
PRICES: list[tuple[str, float, float]] = [
    (r"claude-opus-4(-0|-1|-20250514|-1-20250805)?$", 15.0, 75.0),
    (r"claude-opus-", 5.0, 25.0),
    (r"claude-sonnet-", 3.0, 15.0),
    (r"claude-3-7-sonnet", 3.0, 15.0),
    (r"claude-haiku-4", 1.0, 5.0),
    (r"claude-3-5-haiku", 0.8, 4.0),
    (r"claude-3-haiku", 0.25, 1.25),
]
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


def estimate_cost(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_input_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
) -> float | None:
    for pattern, price_in, price_out in PRICES:
        if re.match(pattern, model):
            dollars = (
                input_tokens * price_in
                + cache_creation_input_tokens * price_in * CACHE_WRITE_FACTOR
                + cache_read_input_tokens * price_in * CACHE_READ_FACTOR
                + output_tokens * price_out
            ) / 1_000_000
            return round(dollars, 6)
    return None
