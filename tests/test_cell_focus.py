"""Turns about one notebook cell ("Fix with chat", "Explain", "Ask about this cell"), and a
cell that corrects an earlier one in place (`replaces_cell`)."""

import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

FAILED = {
    "id": "mine0001",
    "cell_type": "code",
    "source": "total = sum(valuez)\nprint(total)",
    "outputs": [
        {
            "output_type": "error",
            "ename": "NameError",
            "evalue": "name 'valuez' is not defined",
            "traceback": ["NameError: name 'valuez' is not defined"],
        }
    ],
    "execution_count": 4,
    "metadata": {},
}
AFTER = {"id": "mine0002", "cell_type": "code", "source": "after = 2", "outputs": [], "execution_count": None, "metadata": {}}
FIXED = "valuez = [1, 2, 3]\ntotal = sum(valuez)\nprint(total)"


def of_type(events, kind):
    return [e for e in events if e["type"] == kind]


def user_text(request):
    """Every text block of the last user message of a recorded Messages API request."""
    return "\n".join(b.get("text", "") for b in request["messages"][-1]["content"] if isinstance(b, dict))


async def test_fix_with_chat_replaces_the_persons_cell_and_undo_puts_it_back(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code(FIXED), claude_standin.text("Cell [1] now prints 6."))
    events = await nbchat.ask(
        notebook_path, "Fix this cell", cells=[FAILED, AFTER], focus={"cell_id": "mine0001", "action": "fix"}
    )
    assert of_type(events, "turn_finished")[0]["status"] == "done"

    # Claude was given the cell whole, with its traceback, and asked to fix it.
    asked = user_text(claude_standin.requests[0]["body"])
    assert "cell 1 of the notebook" in asked and "sum(valuez)" in asked and "NameError" in asked
    assert "fix this cell" in asked
    assert asked.count("sum(valuez)") == 1  # not a second time among the person's cells

    focus = of_type(events, "focus")[0]
    assert (focus["cell_id"], focus["action"], focus["index"]) == ("mine0001", "fix", 0)
    started = of_type(events, "cell_started")[0]
    final = [e for e in of_type(events, "cell") if e["role"] == "code"][-1]
    assert started["replaces"] == "mine0001" and final["cell"]["id"] == started["cell"]["id"]
    assert "6" in final["cell"]["outputs"][0]["text"]

    record = events[-1]["record"]["turns"][-1]
    assert record["focus"] == {"cell_id": "mine0001", "action": "fix"}
    assert [r["cell"]["id"] for r in record["restore"]] == ["mine0001"] and record["restore"][0]["index"] == 0
    assert record["restore"][0]["cell"]["outputs"][0]["ename"] == "NameError"  # whole, outputs too
    assert record["replaced"] == [{"by": started["cell"]["id"], "source": FAILED["source"]}]

    # Undo removes the fix and puts the person's cell back where it was.
    notebook = [final["cell"], AFTER] + [e["cell"] for e in of_type(events, "cell") if e["role"] != "code"]
    body = {"notebook_path": notebook_path, "turn_id": events[0]["turn_id"], "cells": notebook, "record": events[-1]["record"]}
    plan = json.loads((await nbchat.post("undo", body=body)).body)
    assert started["cell"]["id"] in plan["remove"] and "mine0002" not in plan["remove"]
    assert plan["restore"] == [{"cell": record["restore"][0]["cell"], "index": 0}]
    assert plan["summary"]["replaced"] == 1


async def test_a_fix_that_fails_again_still_replaces_the_persons_cell_once(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code("total = sum(valuez)  # still wrong"),
        claude_standin.code(FIXED),
        claude_standin.text("Cell [2] prints 6."),
    )
    events = await nbchat.ask(notebook_path, "Fix this cell", cells=[FAILED], focus={"cell_id": "mine0001", "action": "fix"})
    starts = of_type(events, "cell_started")
    assert starts[0]["replaces"] == "mine0001" and starts[1]["replaces"] == starts[0]["cell"]["id"]
    record = events[-1]["record"]["turns"][-1]
    assert [c["id"] for c in record["cells"] if c["role"] == "code"] == [starts[1]["cell"]["id"]]
    assert [r["cell"]["id"] for r in record["restore"]] == ["mine0001"]


