"""E2B chats that survive restarts and crashes: one path to a ready sandbox (reconnect or
create, upload, re-run the chat's cells), the notebook recording the sandbox in use, no
orphans, and execution counts 1, 2, 3 … whatever runs hidden in between."""

import asyncio
import json
from pathlib import Path

import nbformat
import pytest

from jupyter_nbchat.errors import ExecutorUnavailable
from jupyter_nbchat.execution import E2BExecutor
from jupyter_nbchat.execution import e2b as e2b_module
from jupyter_nbchat.testing.plugin import of_type

DATA = "Gender\nmen\nwomen\nwomen\n"
LOAD = "import pandas as pd\ndf = pd.read_csv('data.csv')"


@pytest.fixture
def nbchat_config(e2b_standin):
    return {"e2b_api_key": e2b_standin.sdk_kwargs()["api_key"]}


@pytest.fixture
def app(jp_serverapp):
    return next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_nbchat"]))


def code_cells(events):
    return [e["cell"] for e in of_type(events, "cell") if e["role"] == "code"]


def recorded_sandbox(jp_root_dir, name):
    nb = nbformat.reads((jp_root_dir / name).read_text(), as_version=4)
    return nb.metadata["nbchat"]["executor_state"]["state"]["sandbox_id"]


async def load_then_restart(nbchat, claude_standin, app, jp_root_dir, name):
    """A turn that loads `df` from the attached file, then a clean server shutdown (its
    sandbox killed) and a new server: no executor in memory. Returns the record's state."""
    (jp_root_dir / "data.csv").write_text(DATA)
    claude_standin.script(claude_standin.code(LOAD), claude_standin.text("Loaded."))
    await nbchat.ask(name, "Load it", write="server", attachments=["data.csv"])
    for executor in app.turns.executors.values():
        await executor.close()
    app.turns.executors.clear()
    app.turns._preparing.clear()
    return {"sandbox_id": recorded_sandbox(jp_root_dir, name)}


async def test_after_a_restart_warm_rebuilds_the_chats_variables(nbchat, claude_standin, e2b_standin, app, jp_root_dir):
    state = await load_then_restart(nbchat, claude_standin, app, jp_root_dir, "w.ipynb")

    # The panel reopens the notebook: it warms the chat up with its attachments.
    body = {"notebook_path": "w.ipynb", "attachments": ["data.csv"], **state}
    await nbchat.post("executor", "warm", body=body)
    await app.turns._preparing["w.ipynb"]
    variables = (await nbchat.get("variables", params={"notebook_path": "w.ipynb"}))["variables"]
    assert "df" in [v["name"] for v in variables]  # Claude is told df exists, and it does

    claude_standin.script(claude_standin.code("print(len(df))"), claude_standin.text("3 rows."))
    events = await nbchat.ask("w.ipynb", "How many rows?", write="server", attachments=["data.csv"], **state)
    assert code_cells(events)[0]["outputs"][0]["text"] == "3\n"
    notice = " ".join(e["text"] for e in of_type(events, "notice"))
    assert "re-uploaded 1 file and re-ran 1 earlier cell" in notice and "failed" not in notice


async def test_a_replaced_sandbox_gets_its_files_before_the_cells_re_run(nbchat, claude_standin, e2b_standin, app, jp_root_dir):
    state = await load_then_restart(nbchat, claude_standin, app, jp_root_dir, "f.ipynb")

    claude_standin.script(claude_standin.code("print(len(df))"), claude_standin.text("3 rows."))
    events = await nbchat.ask("f.ipynb", "How many rows?", write="server", attachments=["data.csv"], **state)
    assert code_cells(events)[0]["outputs"][0]["text"] == "3\n"
    notice = " ".join(e["text"] for e in of_type(events, "notice"))
    assert "re-ran 1 earlier cell" in notice and "failed this time" not in notice


async def test_the_notebook_records_the_sandbox_that_replaced_a_dead_one(nbchat, claude_standin, e2b_standin, jp_root_dir):
    claude_standin.script(claude_standin.code("answer = 42"), claude_standin.text("Set."))
    events = await nbchat.ask("d.ipynb", "Set", write="server")
    dead = of_type(events, "executor_state")[-1]["state"]["sandbox_id"]
    await e2b_standin.kill_sandbox(dead)

    claude_standin.script(claude_standin.code("print(answer)"), claude_standin.text("42."))
    events = await nbchat.ask("d.ipynb", "Print", write="server")
    assert code_cells(events)[0]["outputs"][0]["text"] == "42\n"
    (live,) = e2b_standin.sandboxes
    assert live != dead
    assert of_type(events, "executor_state")[-1]["state"]["sandbox_id"] == live
    assert events[-1]["record"]["executor_state"]["state"]["sandbox_id"] == live
    assert recorded_sandbox(jp_root_dir, "d.ipynb") == live


