"""Verify notebook: every code cell again in a fresh kernel (or sandbox), outputs compared."""

from __future__ import annotations

import asyncio
import base64
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from tornado.httpclient import HTTPClientError

from jupyter_nbchat.execution import KernelExecutor
from jupyter_nbchat.testing.e2b_standin.server import DEFAULT_API_KEY
from jupyter_nbchat.verify import compare_outputs

TURN_A = "a" * 32
TURN_B = "b" * 32


# -- compare_outputs ----------------------------------------------------------------------------


def stdout(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def result(data, output_type="execute_result"):
    return {"output_type": output_type, "data": data, "metadata": {"x": 1}, "execution_count": 3}


def error(ename, evalue):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": ["whatever"]}


PNG_A = base64.b64encode(b"\x89PNG first").decode()
PNG_B = base64.b64encode(b"\x89PNG second").decode()


def test_same_outputs_normalised_are_the_same():
    saved = [
        stdout(["a\n", "b"]),
        stdout("\n"),
        result({"text/plain": ["<Thing at 0x7f3a2b1c9d80>"], "image/png": PNG_A[:8] + "\n" + PNG_A[8:]}),
        error("KeyError", "'x'"),
    ]
    fresh = [
        stdout("a\nb\n"),  # split differently
        result(
            {"text/plain": "<Thing at 0x55d0c0ffee11>", "image/png": PNG_A},
            output_type="display_data",
        ),
        {**error("KeyError", "'x'"), "traceback": ["another traceback"]},
    ]
    assert compare_outputs(saved, fresh) == []


def test_carriage_returns_are_folded_before_comparing():
    assert compare_outputs([stdout("100%\n")], [stdout("10%\r50%\r100%\n")]) == []


def test_each_kind_of_difference_says_what_changed():
    assert compare_outputs([stdout("5\n")], [stdout("4\n")]) == ["stdout differs: saved '5', now '4'"]
    assert compare_outputs([stdout("a\nb\nc\n")], [stdout("a\nB\nc\n")]) == [
        "stdout differs at line 2: saved 'b', now 'B'"
    ]
    assert compare_outputs([result({"image/png": PNG_A})], [result({"image/png": PNG_B})]) == ["the image/png differs"]
    assert compare_outputs([result({"text/plain": "1"})], [error("KeyError", "'x'")]) == [
        "an output is missing",
        "now raises KeyError: 'x'",
    ]
    assert compare_outputs([error("ValueError", "bad")], []) == ["no longer raises ValueError: bad"]
    assert compare_outputs([], [stdout("hi\n")]) == ["new stdout: 'hi'"]
    assert compare_outputs([stdout("hi\n")], []) == ["stdout is missing now (saved 'hi')"]
    assert compare_outputs(
        [result({"text/plain": "1", "text/html": "<b>1</b>"})], [result({"text/plain": "1"})]
    ) == ["the text/html is missing now"]


def test_long_texts_are_clipped():
    [difference] = compare_outputs([stdout("x" * 500)], [stdout("y" * 500)])
    assert len(difference) < 2 * 85 + 40 and "…" in difference


# -- helpers for the server tests ----------------------------------------------------------


def write_notebook(root, path, cells, record=None):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if record is not None:
        nb.metadata["nbchat"] = record
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / path)


def code(source, *outputs, count=None):
    return new_code_cell(source, outputs=[new_output(**o) for o in outputs], execution_count=count)


