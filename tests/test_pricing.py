"""Each model at its own list price, from one table that says where each price comes from."""

import re

import pytest

from jupyter_nbchat.llm.models import newest_sonnet
from jupyter_nbchat.llm.pricing import PRICES, estimate_cost, price_of


def test_every_price_says_where_it_comes_from_and_when():
    for price in PRICES:
        assert price.source.startswith("https://") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.read_on)
        assert price.cache_read < price.input < price.cache_write


@pytest.mark.parametrize(
    "model, per_million",
    [
        ("claude-sonnet-5-5", (2.0, 10.0)),  # the default model, at its own price
        ("claude-sonnet-5", (2.0, 10.0)),
        ("claude-opus-5-5", (4.0, 20.0)),
        ("claude-sonnet-4-5", (3.0, 15.0)),
        ("claude-sonnet-4-5-20250929", (3.0, 15.0)),
        ("claude-opus-4-1", (15.0, 75.0)),
        ("claude-opus-4-6", (5.0, 25.0)),
        ("claude-haiku-4-5", (1.0, 5.0)),
    ],
)
def test_models_are_priced_as_listed(model, per_million):
    assert estimate_cost(model, input_tokens=1_000_000, output_tokens=0) == per_million[0]
    assert estimate_cost(model, input_tokens=0, output_tokens=1_000_000) == per_million[1]


def test_cache_reads_and_writes_at_the_models_own_cache_prices():
    sonnet = price_of(newest_sonnet())
    assert sonnet is not None and (sonnet.cache_write, sonnet.cache_read) == (2.50, 0.20)
    cost = estimate_cost(newest_sonnet(), input_tokens=0, output_tokens=0, cache_read_input_tokens=1_000_000, cache_creation_input_tokens=1_000_000)
    assert cost == pytest.approx(2.70)


def test_an_unknown_model_gets_no_price():
    assert estimate_cost("a-gateway-alias", input_tokens=10, output_tokens=10) is None