async def test_a_started_server_kills_only_its_own_orphans(nbchat, claude_standin, e2b_standin, app, jp_root_dir):
    claude_standin.script(claude_standin.code("x = 1"), claude_standin.text("ok"))
    recorded = of_type(await nbchat.ask("kept.ipynb", "x", write="server"), "executor_state")[-1]["state"]["sandbox_id"]
    # Warm-ups start sandboxes no notebook records: the page went away, the server crashed.
    await nbchat.post("executor", "warm", body={"notebook_path": "lost.ipynb"})
    await app.turns._preparing["lost.ipynb"]
    orphan = app.turns.executors["lost.ipynb"].state()["sandbox_id"]
    # Another server's sandbox (same E2B key, e.g. another user of a hub) and one not ours.
    other = E2BExecutor(
        api_key=app.e2b_api_key,
        notebook_dir=jp_root_dir,
        sdk_options=e2b_standin.sdk_kwargs(),
        metadata={"instance": "another-server", "notebook": "kept.ipynb"},
    )
    await other.ensure_ready()
    app.turns.executors.clear()  # the crash: nothing closed
    app.turns._preparing.clear()

    assert await app.turns.kill_orphans() == [orphan]
    assert set(e2b_standin.sandboxes) == {recorded, other.state()["sandbox_id"]}
    assert await app.turns.kill_orphans() == []  # idempotent
    mine = [s for s in e2b_standin.sandboxes.values() if s.metadata.get("instance") == app.instance_id]
    assert [s.metadata["notebook"] for s in mine] == ["kept.ipynb"]  # at most one per chat
    await other.close()


async def test_the_instance_id_is_kept_for_the_next_server(app):
    kept = (Path(app.data_dir) / "jupyter_nbchat" / "instance_id").read_text()
    assert kept == app.instance_id and len(kept) == 32


async def test_execution_counts_are_1_2_3_on_both_executors(nbchat, claude_standin, e2b_standin):
    for executor, name in (("e2b", "counts-e2b.ipynb"), ("kernel", "counts-kernel.ipynb")):
        # Every cell is followed by hidden runs: result checks, the variables list.
        claude_standin.script(
            claude_standin.code("a = 1"), claude_standin.code("b = 2"), claude_standin.code("print(a + b)"), claude_standin.text("3.")
        )
        first = await nbchat.ask(name, "Add", write="server", executor=executor)
        claude_standin.script(claude_standin.code("print(a * b)"), claude_standin.text("2."))
        second = await nbchat.ask(name, "Multiply", write="server", executor=executor)
        counts = [c["execution_count"] for c in code_cells(first) + code_cells(second)]
        assert counts == [1, 2, 3, 4], executor
        live = [e["execution_count"] for e in of_type(first, "cell_outputs")]
        assert all(n in (1, 2, 3) for n in live), executor


async def test_a_new_server_numbers_on_from_the_notebook(nbchat, claude_standin, e2b_standin, app, jp_root_dir):
    state = await load_then_restart(nbchat, claude_standin, app, jp_root_dir, "n.ipynb")
    claude_standin.script(claude_standin.code("print(len(df))"), claude_standin.text("3."))
    events = await nbchat.ask("n.ipynb", "Rows", write="server", attachments=["data.csv"], **state)
    assert code_cells(events)[0]["execution_count"] == 2


async def test_a_sandbox_that_fails_to_start_is_retried_before_the_person_hears(e2b_standin, jp_root_dir, monkeypatch):
    monkeypatch.setattr(e2b_module, "START_BACKOFF", 0.05)

    def executor():
        return E2BExecutor(api_key=e2b_standin.api_key, notebook_dir=jp_root_dir, sdk_options=e2b_standin.sdk_kwargs())

    e2b_standin.faults.create_failures = 2  # two 500s, then fine
    passing = executor()
    await passing.ensure_ready()  # one call: the retries are inside it
    assert e2b_standin.stats.create_requests == 3 and e2b_standin.stats.creates == 1
    await passing.close()

    e2b_standin.faults.create_status = 503  # busy for longer than the retries last
    with pytest.raises(ExecutorUnavailable, match="E2B is busy") as failed:
        await executor().ensure_ready()
    assert "choose the local kernel" in str(failed.value)
    assert e2b_standin.stats.create_requests - 3 >= e2b_module.START_ATTEMPTS

    before = e2b_standin.stats.create_requests
    e2b_standin.faults.create_status = 401  # a refusal is not retried
    with pytest.raises(ExecutorUnavailable, match="rejected the API key"):
        await executor().ensure_ready()
    assert e2b_standin.stats.create_requests - before < e2b_module.START_ATTEMPTS


async def test_rich_outputs_keep_their_mime_types(nbchat, claude_standin, e2b_standin):
    figure = {"data": [{"type": "bar", "x": ["men", "women"], "y": [1, 2]}], "layout": {}}
    code = (
        "from IPython.display import display, HTML, Latex\n"
        f"display({{'application/vnd.plotly.v1+json': {json.dumps(figure)}, 'text/plain': 'Figure'}}, raw=True)\n"
        "display(HTML('<table><tr><td>1</td></tr></table>'))\n"
        "display(Latex(r'$x^2$'))"
    )
    claude_standin.script(claude_standin.code(code), claude_standin.text("Drawn."))
    events = await nbchat.ask("rich.ipynb", "Draw", write="server")
    mimes = [sorted(o["data"]) for o in code_cells(events)[0]["outputs"]]
    assert mimes == [["application/vnd.plotly.v1+json", "text/plain"], ["text/html", "text/plain"], ["text/latex", "text/plain"]]
    assert code_cells(events)[0]["outputs"][0]["data"]["application/vnd.plotly.v1+json"] == figure


