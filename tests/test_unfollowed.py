"""A `write: "browser"` turn nobody follows to its end: the server writes its cells itself."""

import asyncio

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import FileContentsManager
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_nbchat import notebook
from jupyter_nbchat.testing.plugin import of_type


async def until(condition, what: str) -> None:
    """Wait for a server-side condition (bounded; not a timing assertion)."""
    for _ in range(1200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def finished(nbchat, turn_id: str) -> dict:
    """The turn's TurnInfo once it has ended, read without following its events."""
    info: dict = {}

    async def poll() -> None:
        nonlocal info
        for _ in range(1200):
            info = await nbchat.get("turns", turn_id)
            if info["status"] != "running":
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the turn never finished")

    await poll()
    return info


def server_turn(jp_serverapp, turn_id: str):
    return jp_serverapp.web_app.settings["nbchat"].turns.get(turn_id)


class TestNobodyFollows:
    @pytest.fixture
    def nbchat_config(self):
        return {"unfollowed_write_delay": 0.2}

    async def test_the_server_saves_a_turn_nobody_followed(self, nbchat, claude_standin, notebook_path, jp_root_dir):
        claude_standin.script(
            claude_standin.code("print('on disk')", usage={"input_tokens": 100, "output_tokens": 10}),
            claude_standin.text("Saved by the server.", usage={"input_tokens": 120, "output_tokens": 5}),
        )
        turn_id = await nbchat.start_turn(notebook_path, "Who saves this?")  # the tab is closed
        info = await finished(nbchat, turn_id)
        assert info["status"] == "done" and info["saved_by_server"] is True
        listed = (await nbchat.get("turns", params={"notebook_path": notebook_path}))["turns"]
        assert [t["saved_by_server"] for t in listed] == [True]
        events = await nbchat.events(turn_id)  # a panel coming back much later catches up
        assert events[-1]["type"] == "turn_finished" and events[-1]["saved_by_server"] is True

        nb = nbformat.read(jp_root_dir / notebook_path, as_version=4)
        nbformat.validate(nb)
        tags = [c.metadata["nbchat"] for c in nb.cells]
        assert [(t["role"], t["turn_id"]) for t in tags] == [("question", turn_id), ("code", turn_id), ("answer", turn_id)]
        assert [c.id for c in nb.cells] == [e["cell"]["id"] for e in of_type(events, "cell")]
        assert nb.cells[1].outputs == [{"output_type": "stream", "name": "stdout", "text": "on disk\n"}]
        assert nb.cells[2].source == "**Answer**\n\nSaved by the server."
        assert nb.cells[2].metadata["nbchat"]["text"] == "Saved by the server."
        usage = nb.metadata["nbchat"]["usage"]
        assert (usage["input_tokens"], usage["output_tokens"], usage["turns"]) == (220, 15, 1)
        assert usage["last_turn_id"] == turn_id
        assert nb.metadata["nbchat"]["executor_state"]["executor"] == "kernel"
        assert nb.metadata["kernelspec"]["name"] == "python3"  # the file's own metadata is kept

    async def test_a_followed_turn_is_left_to_the_panel(self, nbchat, claude_standin, notebook_path, jp_root_dir):
        before = (jp_root_dir / notebook_path).read_bytes()
        claude_standin.script(claude_standin.code("print('in the browser')"), claude_standin.text("The panel saves."))
        events = await nbchat.ask(notebook_path, "Who saves this?")
        assert events[-1]["type"] == "turn_finished" and events[-1]["status"] == "done"
        assert events[-1]["saved_by_server"] is False
        assert (await nbchat.get("turns", events[-1]["turn_id"]))["saved_by_server"] is False
        assert (jp_root_dir / notebook_path).read_bytes() == before

    async def test_a_cancelled_turn_nobody_follows_keeps_its_question(
        self, nbchat, claude_standin, notebook_path, jp_root_dir, jp_serverapp
    ):
        claude_standin.script(claude_standin.code("import time\nfor _ in range(600): time.sleep(0.1)"))
        turn_id = await nbchat.start_turn(notebook_path, "Loop, then I close the tab")
        await nbchat.events(turn_id, until="cell_running")  # then the socket closes
        turn = server_turn(jp_serverapp, turn_id)
        await until(lambda: turn.followers == 0, "the server saw the socket close")
        await nbchat.post("turns", turn_id, "cancel")
        info = await nbchat.get("turns", turn_id)
        assert info["status"] == "cancelled" and info["saved_by_server"] is True
        nb = nbformat.read(jp_root_dir / notebook_path, as_version=4)
        nbformat.validate(nb)
        assert [c.metadata["nbchat"]["role"] for c in nb.cells] == ["question", "code"]
        assert nb.cells[0].metadata["nbchat"]["text"] == "Loop, then I close the tab"
        # The stopped cell ended too: interrupted, never left running.
        assert nb.cells[1].outputs[-1]["ename"] == "KeyboardInterrupt"
        assert nb.metadata["nbchat"]["turns"][0]["status"] == "cancelled"


class TestReconnect:
    @pytest.fixture
    def nbchat_config(self):
        return {"unfollowed_write_delay": 5.0}

    async def test_a_panel_back_in_time_writes_the_turn_itself(
        self, nbchat, claude_standin, notebook_path, jp_root_dir, jp_serverapp
    ):
        before = (jp_root_dir / notebook_path).read_bytes()
        claude_standin.script(
            claude_standin.code("import time\ntime.sleep(0.5)\nprint('slow')"), claude_standin.text("Done.")
        )
        turn_id = await nbchat.start_turn(notebook_path, "Slow, and the page reloads")
        seen = await nbchat.events(turn_id, until="cell_running")  # the page goes away mid-turn
        turn = server_turn(jp_serverapp, turn_id)
        await until(lambda: turn.finishing and turn.followers == 0, "the turn ended with nobody following")
        assert turn.status == "running"  # waiting for a panel to come back
        rest = await nbchat.events(turn_id, after=seen[-1]["seq"])  # the reloaded page catches up
        seqs = [e["seq"] for e in seen + rest]
        assert seqs == sorted(set(seqs))  # increasing; superseded output snapshots leave gaps
        assert rest[-1]["type"] == "turn_finished" and rest[-1]["status"] == "done"
        assert rest[-1]["saved_by_server"] is False
        assert (await nbchat.get("turns", turn_id))["saved_by_server"] is False
        assert (jp_root_dir / notebook_path).read_bytes() == before


    async def test_stop_while_the_turn_waits_for_a_panel_still_saves_it(
        self, nbchat, claude_standin, notebook_path, jp_root_dir, jp_serverapp
    ):
        claude_standin.script(claude_standin.text("Answered; the tab is gone."))
        turn_id = await nbchat.start_turn(notebook_path, "Answer, then stop")
        turn = server_turn(jp_serverapp, turn_id)
        await until(lambda: turn.finishing, "the turn ended with nobody following")
        await nbchat.post("turns", turn_id, "cancel")  # its work is over: it is not cut short
        info = await nbchat.get("turns", turn_id)
        assert info["status"] == "done" and info["saved_by_server"] is True
        nb = nbformat.read(jp_root_dir / notebook_path, as_version=4)
        assert [c.metadata["nbchat"]["role"] for c in nb.cells] == ["question", "answer"]


def usage_event(input_tokens: int, output_tokens: int, cost: float) -> dict:
    return {
        "type": "usage",
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cost_usd": cost,
    }


async def test_append_cells_keeps_what_the_panel_saved_and_drops_what_the_turn_replaced(tmp_path):
    cm = FileContentsManager(root_dir=str(tmp_path))
    turn_id, earlier_turn = "a" * 32, "b" * 32
    question = notebook.question_cell(turn_id, "Divide?")
    failed = notebook.code_cell(turn_id, "1/0", [], 1, "toolu_1")
    fixed = notebook.code_cell(turn_id, "1/1", [], 2, "toolu_2")
    answer = notebook.answer_cell(turn_id, "It is 1.")
    # On disk: the person's cell, an earlier turn's cell, and what the panel had inserted
    # (and autosave kept) before it vanished: the question, edited, and the failed cell.
    nb = new_notebook(
        cells=[
            new_code_cell("x = 1"),
            nbformat.from_dict(notebook.code_cell(earlier_turn, "old = 1", [], 1, "toolu_0")),
            nbformat.from_dict({**question, "source": "**Question** (edited)"}),
            nbformat.from_dict(failed),
        ]
    )
    # Usage: an earlier turn (100 in) plus a partial snapshot of this one (10 in) the panel saved.
    nb.metadata["nbchat"] = {
        "usage": {
            "input_tokens": 110, "output_tokens": 11, "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0, "cost_usd": 0.5, "turns": 2,
            "last_turn_id": turn_id,
            "last_turn": {
                "input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0, "cost_usd": 0.1,
            },
        }
    }
    nbformat.write(nb, tmp_path / "t.ipynb")
    events = [
        {"type": "turn_started", "question": "Divide?", "question_answer_cells": True},
        usage_event(10, 1, 0.1),
        usage_event(30, 3, 0.3),
    ]
    for _ in range(2):  # writing the same turn again changes nothing
        await notebook.append_cells(cm, "t.ipynb", [question, fixed, answer], turn_id, events)

    saved = nbformat.read(tmp_path / "t.ipynb", as_version=4)
    nbformat.validate(saved)
    assert [c.source for c in saved.cells] == [
        "x = 1", "old = 1", "**Question** (edited)", "1/1", "**Answer**\n\nIt is 1."
    ]
    assert [c.id for c in saved.cells[2:]] == [question["id"], fixed["id"], answer["id"]]
    usage = saved.metadata["nbchat"]["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["turns"]) == (130, 13, 2)
    assert usage["cost_usd"] == pytest.approx(0.7)
    assert usage["last_turn"]["input_tokens"] == 30


async def test_append_cells_recreates_a_deleted_notebook_and_records_a_turn_once(tmp_path):
    cm = FileContentsManager(root_dir=str(tmp_path))
    turn_id = "c" * 32
    cell = notebook.code_cell(turn_id, "print(2)", [], 1, "toolu_1")
    events = [
        {"type": "turn_started", "question": "Two?", "question_answer_cells": False},
        {"type": "cell_started", "cell": {**cell, "outputs": []}, "replaces": None},
        {"type": "cell", "role": "code", "cell": cell, "replaces": None},
        {"type": "answer", "text": "2"},
        usage_event(5, 1, 0.01),
    ]
    for _ in range(2):
        await notebook.append_cells(cm, "gone.ipynb", [cell], turn_id, events)
    saved = nbformat.read(tmp_path / "gone.ipynb", as_version=4)
    assert [c.source for c in saved.cells] == ["print(2)"]
    chat = saved.metadata["nbchat"]
    (record,) = chat["turns"]
    assert (record["turn_id"], record["question"], record["answer"]) == (turn_id, "Two?", "2")
    assert record["question_answer_cells"] is False
    assert [c["id"] for c in record["cells"]] == [cell["id"]]
    assert (chat["usage"]["input_tokens"], chat["usage"]["turns"]) == (5, 1)
