"""POST nbchat/undo: what taking a turn back does, computed from the notebook the browser sends."""

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


async def plan(nbchat, notebook_path, turn_id, cells, record):
    body = {"notebook_path": notebook_path, "turn_id": turn_id, "cells": cells, "record": record}
    return json.loads((await nbchat.post("undo", body=body)).body)


def the_notebook(events, person=()):
    """The cells a panel would hold after following these events (person's cells first)."""
    cells = [dict(c) for c in person]
    for e in events:
        if e["type"] == "cell":
            ids = [c["id"] for c in cells]
            if e["cell"]["id"] in ids:
                cells[ids.index(e["cell"]["id"])] = e["cell"]
            elif e["replaces"] in ids:
                cells[ids.index(e["replaces"])] = e["cell"]
            else:
                cells.append(e["cell"])
    return cells


PERSON = {"id": "mine0001", "cell_type": "code", "source": "mine = 1", "outputs": [], "execution_count": None, "metadata": {}}


async def test_undo_removes_the_turns_cells_and_its_record(nbchat, claude_standin, notebook_path):
    claude_standin.script(
        claude_standin.code("1/0", usage={"input_tokens": 10, "output_tokens": 1}),
        claude_standin.code("1/1"),
        claude_standin.text("One."),
    )
    events = await nbchat.ask(notebook_path, "Divide", cells=[PERSON])
    turn_id, record = events[0]["turn_id"], events[-1]["record"]
    cells = the_notebook(events, [PERSON])
    undone = await plan(nbchat, notebook_path, turn_id, cells, record)
    turn_cells = [c["id"] for c in cells[1:]]
    assert undone["turn_id"] == turn_id
    assert undone["remove"] == turn_cells and len(turn_cells) == 3  # question, fixed code, answer
    assert undone["edited"] == [] and undone["restore"] == []
    assert undone["summary"] == {"added": 3, "replaced": 1, "skipped": 0}
    assert undone["record"]["turns"] == []
    assert undone["record"]["usage"] == record["usage"]  # spent is spent

    # The person edited the generated code since: undo says so, and removes it only if asked.
    cells[2] = {**cells[2], "source": cells[2]["source"] + "\nprint('mine now')"}
    undone = await plan(nbchat, notebook_path, turn_id, cells, record)
    assert undone["edited"] == [cells[2]["id"]] and cells[2]["id"] in undone["remove"]

    # A cell the person deleted already is not removed again.
    undone = await plan(nbchat, notebook_path, turn_id, [c for c in cells if c["id"] != cells[3]["id"]], record)
    assert undone["remove"] == turn_cells[:2]


async def test_cells_to_restore_come_back_from_the_record(nbchat, notebook_path):
    before = {"cell_type": "code", "id": "before01", "source": "x = 0", "outputs": [], "execution_count": 1, "metadata": {}}
    record = {"turns": [{"turn_id": "t" * 32, "question": "q", "cells": [], "restore": [{"cell": before, "index": 2}]}]}
    undone = await plan(nbchat, notebook_path, "t" * 32, [PERSON], record)
    assert undone["restore"] == [{"cell": before, "index": 2}] and undone["remove"] == []


async def test_undo_is_refused_while_the_turn_runs(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("import time\ntime.sleep(1)"), claude_standin.text("Slept."))
    turn_id = await nbchat.start_turn(notebook_path, "Sleep")
    seen = await nbchat.events(turn_id, until="cell_started")
    code, reply = await nbchat.error(
        "POST", "undo", body={"notebook_path": notebook_path, "turn_id": turn_id, "cells": [], "record": seen[-1]["record"]}
    )
    assert code == 409 and "still running" in reply["message"]
    events = await nbchat.events(turn_id)
    assert (await plan(nbchat, notebook_path, turn_id, the_notebook(events), events[-1]["record"]))["remove"]


async def test_undo_a_turn_the_server_saved_after_a_restart(nbchat, claude_standin, jp_root_dir, jp_serverapp):
    nb = new_notebook(cells=[new_code_cell("mine = 1")])
    nbformat.write(nb, jp_root_dir / "s.ipynb")
    claude_standin.script(claude_standin.code("theirs = 2"), claude_standin.text("Set."))
    events = await nbchat.ask("s.ipynb", "Set theirs", write="server")
    turn_id = events[0]["turn_id"]
    jp_serverapp.web_app.settings["nbchat"].turns.turns.clear()  # as after a restart
    saved = nbformat.read(jp_root_dir / "s.ipynb", as_version=4)
    undone = await plan(nbchat, "s.ipynb", turn_id, [dict(c) for c in saved.cells], saved.metadata["nbchat"])
    assert undone["remove"] == [c.id for c in saved.cells[1:]] and len(undone["remove"]) == 3
    assert undone["edited"] == []
    assert undone["record"]["turns"] == []


async def test_undo_with_question_answer_cells_off(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("a = 1"), claude_standin.text("Set."))
    first = await nbchat.ask(notebook_path, "Set a", question_answer_cells=False)
    claude_standin.script(claude_standin.text("No code needed."))
    second = await nbchat.ask(notebook_path, "Hello", question_answer_cells=False, record=first[-1]["record"], cells=the_notebook(first))
    record, cells = second[-1]["record"], the_notebook(first)
    assert [c["metadata"]["nbchat"]["role"] for c in cells] == ["code"]
    undone = await plan(nbchat, notebook_path, first[0]["turn_id"], cells, record)
    assert undone["remove"] == [cells[0]["id"]]
    assert [t["question"] for t in undone["record"]["turns"]] == ["Hello"]
    undone = await plan(nbchat, notebook_path, second[0]["turn_id"], cells, record)  # no cells: only its record
    assert undone["remove"] == [] and [t["question"] for t in undone["record"]["turns"]] == ["Set a"]


async def test_an_old_turn_without_a_record_is_undone_by_its_tags(nbchat, notebook_path):
    old = "o" * 32
    cells = [
        PERSON,
        {**new_markdown_cell("**Question**\n\n> old"), "metadata": {"nbchat": {"turn_id": old, "role": "question"}}},
        {**new_code_cell("x = 1"), "metadata": {"nbchat": {"turn_id": old, "role": "code"}}},
    ]
    undone = await plan(nbchat, notebook_path, old, cells, {"usage": {"turns": 1}})
    assert undone["remove"] == [cells[1]["id"], cells[2]["id"]] and undone["edited"] == []
    assert undone["record"]["usage"] == {"turns": 1}
    code, reply = await nbchat.error(
        "POST", "undo", body={"notebook_path": notebook_path, "turn_id": "n" * 32, "cells": cells, "record": {}}
    )
    assert code == 404 and "n" * 32 in reply["message"]
