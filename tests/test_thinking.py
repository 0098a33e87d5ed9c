"""Today's API: the default model thinks, returns its text between tool calls as thinking
blocks, and must get them back unchanged; older models answer as before."""

import anthropic
import pytest

from jupyter_nbchat.llm.models import newest_sonnet
from jupyter_nbchat.testing.plugin import STANDIN_API_KEY, of_type

NOTE = "Loading the file first, then counting."


def phases(events):
    return [e["phase"] for e in of_type(events, "phase")]


async def test_the_default_model_thinks_and_the_person_sees_its_notes_between_tools(nbchat, claude_standin, notebook_path):
    assert newest_sonnet() == "claude-sonnet-5-5"  # the stand-in's current-generation model
    claude_standin.script(claude_standin.code("x = 41 + 1\nprint(x)", text=NOTE), claude_standin.text("Cell [1] prints 42."))
    events = await nbchat.ask(notebook_path, "Add")
    assert of_type(events, "turn_finished")[0]["status"] == "done"
    first, second = (r["body"] for r in claude_standin.requests)
    assert first["thinking"] == {"type": "adaptive", "display": "summarized"}
    # The note came back as a thinking block: the person sees it as such, not as the answer.
    assert "".join(e["text"] for e in of_type(events, "thinking_delta")) == NOTE
    assert NOTE not in "".join(e["text"] for e in of_type(events, "text_delta"))
    assert of_type(events, "answer")[0]["text"] == "Cell [1] prints 42."
    # ...and went back to the model unchanged, signature and all (the stand-in checks it).
    (thinking,) = [b for b in second["messages"][-2]["content"] if b["type"] == "thinking"]
    assert thinking["thinking"] == NOTE and thinking["signature"]
    assert "thinking" in phases(events)


async def test_redacted_thinking_goes_back_as_it_came(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        {"content": [{"type": "redacted_thinking"}, {"type": "tool_use", "name": "run_code", "input": {"code": "print(7)"}}]},
        claude_standin.text("Cell [1] prints 7."),
    )
    events = await nbchat.ask(notebook_path, "Seven")
    assert of_type(events, "answer")[0]["text"] == "Cell [1] prints 7."
    sent = claude_standin.requests[1]["body"]["messages"][-2]["content"]
    assert [b["type"] for b in sent] == ["redacted_thinking", "tool_use"] and sent[0]["data"]


async def test_an_older_model_is_asked_as_before(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("print(1)", text=NOTE), claude_standin.text("Cell [1] prints 1."))
    events = await nbchat.ask(notebook_path, "One", model="claude-sonnet-4-5")
    assert "thinking" not in claude_standin.requests[0]["body"]
    assert "".join(e["text"] for e in of_type(events, "text_delta")).startswith(NOTE)
    assert of_type(events, "thinking_delta") == []


async def test_a_model_the_models_api_does_not_know_is_asked_without_thinking(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.text("Hello."))
    events = await nbchat.ask(notebook_path, "Hi", model="a-gateway-alias")
    assert "thinking" not in claude_standin.requests[0]["body"]
    assert of_type(events, "answer")[0]["text"] == "Hello."


# -- the stand-in speaks today's API (through the real SDK) ------------------------------------


@pytest.fixture
def sdk(claude_standin, jp_asyncio_loop):
    client = anthropic.AsyncAnthropic(api_key=STANDIN_API_KEY, base_url=claude_standin.url, max_retries=0)
    yield client
    jp_asyncio_loop.run_until_complete(client.close())


async def test_the_standin_refuses_what_todays_model_refuses(sdk, claude_standin):
    base = {"model": "claude-sonnet-5-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    tool = {"name": "run_code", "input_schema": {"type": "object", "properties": {}}}
    for extra, phrase in (
        ({"thinking": {"type": "disabled"}}, "between_tools"),
        ({"tools": [tool], "tool_choice": {"type": "any"}}, "forced tool use"),
        ({"extra_body": {"temperature": 0.2}}, "sampling parameters"),  # this SDK has no parameter for it
    ):
        with pytest.raises(anthropic.BadRequestError, match=phrase):
            await sdk.messages.create(**base, **extra)
    claude_standin.script(claude_standin.text("fine"))
    older = await sdk.messages.create(**{**base, "model": "claude-sonnet-4-5"}, extra_body={"temperature": 0.2})
    assert older.content[0].text == "fine"


async def test_the_standin_binds_thinking_to_its_model_and_text(sdk, claude_standin):
    claude_standin.script({"content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "ok"}]})
    ask = {"role": "user", "content": "hi"}
    first = await sdk.messages.create(model="claude-sonnet-5-5", max_tokens=100, messages=[ask], thinking={"type": "adaptive"})
    block = first.content[0].model_dump()
    assert block["type"] == "thinking" and block["thinking"] == "" and block["signature"]  # display defaults to omitted
    follow = [ask, {"role": "assistant", "content": [block, {"type": "text", "text": "ok"}]}, {"role": "user", "content": "and?"}]
    claude_standin.script(claude_standin.text("fine"))
    assert (await sdk.messages.create(model="claude-sonnet-5-5", max_tokens=100, messages=follow)).content[0].text == "fine"
    changed = [*follow[:1], {"role": "assistant", "content": [{**block, "thinking": "edited"}]}, follow[2]]
    with pytest.raises(anthropic.BadRequestError, match="unchanged"):
        await sdk.messages.create(model="claude-sonnet-5-5", max_tokens=100, messages=changed)
    with pytest.raises(anthropic.BadRequestError, match="signature"):
        await sdk.messages.create(model="claude-opus-5-5", max_tokens=100, messages=follow)


async def test_the_standin_serves_the_models_api(sdk):
    current = await sdk.models.retrieve("claude-sonnet-5-5")
    older = await sdk.models.retrieve("claude-sonnet-4-5")
    assert current.capabilities.thinking.types.adaptive.supported is True
    assert current.capabilities.thinking.types.disabled.supported is False
    assert older.capabilities.thinking.types.adaptive.supported is False
    with pytest.raises(anthropic.NotFoundError):
        await sdk.models.retrieve("a-gateway-alias")
