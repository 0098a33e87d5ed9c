"""Admin policies: allowed models and executors, forced review, a token cap per turn.

The module's server allows two models and the local kernel only, forces review, and is
configured (on purpose) with a disallowed default executor: the policy wins. Tests that need
another limit change the app's traits on their own fresh server (the checks read them live).
"""

import json

import nbformat
import pytest

from jupyter_nbchat.testing.plugin import STANDIN_API_KEY, of_type

MODELS = ["claude-standin-small", "claude-standin-large"]
E2B_SECRET = "e2b_policy_secret_0123456789"


@pytest.fixture
def nbchat_config():
    return {
        "allowed_models": MODELS,
        "allowed_executors": ["kernel"],
        "executor": "e2b",  # not allowed: the server falls back to the first allowed one
        "e2b_api_key": E2B_SECRET,
        "force_review": True,
    }


@pytest.fixture
def app(jp_serverapp):
    return jp_serverapp.web_app.settings["nbchat"]


async def test_status_exposes_the_policy_without_secrets(nbchat, jp_fetch):
    raw = (await jp_fetch("nbchat", "status", method="GET")).body.decode()
    status = json.loads(raw)
    assert E2B_SECRET not in raw and STANDIN_API_KEY not in raw
    assert status["executor"] == "kernel"  # the configured "e2b" is not allowed
    assert status["model"] in MODELS
    policy = status["policy"]
    assert policy["allowed_models"] == MODELS
    assert policy["allowed_executors"] == ["kernel"]
    assert policy["force_review"] is True and policy["max_tokens_per_turn"] == 0
    assert set(policy["reasons"]) == {"models", "executors", "review"}
    assert "claude-standin-small, claude-standin-large" in policy["reasons"]["models"]
    assert "kernel" in policy["reasons"]["executors"] and "Run or Skip" in policy["reasons"]["review"]


async def test_no_policy_means_no_limits(nbchat, app):
    app.allowed_models, app.allowed_executors, app.force_review = [], [], False
    status = await nbchat.get("status")
    assert status["executor"] == "e2b"  # the configured default again, once nothing limits it
    policy = status["policy"]
    assert policy == {
        "allowed_models": [],
        "allowed_executors": [],
        "force_review": False,
        "max_tokens_per_turn": 0,
        "reasons": {},
    }


async def test_requests_outside_the_policy_are_refused_with_the_reason(nbchat, claude_standin, notebook_path):
    base = {"notebook_path": notebook_path, "question": "hi", "review": True}

    code, reply = await nbchat.error("POST", "turns", body={**base, "model": "claude-opus-9"})
    assert code == 403
    assert "'claude-opus-9' is not allowed" in reply["message"] and "claude-standin-small" in reply["message"]

    code, reply = await nbchat.error("POST", "turns", body={**base, "executor": "e2b"})
    assert code == 403 and "E2B" in reply["message"] and "only in the notebook's kernel" in reply["message"]

    code, reply = await nbchat.error("POST", "turns", body={**base, "review": False})
    assert code == 403 and "Review cannot be turned off" in reply["message"]

    code, reply = await nbchat.error("POST", "executor", "warm", body={"notebook_path": notebook_path, "executor": "e2b"})
    assert code == 403 and "E2B" in reply["message"]

    change = {"notebook_path": notebook_path, "change": {"executor": "e2b"}}
    code, reply = await nbchat.error("POST", "record", body=change)
    assert code == 403 and "E2B" in reply["message"]

    code, reply = await nbchat.error("POST", "verify", body={"notebook_path": notebook_path, "executor": "e2b"})
    assert code == 403 and "E2B" in reply["message"]

    assert claude_standin.requests == []  # nothing reached Claude


async def test_allowed_requests_pass(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.text("Hello."))
    events = await nbchat.ask(notebook_path, "hi", model=MODELS[1], executor="kernel", review=True)
    assert of_type(events, "turn_finished")[0]["status"] == "done"
    assert claude_standin.requests[0]["body"]["model"] == MODELS[1]