async def test_clear_output_and_display_updates_look_the_same_on_both_executors(nbchat, claude_standin, e2b_standin):
    code = (
        "from IPython.display import clear_output, display\n"
        "for i in range(3):\n"
        "    clear_output(wait=True)\n"
        "    print(f'step {i}')\n"
        "handle = display('draft', display_id=True)\n"
        "handle.update('final')\n"
        "print('done')"
    )
    seen = {}
    for executor in ("kernel", "e2b"):
        claude_standin.script(claude_standin.code(code), claude_standin.text("Done."))
        events = await nbchat.ask(f"bridge-{executor}.ipynb", "Show progress", write="server", executor=executor)
        seen[executor] = [
            (o["output_type"], o.get("text") or o.get("data", {}).get("text/plain")) for o in code_cells(events)[0]["outputs"]
        ]
    assert seen["kernel"] == [("stream", "step 2\n"), ("display_data", "'final'"), ("stream", "done\n")]
    assert seen["e2b"] == seen["kernel"]


async def test_stop_stops_an_endless_cell_at_any_moment_and_keeps_the_variables(e2b_standin, jp_root_dir):
    executor = E2BExecutor(api_key=e2b_standin.api_key, notebook_dir=jp_root_dir, sdk_options=e2b_standin.sdk_kwargs())
    try:
        await executor.run_cell("kept = 5", 60)
        restarted: list[str] = []
        # Stop lands before the request leaves, while it travels, as the cell starts, and later.
        for offset in (0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5):
            endless = asyncio.ensure_future(executor.run_cell("while True:\n    pass", 60))
            await asyncio.sleep(offset)
            endless.cancel()
            await asyncio.gather(endless, return_exceptions=True)
            after = await asyncio.wait_for(executor.run_cell("print(kept)", 60), 30)  # bounded: never hangs
            assert [o.get("text") for o in after.outputs] == ["5\n"], (offset, after.outputs)
            restarted.extend(n for n in after.notices if "did not stop when interrupted" in n)
        # Where the interrupt was lost (it landed before the cell began), the kernel was
        # restarted and the earlier cells re-run; where it was not, nothing was re-run.
        assert all("earlier cell" in n and n.endswith("re-run.") for n in restarted), restarted
    finally:
        await executor.close()


async def test_shutdown_closes_every_sandbox_at_once_and_never_waits_long(nbchat, claude_standin, e2b_standin, app, monkeypatch):
    for name in ("s1.ipynb", "s2.ipynb", "s3.ipynb"):
        claude_standin.script(claude_standin.code("x = 1"), claude_standin.text("ok"))
        await nbchat.ask(name, "x", write="server")
    assert len(e2b_standin.sandboxes) == 3
    e2b_standin.faults.kill_delay = 1.0
    await asyncio.wait_for(app.turns.close(), 30)
    assert e2b_standin.stats.most_kills_in_flight == 3  # all at once, not one after another
    assert e2b_standin.sandboxes == {}


async def test_shutdown_does_not_wait_for_a_cloud_that_does_not_answer(nbchat, claude_standin, e2b_standin, app, monkeypatch, caplog):
    from jupyter_nbchat import turn_registry

    monkeypatch.setattr(turn_registry, "CLOSE_TIMEOUT", 0.5)
    claude_standin.script(claude_standin.code("x = 1"), claude_standin.text("ok"))
    await nbchat.ask("slow.ipynb", "x", write="server")
    e2b_standin.faults.kill_delay = 60.0
    await asyncio.wait_for(app.turns.close(), 30)  # a hang fails here, not at 60 s
    assert "did not close within 0.5 s" in caplog.text
    e2b_standin.faults.kill_delay = 0.0


async def test_a_notebook_that_cannot_be_read_keeps_its_sandbox(nbchat, e2b_standin, app, jp_root_dir):
    """Read mid-save (jupyter_server rewrites the file in place) a notebook is empty for a
    moment: the sweep must not take that for "records no sandbox"."""
    await nbchat.post("executor", "warm", body={"notebook_path": "saving.ipynb"})
    await app.turns._preparing["saving.ipynb"]
    kept = app.turns.executors["saving.ipynb"].state()["sandbox_id"]
    app.turns.executors.clear()
    app.turns._preparing.clear()
    (jp_root_dir / "saving.ipynb").write_text("")  # as a save in progress leaves it
    assert await app.turns.kill_orphans() == []
    assert kept in e2b_standin.sandboxes
    (jp_root_dir / "saving.ipynb").unlink()  # gone for good: now it is an orphan
    assert await app.turns.kill_orphans() == [kept]
