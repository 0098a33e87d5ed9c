"""The Claude stand-in speaks the Messages API well enough for the real SDK."""

import json

import anthropic
import pytest
from tornado.httpclient import AsyncHTTPClient


@pytest.fixture
def sdk(claude_standin):
    return anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=claude_standin.url, max_retries=1)


async def test_stream_rebuilds_text_and_tool_use(sdk, claude_standin):
    claude_standin.script(claude_standin.code("print('hi')", text="Running it."))
    async with sdk.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}]) as s:
        texts = [e.text async for e in s if e.type == "text"]
        final = await s.get_final_message()
    assert "".join(texts) == "Running it." and len(texts) >= 1
    assert final.stop_reason == "tool_use"
    tool = final.content[1]
    assert (tool.type, tool.name, tool.input) == ("tool_use", "run_code", {"code": "print('hi')"})
    assert tool.id.startswith("toolu_")


async def test_plain_create_and_usage_with_cache_fields(sdk, claude_standin):
    claude_standin.script(claude_standin.text("ok", usage={"cache_read_input_tokens": 1234, "cache_creation_input_tokens": 56}))
    message = await sdk.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert message.content[0].text == "ok" and message.stop_reason == "end_turn"
    assert (message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens) == (1234, 56)
    assert message.usage.input_tokens > 0


@pytest.mark.parametrize("status, error", [(429, anthropic.RateLimitError), (529, anthropic.APIStatusError), (500, anthropic.InternalServerError)])
async def test_error_statuses_are_retried_then_raised(sdk, claude_standin, status, error):
    claude_standin.script({"status": status}, {"status": status})
    with pytest.raises(error) as info:
        await sdk.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == status
    assert len(claude_standin.requests) == 2  # max_retries=1: one retry


async def test_mid_stream_error_raises(sdk, claude_standin):
    claude_standin.script({**claude_standin.text("a long answer " * 5), "error_after": 4})
    with pytest.raises(anthropic.APIStatusError) as info:
        async with sdk.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}]) as s:
            async for _ in s:
                pass
    assert "overloaded" in str(info.value.body).lower()


async def test_control_api_scripts_and_records(claude_standin):
    http = AsyncHTTPClient()
    script = {"responses": [{"content": [{"type": "text", "text": "scripted over HTTP"}]}]}
    queued = await http.fetch(f"{claude_standin.url}/_standin/script", method="POST", body=json.dumps(script))
    assert json.loads(queued.body) == {"queued": 1}
    sdk = anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=claude_standin.url)
    message = await sdk.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "q"}])
    assert message.content[0].text == "scripted over HTTP"
    recorded = json.loads((await http.fetch(f"{claude_standin.url}/_standin/requests")).body)["requests"]
    assert recorded[0]["body"]["messages"] == [{"role": "user", "content": "q"}]
    await http.fetch(f"{claude_standin.url}/_standin/reset", method="POST", body="")
    assert claude_standin.requests == []


def _png(size, fmt="PNG"):
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def _with_image(media_type, data):
    image = {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    return [{"role": "user", "content": [{"type": "text", "text": "look"}, image]}]


async def test_image_blocks_are_counted_like_the_api(sdk, claude_standin):
    claude_standin.script(claude_standin.text("white"), claude_standin.text("white"))
    small = await sdk.messages.create(model="m", max_tokens=5, messages=_with_image("image/png", _png((10, 10))))
    large = await sdk.messages.create(model="m", max_tokens=5, messages=_with_image("image/png", _png((1500, 1000))))
    # width x height / 750 tokens per image, not the length of its base64.
    assert large.usage.input_tokens - small.usage.input_tokens == 1500 * 1000 // 750 - 10 * 10 // 750


@pytest.mark.parametrize(
    "media_type, data, message",
    [
        ("image/jpeg", _png((20, 20)), "does not match the provided media type"),
        ("image/png", "bm90IGFuIGltYWdl", "Could not process image"),
        ("image/svg+xml", _png((20, 20)), "is not supported"),
        ("image/png", _png((8001, 10)), "exceed max allowed size"),
    ],
)
async def test_bad_image_blocks_are_rejected_like_the_api(sdk, claude_standin, media_type, data, message):
    with pytest.raises(anthropic.BadRequestError) as info:
        await sdk.messages.create(model="m", max_tokens=5, messages=_with_image(media_type, data))
    assert message in str(info.value)
