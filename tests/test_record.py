"""The record (metadata.nbchat), folded by the server alone: what turns send, what the file
keeps, and the settings changes of POST nbchat/record."""

import json

import nbformat
import pytest

from jupyter_nbchat import notebook
from jupyter_nbchat.llm.context import history_messages
from jupyter_nbchat.models import NotebookCell
from jupyter_nbchat.record import fold_turn, read_record, source_sha256, turn_records
from jupyter_nbchat.testing.plugin import of_type

TURN = "d" * 32


def usage(input_tokens, cost):
    return {"type": "usage", "input_tokens": input_tokens, "output_tokens": 1, "cost_usd": cost}


# -- the fold, as pure functions ----------------------------------------------------------


def test_a_turn_folded_twice_is_counted_once():
    question = notebook.question_cell(TURN, "Divide?")
    failed = notebook.code_cell(TURN, "1/0", [], 1, "toolu_1")
    fixed = notebook.code_cell(TURN, "1/1", [], 2, "toolu_2")
    events = [
        {"type": "turn_started", "question": "Divide?", "question_answer_cells": True},
        {"type": "cell", "role": "question", "cell": question},
        {"type": "manifest", "files": [{"path": "a.csv", "size": 3, "sha256": "ab", "name": "a.csv"}], "prompt": "", "level": "schema"},
        {"type": "executor_state", "executor": "e2b", "state": {"sandbox_id": "sbx"}},
        usage(10, 0.1),
        {"type": "cell_started", "cell": failed, "replaces": None},
        {"type": "cell", "role": "code", "cell": failed, "replaces": None},
        usage(30, 0.3),
        {"type": "cell_started", "cell": fixed, "replaces": failed["id"]},
        {"type": "cell", "role": "code", "cell": fixed, "replaces": failed["id"]},
        {"type": "answer", "text": "It is 1."},
        {"type": "turn_finished", "status": "done"},
    ]
    earlier = {"usage": {"input_tokens": 100, "output_tokens": 1, "cost_usd": 1.0, "turns": 1, "last_turn_id": "x"}}
    once = fold_turn(read_record(earlier), TURN, events)
    twice = fold_turn(once, TURN, events)
    assert once == twice
    assert (once["usage"]["input_tokens"], once["usage"]["turns"]) == (130, 2)
    assert once["usage"]["cost_usd"] == pytest.approx(1.3)
    assert once["attachments"] == [{"path": "a.csv", "size": 3, "sha256": "ab", "summary": events[2]["files"][0]}]
    assert once["context_level"] == "schema"
    assert once["executor_state"] == {"executor": "e2b", "state": {"sandbox_id": "sbx"}}
    (turn,) = once["turns"]
    assert (turn["question"], turn["answer"], turn["status"]) == ("Divide?", "It is 1.", "done")
    assert turn["cells"] == [
        {"id": question["id"], "role": "question", "sha256": source_sha256(question["source"])},
        {"id": fixed["id"], "role": "code", "sha256": source_sha256("1/1")},
    ]
    assert turn["replaced"] == [{"by": fixed["id"], "source": "1/0"}]
    assert (turn["restore"], turn["skipped"]) == ([], [])
    assert read_record(earlier) == {**earlier, "attachments": [], "context_level": "headers", "turns": []}  # untouched


