"""The Claude stand-in bills input as the API's prompt cache does (testing/claude_api.py)."""

from jupyter_nbchat.testing.claude_api import CACHE_TTL, PromptCache, cache_minimum


def count(block):
    return int(block.get("tokens", 1))


def request(*sizes, marks=(), model="claude-sonnet-5-5", tag="b"):
    """One user message whose blocks have these token counts; `marks`: breakpoint indexes;
    blocks after the first are named with `tag` (another tag: other content)."""
    blocks = [
        {"type": "text", "text": f"{tag if i else 'b'}{i}", "tokens": n, **({"cache_control": {"type": "ephemeral"}} if i in marks else {})}
        for i, n in enumerate(sizes)
    ]
    return {"model": model, "messages": [{"role": "user", "content": blocks}]}


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def test_a_prefix_below_the_models_minimum_is_not_cached():
    cache = PromptCache()
    assert cache_minimum("claude-sonnet-5-5") == 1024 and cache_minimum("claude-haiku-4-5") == 4096
    small = request(500, 400, marks=(1,))
    assert cache.usage(small, count) == {"input_tokens": 900, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
    assert cache.usage(small, count)["cache_read_input_tokens"] == 0


def test_written_once_then_read_and_extended():
    cache = PromptCache()
    first = cache.usage(request(800, 400, marks=(1,)), count)
    assert first == {"input_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 1200}
    grown = cache.usage(request(800, 400, 300, marks=(2,)), count)  # the next step: one more block
    assert grown == {"input_tokens": 0, "cache_read_input_tokens": 1200, "cache_creation_input_tokens": 300}


def test_lookback_is_twenty_blocks_and_entries_expire():
    clock = Clock()
    cache = PromptCache(clock)
    cache.usage(request(2000, marks=(0,)), count)
    near = request(2000, *[1] * 19, marks=(19,), tag="near")
    assert cache.usage(near, count)["cache_read_input_tokens"] == 2000
    far = request(2000, *[1] * 30, marks=(30,), tag="other")  # only the first block is shared
    assert cache.usage(far, count)["cache_read_input_tokens"] == 0  # more than 20 blocks back
    clock.now += CACHE_TTL + 1
    assert cache.usage(request(2000, marks=(0,)), count)["cache_read_input_tokens"] == 0  # expired


def test_more_than_four_breakpoints_are_refused():
    assert "maximum of 4" in PromptCache().usage(request(1, 1, 1, 1, 1, marks=(0, 1, 2, 3, 4)), count)
