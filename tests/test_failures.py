"""Bad input gets a clear 4xx; Claude's failures end the turn cleanly; cancel and catch-up work."""

import asyncio
import json
import time

import pytest

from jupyter_nbchat.testing.plugin import of_type


@pytest.mark.parametrize(
    "body, status, phrase",
    [
        ({"question": "hi"}, 400, "notebook_path"),
        ({"notebook_path": "a.ipynb", "question": "   "}, 400, "question is empty"),
        ({"notebook_path": "../outside.ipynb", "question": "hi"}, 400, "relative to the server root"),
        ({"notebook_path": "/etc/passwd.ipynb", "question": "hi"}, 400, "relative to the server root"),
        ({"notebook_path": "data.csv", "question": "hi"}, 400, "end in .ipynb"),
        ({"notebook_path": "a.ipynb", "question": "hi", "extra": 1}, 400, "extra"),
        ({"notebook_path": "missing.ipynb", "question": "hi"}, 404, "No notebook at 'missing.ipynb'"),
    ],
)
async def test_bad_turn_requests_get_a_clear_reason(nbchat, body, status, phrase):
    code, reply = await nbchat.error("POST", "turns", body=body)
    assert code == status
    assert phrase in reply["message"]
    assert "Traceback" not in reply["message"]
    assert (await nbchat.get("status"))["has_api_key"] is True  # the server keeps serving


async def test_malformed_json_body(nbchat):
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as info:
        await nbchat.post("turns", raw=b"{not json")
    assert info.value.code == 400
    assert "Invalid request" in json.loads(info.value.response.body)["message"]


async def test_unknown_turn_is_404(nbchat):
    code, reply = await nbchat.error("GET", "turns", "f" * 32)
    assert code == 404 and "No turn" in reply["message"]


class TestWithoutKey:
    @pytest.fixture
    def nbchat_config(self):
        return {"anthropic_api_key": ""}

    async def test_status_and_turn_say_how_to_set_the_key(self, nbchat, notebook_path):
        status = await nbchat.get("status")
        assert status["has_api_key"] is False
        code, reply = await nbchat.error("POST", "turns", body={"notebook_path": notebook_path, "question": "hi"})
        assert code == 412
        assert "export ANTHROPIC_API_KEY" in reply["message"]


async def test_one_turn_at_a_time_per_notebook(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("import time; time.sleep(1.5)"), claude_standin.text("slept"))
    turn_id = await nbchat.start_turn(notebook_path, "sleep")
    code, reply = await nbchat.error("POST", "turns", body={"notebook_path": notebook_path, "question": "again"})
    assert code == 409 and "already being answered" in reply["message"]
    events = await nbchat.events(turn_id)
    assert events[-1]["status"] == "done"


async def test_rate_limit_is_retried_by_the_sdk(nbchat, claude_standin, notebook_path):
    claude_standin.script({"status": 429}, {"status": 529}, claude_standin.text("Fine after retries."))
    events = await nbchat.ask(notebook_path, "hello")
    assert of_type(events, "answer")[0]["text"] == "Fine after retries."
    assert len(claude_standin.requests) == 3


@pytest.mark.parametrize(
    "status, kind",
    [(429, "rate_limited"), (529, "overloaded"), (500, "api_error"), (401, "invalid_api_key"), (400, "api_error")],
)
async def test_claude_failures_end_the_turn_with_a_message(nbchat, claude_standin, notebook_path, status, kind):
    claude_standin.script(*[{"status": status}] * 3)
    events = await nbchat.ask(notebook_path, "hello")
    error = of_type(events, "error")[0]
    assert error["kind"] == kind and str(status) in error["message"]
    assert events[-1]["type"] == "turn_finished" and events[-1]["status"] == "error"
    # The question cell was already sent: the person's words are kept.
    assert of_type(events, "cell")[0]["cell"]["metadata"]["nbchat"]["text"] == "hello"


async def test_mid_stream_error_ends_the_turn_cleanly_and_keeps_cells(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code("print('kept')"),
        {**claude_standin.text("This answer will break off"), "error_after": 3},
    )
    events = await nbchat.ask(notebook_path, "go")
    assert [c["role"] for c in of_type(events, "cell")] == ["question", "code"]
    assert of_type(events, "error")[0]["kind"] == "overloaded"
    assert events[-1]["status"] == "error"
    assert len(claude_standin.requests) == 2  # an error event mid-stream is not retried