def test_review_chains_keep_the_failed_code_and_skips():
    failed = notebook.code_cell(TURN, "1/0", [], 1, "toolu_1")
    proposal = notebook.code_cell(TURN, "1/1", [], None, "toolu_2")
    ran = notebook.code_cell(TURN, "1/1  # edited", [], 2, "toolu_2")
    skipped = notebook.code_cell(TURN, "2/0", [], None, "toolu_3")
    retried = notebook.code_cell(TURN, "2/1", [], None, "toolu_4")
    events = [
        {"type": "turn_started", "question": "q", "question_answer_cells": False},
        {"type": "cell_started", "cell": failed, "replaces": None},
        {"type": "cell", "role": "code", "cell": failed, "replaces": None},
        {"type": "cell_proposed", "cell": proposal, "replaces": failed["id"], "tool_use_id": "toolu_2"},
        {"type": "cell_started", "cell": ran, "replaces": proposal["id"]},
        {"type": "cell", "role": "code", "cell": ran, "replaces": proposal["id"]},
        {"type": "cell_proposed", "cell": skipped, "replaces": None, "tool_use_id": "toolu_3"},
        {"type": "cell_skipped", "cell_id": skipped["id"]},
        {"type": "cell_proposed", "cell": retried, "replaces": ran["id"], "tool_use_id": "toolu_4"},
        {"type": "cell_skipped", "cell_id": retried["id"]},  # the cell it stood in for comes back
    ]
    (turn,) = fold_turn(read_record(None), TURN, events)["turns"]
    assert [c["id"] for c in turn["cells"]] == [ran["id"]]
    assert turn["cells"][0]["sha256"] == source_sha256("1/1  # edited")
    assert turn["replaced"] == [{"by": ran["id"], "source": "1/0"}]
    assert turn["skipped"] == [{"tool_use_id": "toolu_3", "source": "2/0"}, {"tool_use_id": "toolu_4", "source": "2/1"}]


def test_reading_is_tolerant():
    raw = {
        "attachments": [{"path": "a.csv"}, "junk", {"size": 1}],
        "context_level": "everything",
        "executor": "gpu",
        "executor_state": "nope",
        "usage": [],
        "turns": [{"turn_id": "t1", "question": 3, "cells": "x"}, {"question": "no id"}, None],
        "mine": {"kept": True},
    }
    chat = read_record(raw, "sample")
    assert chat == {"attachments": [{"path": "a.csv"}], "context_level": "sample", "turns": [raw["turns"][0]], "mine": {"kept": True}}
    (turn,) = turn_records(chat)
    assert (turn.turn_id, turn.question, turn.cells, turn.question_answer_cells) == ("t1", "", [], False)
    assert read_record("garbage") == {"attachments": [], "context_level": "headers", "turns": []}


def test_older_answer_cells_without_text_still_read():
    cells = [
        NotebookCell(cell_type="markdown", source="**Question**", metadata={"nbchat": {"turn_id": "t", "role": "question", "text": "Q?"}}),
        NotebookCell(cell_type="markdown", source="Plain old answer", metadata={"nbchat": {"turn_id": "t", "role": "answer"}}),
    ]
    messages, _ = history_messages(cells)
    assert messages[1]["content"][0]["text"].endswith("Answer:\nPlain old answer")


# -- turns carry and save the record ------------------------------------------------------