async def test_forced_review_makes_cells_wait_when_the_request_does_not_ask(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(claude_standin.code("print('approved')"), claude_standin.text("Done."))
    turn_id = await nbchat.start_turn("forced.ipynb", "Go", write="server")  # no `review`: off by default
    proposed = (await nbchat.events(turn_id, until="cell_proposed"))[-1]
    assert proposed["cell"]["outputs"] == [] and proposed["cell"]["execution_count"] is None
    assert (await nbchat.get("turns", turn_id))["status"] == "running"  # waits for the person
    await nbchat.post("turns", turn_id, "review", body={"tool_use_id": proposed["tool_use_id"], "decision": "run"})
    events = await nbchat.events(turn_id)
    ran = [e for e in of_type(events, "cell") if e["role"] == "code"]
    assert ran[0]["cell"]["outputs"][0]["text"] == "approved\n"
    assert of_type(events, "turn_finished")[0]["status"] == "done"


async def test_executor_routes_respect_a_policy_that_changed(nbchat, app, notebook_path):
    """A runtime started before the policy closed it can be neither restarted nor re-run."""
    response = await nbchat.post("executor", "warm", body={"notebook_path": notebook_path})
    assert response.code == 202
    app.allowed_executors = ["e2b"]
    code, reply = await nbchat.error("POST", "executor", "restart", body={"notebook_path": notebook_path})
    assert code == 403 and "notebook's kernel" in reply["message"]
    code, reply = await nbchat.error("POST", "executor", "rerun", body={"notebook_path": notebook_path, "codes": ["1"]})
    assert code == 403
    # The default follows the policy; Verify without a named executor runs where it allows,
    # not where the record says.
    assert (await nbchat.get("status"))["executor"] == "e2b"
    assert app.verify_executor(None, {"executor": "kernel"}) == "e2b"


async def test_the_token_cap_stops_a_turn_and_keeps_what_ran(nbchat, app, claude_standin, jp_root_dir):
    app.force_review = False
    app.max_tokens_per_turn = 5000
    claude_standin.script(
        claude_standin.code("print('kept')", usage={"input_tokens": 3000, "output_tokens": 100}),
        claude_standin.text("Never asked for."),
    )
    events = await nbchat.ask("capped.ipynb", "Count", write="server")

    assert len(claude_standin.requests) == 1  # the second call would have passed the cap
    # The one call could spend at most what the cap leaves for its output.
    assert claude_standin.requests[0]["body"]["max_tokens"] == 5000
    (error,) = of_type(events, "error")
    assert error["kind"] == "policy"
    assert "3,100 tokens" in error["message"] and "5,000 tokens" in error["message"]
    assert "cells that ran are kept" in error["message"]
    assert of_type(events, "turn_finished")[0]["status"] == "error"
    usage = of_type(events, "usage")[-1]
    assert usage["input_tokens"] + usage["output_tokens"] == 3100
    nb = nbformat.read(jp_root_dir / "capped.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code"]
    assert cell.source == "print('kept')" and cell.outputs[0]["text"] == "kept\n"


async def test_a_call_cut_short_by_the_cap_runs_none_of_its_code(nbchat, app, claude_standin, jp_root_dir):
    app.force_review = False
    app.max_tokens_per_turn = 300
    claude_standin.script(
        claude_standin.code("print('half wr", stop_reason="max_tokens", usage={"input_tokens": 200, "output_tokens": 100}),
    )
    events = await nbchat.ask("cut.ipynb", "Go", write="server")
    assert claude_standin.requests[0]["body"]["max_tokens"] == 300
    assert of_type(events, "cell_started") == []
    (error,) = of_type(events, "error")
    assert error["kind"] == "policy" and "cut short" in error["message"]
    assert of_type(events, "turn_finished")[0]["status"] == "error"


async def test_no_cap_leaves_max_tokens_alone(nbchat, app, claude_standin, notebook_path):
    app.force_review = False
    claude_standin.script(claude_standin.text("Fine.", usage={"input_tokens": 900_000, "output_tokens": 10}))
    events = await nbchat.ask(notebook_path, "hi")
    assert claude_standin.requests[0]["body"]["max_tokens"] == app.max_tokens
    assert of_type(events, "turn_finished")[0]["status"] == "done"