def out(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def plain(text):
    return {"output_type": "execute_result", "data": {"text/plain": text}, "execution_count": 1}


def kernel_ids(jp_serverapp):
    return set(jp_serverapp.kernel_manager.list_kernel_ids())


async def new_kernel(jp_serverapp, before):
    for _ in range(600):
        started = kernel_ids(jp_serverapp) - before
        if started:
            return started
        await asyncio.sleep(0.1)
    raise AssertionError("no kernel was started")


# -- a fresh kernel ---------------------------------------------------------------------------


async def test_matching_outputs_run_fresh_beside_the_live_kernel(nbchat, jp_serverapp, jp_root_dir, jp_fetch):
    (jp_root_dir / "sub").mkdir()
    (jp_root_dir / "sub" / "data.txt").write_text("hello")
    path = "sub/a.ipynb"
    write_notebook(
        jp_root_dir,
        path,
        [
            new_markdown_cell("# Title"),
            code("print(2 + 2)", out("4\n"), count=1),
            code("   ", count=None),  # empty: skipped
            code("open('data.txt').read()", plain("'hello'"), count=2),  # the notebook's folder
            code("print(globals().get('marker', 'fresh'))", out("fresh\n"), count=3),
            code("class Thing: pass\nThing()", plain("<__main__.Thing at 0x7f00deadbeef>"), count=4),
        ],
    )
    # The notebook's own kernel, with a variable the fresh run must not see.
    session = await jp_fetch(
        "api", "sessions", method="POST",
        body=json.dumps({"path": path, "type": "notebook", "name": "a.ipynb", "kernel": {"name": "python3"}}),
    )  # fmt: skip
    live_id = json.loads(session.body)["kernel"]["id"]
    live = KernelExecutor(
        kernel_manager=jp_serverapp.kernel_manager, session_manager=jp_serverapp.session_manager, notebook_path=path
    )
    await live.run_cell("marker = 'live'", 60)
    before = kernel_ids(jp_serverapp)

    info = await nbchat.verified(await nbchat.start_verify({"notebook_path": path}))

    assert info["status"] == "done" and info["message"] is None
    assert (info["ran"], info["total"]) == (4, 4)
    report = info["report"]
    assert report["executor"] == "kernel" and report["cells"] == []
    assert (report["total"], report["same"], report["different"]) == (4, 4, 0)
    assert kernel_ids(jp_serverapp) == before  # the fresh kernel is gone
    assert live_id in before and live.kernel_id == live_id
    assert (await live.run_cell("print(marker)", 60)).outputs[0]["text"] == "live\n"  # untouched
    await live.close()


async def test_changed_outputs_are_reported_cell_by_cell(nbchat, jp_serverapp, jp_root_dir):
    cells = [
        code("print(2 + 2)", out("5\n"), count=1),  # hand-altered
        code("import random\nprint(random.random())", out("0.123\n"), count=2),
        code("d = {}\nd['x']", plain("1"), count=3),  # raises now
        code("print('same')", out("same\n"), count=4),
    ]
    write_notebook(jp_root_dir, "b.ipynb", cells)
    before = kernel_ids(jp_serverapp)

    info = await nbchat.verified(await nbchat.start_verify({"notebook_path": "b.ipynb", "executor": "kernel"}))

    report = info["report"]
    assert (report["total"], report["same"], report["different"]) == (4, 1, 3)
    by_index = {c["index"]: c for c in report["cells"]}
    assert sorted(by_index) == [0, 1, 2]
    assert by_index[0]["differences"] == ["stdout differs: saved '5', now '4'"]
    assert by_index[0]["cell_id"] == cells[0].id and by_index[0]["execution_count"] == 1
    assert by_index[1]["differences"][0].startswith("stdout differs: saved '0.123', now '0.")
    assert by_index[2]["differences"] == ["an output is missing", "now raises KeyError: 'x'"]
    assert kernel_ids(jp_serverapp) == before


async def test_answers_numbers_are_looked_up_in_the_fresh_outputs(nbchat, jp_root_dir):
    write_notebook(jp_root_dir, "c.ipynb", [])  # the browser's cells and record win over the file
    cells = [
        code("print(sum([1, 2, 3]))", out("7\n"), count=1),  # saved 7; a fresh run prints 6
        code("print(2 + 2)", out("4\n"), count=2),
    ]
    record = {
        "turns": [
            {"turn_id": TURN_A, "question": "What is the sum?", "answer": "The sum is 7."},
            {"turn_id": TURN_B, "question": "And the other one?", "answer": "The result is 4."},
            {"turn_id": "c" * 32, "question": "Unanswered", "status": "cancelled"},
        ]
    }
    body = {"notebook_path": "c.ipynb", "cells": [dict(c) for c in cells], "record": record}

    report = (await nbchat.verified(await nbchat.start_verify(body)))["report"]

    assert [c["index"] for c in report["cells"]] == [0]
    answers = {a["turn_id"]: a for a in report["answers"]}
    assert set(answers) == {TURN_A, TURN_B}
    assert answers[TURN_A] == {"turn_id": TURN_A, "question": "What is the sum?", "checked": 1, "missing": ["7"]}
    assert answers[TURN_B]["checked"] == 1 and answers[TURN_B]["missing"] == []


async def test_cancel_stops_the_run_and_shuts_the_kernel_down(nbchat, jp_serverapp, jp_root_dir, jp_fetch):
    write_notebook(jp_root_dir, "slow.ipynb", [code("import time\ntime.sleep(600)"), code("print(1)")])
    before = kernel_ids(jp_serverapp)
    verify_id = await nbchat.start_verify({"notebook_path": "slow.ipynb"})
    await new_kernel(jp_serverapp, before)

    response = await jp_fetch("nbchat", "verify", verify_id, method="DELETE")

    assert response.code == 204
    info = await nbchat.get("verify", verify_id)
    assert info["status"] == "cancelled" and info["report"] is None and info["ran"] == 0
    assert kernel_ids(jp_serverapp) == before
    # The notebook may be verified again at once.
    again = await nbchat.start_verify({"notebook_path": "slow.ipynb"})
    await jp_fetch("nbchat", "verify", again, method="DELETE")
    assert (await nbchat.get("verify", again))["status"] == "cancelled"


async def test_bad_requests_are_clear_json_errors(nbchat, jp_serverapp, jp_root_dir, jp_fetch):
    code_, reply = await nbchat.error("POST", "verify", body={"notebook_path": "missing.ipynb"})
    assert code_ == 404 and "missing.ipynb" in reply["message"]

    with pytest.raises(HTTPClientError) as info:
        await nbchat.post("verify", raw=b"{not json")
    assert info.value.code == 400 and "Invalid request" in json.loads(info.value.response.body)["message"]
    write_notebook(jp_root_dir, "busy.ipynb", [code("import time\ntime.sleep(600)")])
    code_, reply = await nbchat.error("POST", "verify", body={"notebook_path": "busy.ipynb", "executor": "gpu"})
    assert code_ == 400 and "executor" in reply["message"]
    code_, reply = await nbchat.error("POST", "verify", body={"notebook_path": "busy.ipynb", "executor": "e2b"})
    assert code_ == 400 and "E2B_API_KEY" in reply["message"]

    before = kernel_ids(jp_serverapp)
    verify_id = await nbchat.start_verify({"notebook_path": "busy.ipynb"})
    code_, reply = await nbchat.error("POST", "verify", body={"notebook_path": "busy.ipynb"})
    assert code_ == 409 and "already being verified" in reply["message"]
    await jp_fetch("nbchat", "verify", verify_id, method="DELETE")
    assert kernel_ids(jp_serverapp) == before

    code_, reply = await nbchat.error("GET", "verify", "0" * 32)
    assert code_ == 404 and "No verification" in reply["message"]
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("nbchat", "verify", "0" * 32, method="DELETE")
    assert info.value.code == 404


async def test_a_kernel_that_cannot_start_ends_the_job_with_a_reason(nbchat, jp_serverapp, jp_root_dir):
    write_notebook(jp_root_dir, "odd.ipynb", [code("print(1)", out("1\n"))])
    nb = nbformat.read(jp_root_dir / "odd.ipynb", as_version=4)
    nb.metadata["kernelspec"]["name"] = "no-such-kernel"
    nbformat.write(nb, jp_root_dir / "odd.ipynb")
    before = kernel_ids(jp_serverapp)

    info = await nbchat.verified(await nbchat.start_verify({"notebook_path": "odd.ipynb"}))

    assert info["status"] == "error" and info["report"] is None
    assert "no-such-kernel" in info["message"]
    assert kernel_ids(jp_serverapp) == before


async def test_server_shutdown_stops_running_verifications(nbchat, jp_serverapp, jp_root_dir):
    write_notebook(jp_root_dir, "long.ipynb", [code("import time\ntime.sleep(600)")])
    before = kernel_ids(jp_serverapp)
    verify_id = await nbchat.start_verify({"notebook_path": "long.ipynb"})
    await new_kernel(jp_serverapp, before)
    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_nbchat"]))

    await app.verifications.close()

    assert app.verifications.get(verify_id).status == "cancelled"
    assert kernel_ids(jp_serverapp) == before


# -- a fresh sandbox --------------------------------------------------------------------------


@pytest.mark.parametrize("nbchat_config", [{"e2b_api_key": DEFAULT_API_KEY}])
async def test_e2b_verifies_in_a_new_sandbox_killed_afterwards(nbchat, e2b_standin, jp_root_dir):
    (jp_root_dir / "data").mkdir()
    (jp_root_dir / "data" / "shoes.csv").write_text("Gender\nmen\nwomen\nwomen\n")
    cells = [
        code("print(open('data/shoes.csv').read().count('women'))", out("2\n"), count=1),
        code("open('written.txt', 'w').write('x')\nprint('wrote')", out("wrote\n"), count=2),
        code("print(3 * 3)", out("10\n"), count=3),
    ]
    record = {"executor": "e2b", "attachments": [{"path": "data/shoes.csv"}]}
    write_notebook(jp_root_dir, "e.ipynb", cells, record=record)

    info = await nbchat.verified(await nbchat.start_verify({"notebook_path": "e.ipynb"}))

    assert info["status"] == "done", info["message"]
    report = info["report"]
    assert report["executor"] == "e2b" and (report["same"], report["different"]) == (2, 1)
    assert report["cells"][0]["differences"] == ["stdout differs: saved '10', now '9'"]
    assert e2b_standin.stats.creates == 1 and e2b_standin.stats.kills == 1
    assert not e2b_standin.sandboxes
    assert not (jp_root_dir / "written.txt").exists()  # nothing copied back
