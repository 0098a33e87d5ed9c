"""Review mode: each generated cell waits for the person's Run (maybe edited) or Skip."""

import nbformat

from jupyter_nbchat.testing.plugin import of_type


async def test_run_edited_and_skip(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(
        claude_standin.code("print('as proposed')"),
        claude_standin.code("import shutil; shutil.rmtree('/tmp/not-really')"),
        claude_standin.text("Done."),
    )
    turn_id = await nbchat.start_turn("r.ipynb", "Go", review=True, write="server")
    first = (await nbchat.events(turn_id, until="cell_proposed"))[-1]
    assert first["cell"]["outputs"] == [] and first["cell"]["execution_count"] is None
    # Nothing ran yet: the turn waits for the person.
    info = await nbchat.get("turns", turn_id)
    assert info["status"] == "running"
    response = await nbchat.post(
        "turns", turn_id, "review", body={"tool_use_id": first["tool_use_id"], "decision": "run", "code": "print('as edited')"}
    )
    assert response.code == 202
    second = [e for e in await nbchat.events(turn_id, until="cell_proposed", after=first["seq"])][-1]
    assert second["type"] == "cell_proposed" and "rmtree" in second["cell"]["source"]
    await nbchat.post("turns", turn_id, "review", body={"tool_use_id": second["tool_use_id"], "decision": "skip"})
    events = await nbchat.events(turn_id)

    ran = [e for e in of_type(events, "cell") if e["role"] == "code"]
    assert len(ran) == 1 and ran[0]["replaces"] == first["cell"]["id"]
    # On Run, the cell that starts running takes the proposal's place; it then ends in place.
    (started,) = of_type(events, "cell_started")
    assert started["replaces"] == first["cell"]["id"] and started["cell"]["source"] == "print('as edited')"
    assert ran[0]["cell"]["id"] == started["cell"]["id"]
    assert ran[0]["cell"]["source"] == "print('as edited')"
    assert ran[0]["cell"]["outputs"][0]["text"] == "as edited\n"
    assert of_type(events, "cell_skipped")[0]["cell_id"] == second["cell"]["id"]
    skipped_result = claude_standin.requests[2]["body"]["messages"][-1]["content"][0]
    assert skipped_result["is_error"] is True and "chose not to run" in skipped_result["content"]
    nb = nbformat.read(jp_root_dir / "r.ipynb", as_version=4)
    assert [c.source for c in nb.cells if c.cell_type == "code"] == ["print('as edited')"]


async def test_a_decision_nobody_waits_for_is_refused(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.text("hi"))
    turn_id = await nbchat.start_turn(notebook_path, "hi")
    await nbchat.events(turn_id)
    code, reply = await nbchat.error("POST", "turns", turn_id, "review", body={"tool_use_id": "toolu_x", "decision": "run"})
    assert code == 409 and "waiting" in reply["message"]
    code, reply = await nbchat.error("POST", "turns", turn_id, "review", body={"tool_use_id": "toolu_x", "decision": "maybe"})
    assert code == 400


async def test_cancel_while_waiting_for_review(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("print(1)"))
    turn_id = await nbchat.start_turn(notebook_path, "wait", review=True)
    await nbchat.events(turn_id, until="cell_proposed")
    await nbchat.post("turns", turn_id, "cancel")
    assert (await nbchat.get("turns", turn_id))["status"] == "cancelled"


async def test_skipping_a_proposed_fix_keeps_the_failed_cell(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(claude_standin.code("1/0"), claude_standin.code("1/1"), claude_standin.text("Gave up."))
    turn_id = await nbchat.start_turn("s.ipynb", "Divide", review=True, write="server")
    first = (await nbchat.events(turn_id, until="cell_proposed"))[-1]
    await nbchat.post("turns", turn_id, "review", body={"tool_use_id": first["tool_use_id"], "decision": "run"})
    fix = (await nbchat.events(turn_id, until="cell_proposed", after=first["seq"]))[-1]
    failed = [e for e in await nbchat.events(turn_id, limit=fix["seq"]) if e["type"] == "cell" and e["role"] == "code"][0]
    assert fix["replaces"] == failed["cell"]["id"]
    await nbchat.post("turns", turn_id, "review", body={"tool_use_id": fix["tool_use_id"], "decision": "skip"})
    await nbchat.events(turn_id)
    nb = nbformat.read(jp_root_dir / "s.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.source for c in code] == ["1/0"] and code[0].outputs[0]["ename"] == "ZeroDivisionError"


async def test_stopping_during_review_retracts_the_proposal(nbchat, claude_standin, jp_root_dir):
    claude_standin.script(claude_standin.code("print(1)"))
    turn_id = await nbchat.start_turn("stop.ipynb", "wait", review=True, write="server")
    proposed = (await nbchat.events(turn_id, until="cell_proposed"))[-1]
    await nbchat.post("turns", turn_id, "cancel")
    events = await nbchat.events(turn_id)
    assert of_type(events, "cell_skipped")[0]["cell_id"] == proposed["cell"]["id"]
    nb = nbformat.read(jp_root_dir / "stop.ipynb", as_version=4)
    assert [c.cell_type for c in nb.cells] == ["markdown"]  # only the question