async def test_every_turn_records_itself_and_sends_the_record(nbchat, claude_standin, notebook_path, jp_root_dir):
    (jp_root_dir / "shoes.csv").write_text("size\n40\n41\n")
    claude_standin.script(
        claude_standin.code("print(1)", usage={"input_tokens": 100, "output_tokens": 10}),
        claude_standin.text("One.", usage={"input_tokens": 50, "output_tokens": 5}),
    )
    events = await nbchat.ask(notebook_path, "One?", attachments=["shoes.csv"])
    carrying = {e["type"] for e in events if "record" in e}
    assert carrying <= {
        "turn_started", "manifest", "executor_state", "provenance", "usage", "cell_started", "cell",
        "cell_proposed", "cell_skipped", "answer", "turn_finished", "record",
    }
    record = events[-1]["record"]  # the log keeps the newest record only
    assert record["attachments"][0]["path"] == "shoes.csv"
    assert record["attachments"][0]["summary"]["tables"][0]["columns"] == ["size"]
    assert record["executor_state"]["executor"] == "kernel"
    assert (record["usage"]["input_tokens"], record["usage"]["turns"]) == (150, 1)
    (turn,) = record["turns"]
    cells = of_type(events, "cell")
    assert turn["turn_id"] == events[0]["turn_id"] and turn["status"] == "done"
    assert (turn["question"], turn["answer"], turn["question_answer_cells"]) == ("One?", "One.", True)
    assert turn["cells"] == [
        {"id": c["cell"]["id"], "role": c["role"], "sha256": source_sha256(c["cell"]["source"])} for c in cells
    ]
    # The next turn starts from the record the browser sends, and counts itself once more.
    claude_standin.script(claude_standin.text("Two.", usage={"input_tokens": 10, "output_tokens": 1}))
    cells_now = [c["cell"] for c in cells]
    events = await nbchat.ask(notebook_path, "Two?", record=record, cells=cells_now, question_answer_cells=False)
    record = events[-1]["record"]
    assert [t["question"] for t in record["turns"]] == ["One?", "Two?"]
    assert record["turns"][1]["cells"] == [] and record["turns"][1]["answer"] == "Two."
    assert (record["usage"]["input_tokens"], record["usage"]["turns"]) == (160, 2)
    # Claude read the first turn once, from its cells (the record says the same turn).
    history = claude_standin.requests[-1]["body"]["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]


async def test_a_turn_without_record_in_the_request_starts_from_the_file(nbchat, claude_standin, jp_root_dir):
    nb = nbformat.v4.new_notebook()
    nb.metadata["nbchat"] = {"context_level": "schema", "executor": "kernel", "turns": [{"turn_id": "old", "question": "Before?", "answer": "Yes."}]}
    nbformat.write(nb, jp_root_dir / "f.ipynb")
    claude_standin.script(claude_standin.text("Now."))
    events = await nbchat.ask("f.ipynb", "Now?", cells=[])
    record = events[-1]["record"]
    assert [t["turn_id"] for t in record["turns"]] == ["old", events[0]["turn_id"]]
    assert (record["context_level"], record["executor"]) == ("schema", "kernel")
    assert "Question: Before?" in str(claude_standin.requests[0]["body"]["messages"])


# -- POST nbchat/record ---------------------------------------------------------------------


async def change(nbchat, notebook_path, record, **body):
    response = await nbchat.post("record", body={"notebook_path": notebook_path, "record": record, "change": body})
    return json.loads(response.body)


async def test_record_changes_fold_attachments_level_and_executor(nbchat, notebook_path, jp_root_dir):
    (jp_root_dir / "a.csv").write_text("x,y\n1,2\n")
    (jp_root_dir / "b.csv").write_text("z\n3\n")
    answer = await change(nbchat, notebook_path, None, attach=["a.csv", "b.csv"])
    record = answer["record"]
    assert [a["path"] for a in record["attachments"]] == ["a.csv", "b.csv"]
    assert record["attachments"][0]["summary"]["tables"][0]["columns"] == ["x", "y"]
    assert '"a.csv"' in answer["prompt"] and '"b.csv"' in answer["prompt"]
    record["turns"] = [{"turn_id": "t", "question": "kept"}]  # the rest of the record is kept as is

    answer = await change(nbchat, notebook_path, record, context_level="schema")
    assert answer["record"]["context_level"] == "schema"
    assert answer["record"]["attachments"][0]["summary"]["tables"][0]["column_schema"] is not None
    assert "int64" in answer["prompt"]

    answer = await change(nbchat, notebook_path, answer["record"], detach="a.csv")
    assert [a["path"] for a in answer["record"]["attachments"]] == ["b.csv"]
    assert '"a.csv"' not in answer["prompt"]

    answer = await change(nbchat, notebook_path, answer["record"], executor="e2b")
    assert answer["record"]["executor"] == "e2b"
    assert answer["record"]["turns"] == [{"turn_id": "t", "question": "kept"}]

    answer = await change(nbchat, notebook_path, answer["record"], detach="b.csv")
    assert answer == {"record": {**answer["record"], "attachments": []}, "prompt": ""}


@pytest.mark.parametrize(
    "change, status, phrase",
    [
        ({}, 400, "exactly one"),
        ({"attach": ["a.csv"], "detach": "a.csv"}, 400, "exactly one"),
        ({"context_level": "everything"}, 400, "context_level"),
        ({"executor": "gpu"}, 400, "executor"),
        ({"attach": ["../x.csv"]}, 400, "'..'"),
        ({"attach": ["missing.csv"]}, 404, "missing.csv"),
        ({"attach": ["empty.csv"]}, 422, "empty"),
    ],
)
async def test_bad_record_changes_get_a_clear_reason(nbchat, notebook_path, jp_root_dir, change, status, phrase):
    (jp_root_dir / "empty.csv").write_text("")
    code, reply = await nbchat.error("POST", "record", body={"notebook_path": notebook_path, "record": {}, "change": change})
    assert code == status and phrase in reply["message"]


async def test_a_change_during_a_turn_reaches_its_followers_and_its_record(nbchat, claude_standin, jp_root_dir):
    (jp_root_dir / "late.csv").write_text("late\n1\n")
    claude_standin.script(claude_standin.code("import time\ntime.sleep(1.5)"), claude_standin.text("Slept."))
    turn_id = await nbchat.start_turn("during.ipynb", "Sleep", write="server")
    seen = await nbchat.events(turn_id, until="cell_started")
    answer = await change(nbchat, "during.ipynb", seen[-1]["record"], attach=["late.csv"])
    assert [t["turn_id"] for t in answer["record"]["turns"]] == [turn_id]  # the turn's own record
    rest = await nbchat.events(turn_id, after=seen[-1]["seq"])
    (event,) = of_type(rest, "record")
    assert [a["path"] for a in event["record"]["attachments"]] == ["late.csv"]
    assert event["change"]["attachments"][0]["path"] == "late.csv"
    assert [a["path"] for a in rest[-1]["record"]["attachments"]] == ["late.csv"]  # not lost later
    saved = nbformat.read(jp_root_dir / "during.ipynb", as_version=4).metadata["nbchat"]
    assert [a["path"] for a in saved["attachments"]] == ["late.csv"]
    assert saved["turns"][0]["status"] == "done"


async def test_the_executor_rerun_restores_variables_after_a_restart(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("kept = 40 + 2"), claude_standin.text("Set."))
    await nbchat.ask(notebook_path, "Set kept")
    answer = await nbchat.post(
        "executor", "rerun", body={"notebook_path": notebook_path, "codes": ["kept = 40 + 2", "doubled = kept * 2", "1/0", "never = 1"]}
    )
    assert json.loads(answer.body) == {
        "ran": 2, "failed": [{"index": 2, "ename": "ZeroDivisionError", "evalue": "division by zero"}]
    }
    variables = (await nbchat.get("variables", params={"notebook_path": notebook_path}))["variables"]
    assert sorted(v["name"] for v in variables) == ["doubled", "kept"]  # restarted: `never` never ran

    answer = await nbchat.post("executor", "rerun", body={"notebook_path": notebook_path, "codes": []})
    assert json.loads(answer.body) == {"ran": 0, "failed": []}
    assert (await nbchat.get("variables", params={"notebook_path": notebook_path}))["variables"] == []


async def test_rerun_needs_an_executor_and_no_running_turn(nbchat, claude_standin, notebook_path):
    code, reply = await nbchat.error("POST", "executor", "rerun", body={"notebook_path": "never.ipynb", "codes": []})
    assert code == 400 and "no executor" in reply["message"]
    claude_standin.script(claude_standin.code("import time\ntime.sleep(1)"), claude_standin.text("ok"))
    turn_id = await nbchat.start_turn(notebook_path, "sleep")
    await nbchat.events(turn_id, until="cell_started")
    code, reply = await nbchat.error("POST", "executor", "rerun", body={"notebook_path": notebook_path, "codes": ["1"]})
    assert code == 409
    await nbchat.events(turn_id)