async def test_a_skipped_fix_leaves_the_persons_cell_and_nothing_to_restore(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code(FIXED), claude_standin.text("Not changed."))
    turn_id = await nbchat.start_turn(
        notebook_path, "Fix this cell", cells=[FAILED], review=True, focus={"cell_id": "mine0001", "action": "fix"}
    )
    proposed = (await nbchat.events(turn_id, until="cell_proposed"))[-1]
    assert proposed["replaces"] == "mine0001"
    assert [r["cell"]["id"] for r in proposed["record"]["turns"][-1]["restore"]] == ["mine0001"]
    await nbchat.post(f"turns/{turn_id}/review", body={"tool_use_id": proposed["tool_use_id"], "decision": "skip"})
    events = await nbchat.events(turn_id)
    record = events[-1]["record"]["turns"][-1]
    assert record["restore"] == [] and record["replaced"] == []
    assert [c["role"] for c in record["cells"]] == ["question", "answer"]


async def test_explain_asks_about_the_cell_and_replaces_nothing(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.text("Cell [4] adds up `valuez`, which was never defined."))
    events = await nbchat.ask(
        notebook_path, "Explain this cell", cells=[FAILED, AFTER], focus={"cell_id": "mine0001", "action": "explain"}
    )
    asked = user_text(claude_standin.requests[0]["body"])
    assert "explain this cell" in asked and "sum(valuez)" in asked
    record = events[-1]["record"]["turns"][-1]
    assert record["focus"] == {"cell_id": "mine0001", "action": "explain"} and record["restore"] == []


async def test_a_question_about_a_cell_that_is_gone_is_refused(nbchat, notebook_path):
    code, reply = await nbchat.error(
        "POST", "turns", body={"notebook_path": notebook_path, "question": "Why?", "cells": [AFTER], "focus": {"cell_id": "gone", "action": "ask"}}
    )
    assert code == 409 and "no longer in the notebook" in reply["message"]
    code, reply = await nbchat.error(
        "POST", "turns", body={"notebook_path": notebook_path, "question": "Why?", "focus": {"cell_id": "x", "action": "rewrite"}}
    )
    assert code == 400 and "focus.action" in reply["message"]


async def test_a_server_written_fix_takes_the_cells_place_on_disk(nbchat, claude_standin, jp_root_dir):
    nb = new_notebook(cells=[nbformat.from_dict(FAILED), new_code_cell("after = 2", id="mine0002")])
    (jp_root_dir / "fixme.ipynb").write_text(nbformat.writes(nb))
    claude_standin.script(claude_standin.code(FIXED), claude_standin.text("Cell [1] prints 6."))
    events = await nbchat.ask("fixme.ipynb", "Fix this cell", write="server", focus={"cell_id": "mine0001", "action": "fix"})
    fixed_id = of_type(events, "cell")[1]["cell"]["id"]
    saved = nbformat.reads((jp_root_dir / "fixme.ipynb").read_text(), as_version=4)
    assert [c.get("id") for c in saved.cells[:2]] == [fixed_id, "mine0002"]
    assert [c.metadata["nbchat"]["role"] for c in saved.cells[2:]] == ["question", "answer"]
    assert saved.metadata["nbchat"]["turns"][-1]["restore"][0]["cell"]["id"] == "mine0001"


async def test_a_chart_corrected_in_place_replaces_the_earlier_cell(nbchat, claude_standin, notebook_path):
    redraw = {"content": [{"type": "tool_use", "name": "run_code", "input": {"code": "print('pie, right')", "replaces_cell": 1}}]}
    claude_standin.script(claude_standin.code("print('pie, 100 % one slice')"), redraw, claude_standin.text("Cell [2] shows the pie."))
    events = await nbchat.ask(notebook_path, "Pie of sexes")
    first, second = of_type(events, "cell_started")
    assert of_type(events, "cell")[1]["cell"]["execution_count"] == 1  # the number Claude named
    assert second["replaces"] == first["cell"]["id"]
    record = events[-1]["record"]["turns"][-1]
    assert [c["id"] for c in record["cells"] if c["role"] == "code"] == [second["cell"]["id"]]
    assert record["replaced"] == [{"by": second["cell"]["id"], "source": "print('pie, 100 % one slice')"}]


async def test_a_cell_number_that_names_no_cell_of_the_turn_adds_a_cell(nbchat, claude_standin, notebook_path):
    stray = {"content": [{"type": "tool_use", "name": "run_code", "input": {"code": "print(2)", "replaces_cell": 99}}]}
    claude_standin.script(claude_standin.code("print(1)"), stray, claude_standin.text("Cells [1] and [2] print 1 and 2."))
    events = await nbchat.ask(notebook_path, "Print")
    assert [e["replaces"] for e in of_type(events, "cell_started")] == [None, None]