async def test_cancel_interrupts_a_running_cell(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("import time\nfor _ in range(600): time.sleep(0.1)"))
    turn_id = await nbchat.start_turn(notebook_path, "loop forever")
    seen = await nbchat.events(turn_id, until="cell_running")
    assert seen[-1]["type"] == "cell_running"
    await asyncio.sleep(0.5)  # let the loop start in the kernel
    started = time.monotonic()
    response = await nbchat.post("turns", turn_id, "cancel")
    assert response.code == 202
    info = await nbchat.get("turns", turn_id)
    assert info["status"] == "cancelled"
    assert time.monotonic() - started < 20  # interrupted, not waited out (60 s loop)
    events = await nbchat.events(turn_id)
    assert events[-1]["type"] == "turn_finished" and events[-1]["status"] == "cancelled"
    # The kernel is free again: the next turn runs at once.
    claude_standin.script(claude_standin.code("print('alive')"), claude_standin.text("alive"))
    after = await nbchat.ask(notebook_path, "still there?")
    code = [c for c in of_type(after, "cell") if c["role"] == "code"][0]["cell"]
    assert code["outputs"][0]["text"] == "alive\n"


async def test_reconnect_catches_up_from_a_sequence_number(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("print(1)"), claude_standin.text("one"))
    turn_id = await nbchat.start_turn(notebook_path, "count")
    first = await nbchat.events(turn_id, limit=2)
    rest = await nbchat.events(turn_id, after=first[-1]["seq"])
    full = await nbchat.events(turn_id)
    assert full[-1]["type"] == "turn_finished"
    # The log keeps only the newest record: older events lose theirs once a newer one exists.
    assert [e["seq"] for e in full if "record" in e] == [full[-1]["seq"]]

    # Live output snapshots are superseded by their cell's final event, so a late replay has none.
    assert of_type(full, "cell_outputs") == []

    def settled(events):
        return [{k: v for k, v in e.items() if k != "record"} for e in events if e["type"] != "cell_outputs"]

    assert settled(first + rest) == settled(full)


class TestTimeouts:
    @pytest.fixture
    def nbchat_config(self):
        return {"execution_timeout": 1.0, "max_steps": 2}

    async def test_cell_timeout_interrupts_and_the_turn_goes_on(self, nbchat, claude_standin, notebook_path):
        claude_standin.script(
            claude_standin.code("import time; time.sleep(30)"),
            claude_standin.text("It timed out."),
        )
        events = await nbchat.ask(notebook_path, "sleep long")
        code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
        assert code["outputs"][-1]["ename"] == "TimeoutError"
        assert "interrupted" in code["outputs"][-1]["evalue"]
        assert events[-1]["status"] == "done"
        result = claude_standin.requests[1]["body"]["messages"][-1]["content"][0]
        assert result["is_error"] is True and "TimeoutError" in result["content"]

    async def test_step_cap_forces_an_answer(self, nbchat, claude_standin, notebook_path):
        claude_standin.script(
            claude_standin.code("a = 1"),
            claude_standin.code("b = 2"),
            claude_standin.text("Stopped after two cells."),
        )
        events = await nbchat.ask(notebook_path, "many steps")
        assert len([c for c in of_type(events, "cell") if c["role"] == "code"]) == 2
        last_request = claude_standin.requests[-1]["body"]
        assert last_request["tool_choice"] == {"type": "none"}
        assert of_type(events, "answer")[0]["text"] == "Stopped after two cells."


async def test_unknown_tool_is_reported_back_to_claude(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        {"content": [{"type": "tool_use", "name": "delete_everything", "input": {}}]},
        claude_standin.text("Sorry."),
    )
    events = await nbchat.ask(notebook_path, "do it")
    result = claude_standin.requests[1]["body"]["messages"][-1]["content"][0]
    assert result["is_error"] is True and "no tool named 'delete_everything'" in result["content"]
    assert events[-1]["status"] == "done"


async def test_a_reloaded_panel_finds_the_running_turn(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("import time; time.sleep(1)"), claude_standin.text("done"))
    turn_id = await nbchat.start_turn(notebook_path, "slow")
    listed = (await nbchat.get("turns", params={"notebook_path": notebook_path}))["turns"]
    assert [(t["turn_id"], t["status"]) for t in listed] == [(turn_id, "running")]
    assert (await nbchat.get("turns", params={"notebook_path": "other.ipynb"}))["turns"] == []
    events = await nbchat.events(turn_id)
    assert events[-1]["status"] == "done"
    assert (await nbchat.get("turns", params={"notebook_path": notebook_path}))["turns"][0]["status"] == "done"
