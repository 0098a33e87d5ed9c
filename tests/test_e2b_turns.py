"""Whole turns in an E2B sandbox: the real anthropic and e2b SDKs against both stand-ins."""

import pytest

from jupyter_nbchat.testing.plugin import of_type
from test_live_cells import TICKS, assert_live


@pytest.fixture
def nbchat_config(e2b_standin):
    return {"e2b_api_key": e2b_standin.sdk_kwargs()["api_key"]}


def code_cells(events):
    return [e["cell"] for e in of_type(events, "cell") if e["role"] == "code"]


async def test_e2b_is_the_default_with_a_key_and_runs_the_turn(nbchat, claude_standin, e2b_standin, jp_root_dir):
    status = await nbchat.get("status")
    assert status["executor"] == "e2b" and status["e2b_available"] is True
    (jp_root_dir / "data").mkdir()
    (jp_root_dir / "data" / "shoes.csv").write_text("Gender\nmen\nwomen\nwomen\n")
    claude_standin.script(
        claude_standin.code("import pandas as pd\nshoes = pd.read_csv('data/shoes.csv')\nprint(shoes['Gender'].value_counts().to_dict())"),
        claude_standin.text("2 women, 1 man."),
    )
    events = await nbchat.ask("chat.ipynb", "Count", attachments=["data/shoes.csv"], write="server")
    assert code_cells(events)[0]["outputs"][0]["text"] == "{'women': 2, 'men': 1}\n"
    state = of_type(events, "executor_state")[0]
    assert state["executor"] == "e2b" and state["state"]["sandbox_id"] in e2b_standin.sandboxes
    assert e2b_standin.stats.creates == 1
    sandbox_id = state["state"]["sandbox_id"]
    uploaded = e2b_standin.stats.bytes_uploaded[sandbox_id]
    assert uploaded >= (jp_root_dir / "data" / "shoes.csv").stat().st_size

    # Second turn: same sandbox, same variables, nothing uploaded again.
    claude_standin.script(claude_standin.code("print(len(shoes))"), claude_standin.text("3 rows."))
    events = await nbchat.ask("chat.ipynb", "How many rows?", attachments=["data/shoes.csv"], write="server")
    assert code_cells(events)[0]["outputs"][0]["text"] == "3\n"
    assert e2b_standin.stats.creates == 1
    assert e2b_standin.stats.bytes_uploaded[sandbox_id] == uploaded


async def test_files_a_cell_writes_come_back_next_to_the_notebook(nbchat, claude_standin, jp_root_dir):
    (jp_root_dir / "work").mkdir()
    claude_standin.script(
        claude_standin.code("import os\nos.makedirs('out', exist_ok=True)\nopen('out/summary.txt', 'w').write('men: 1')"),
        claude_standin.text("Wrote out/summary.txt."),
    )
    events = await nbchat.ask("work/a.ipynb", "Save a summary", write="server")
    changed = of_type(events, "files_changed")[0]["files"]
    assert changed == [{"path": "work/out/summary.txt", "size": 6, "copied": True, "reason": ""}]
    assert (jp_root_dir / "work" / "out" / "summary.txt").read_text() == "men: 1"


async def test_a_dead_sandbox_is_replaced_and_the_chat_rebuilt(nbchat, claude_standin, e2b_standin, jp_root_dir):
    claude_standin.script(claude_standin.code("answer = 41 + 1"), claude_standin.text("Set."))
    events = await nbchat.ask("r.ipynb", "Set answer", write="server")
    sandbox_id = of_type(events, "executor_state")[0]["state"]["sandbox_id"]
    await e2b_standin.kill_sandbox(sandbox_id)

    claude_standin.script(claude_standin.code("print(answer)"), claude_standin.text("42."))
    events = await nbchat.ask("r.ipynb", "Print it", write="server")
    assert code_cells(events)[0]["outputs"][0]["text"] == "42\n"
    notice = of_type(events, "notice")[0]["text"]
    assert "started a new one" in notice and "re-ran 1 earlier cell" in notice
    assert e2b_standin.stats.creates == 2


async def test_a_restarted_server_reconnects_by_sandbox_id(nbchat, claude_standin, e2b_standin, jp_serverapp, jp_root_dir):
    (jp_root_dir / "big.csv").write_text("a,b\n" + "1,2\n" * 50_000)
    (jp_root_dir / "changed.csv").write_text("a\n1\n")
    claude_standin.script(claude_standin.code("kept = 'here'"), claude_standin.text("ok"))
    events = await nbchat.ask("c.ipynb", "Keep", write="server", attachments=["big.csv", "changed.csv"])
    state = of_type(events, "executor_state")[0]["state"]
    uploaded = e2b_standin.stats.bytes_uploaded[state["sandbox_id"]]
    # Forget the executor, as a restarted server would have.
    registry = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_nbchat"])).turns
    registry.executors.clear()
    registry._preparing.clear()
    (jp_root_dir / "changed.csv").write_text("a\n2\n")
    claude_standin.script(claude_standin.code("print(kept, open('changed.csv').read().split()[1])"), claude_standin.text("here"))
    events = await nbchat.ask("c.ipynb", "Still there?", write="server", attachments=["big.csv", "changed.csv"], **state)
    assert code_cells(events)[0]["outputs"][0]["text"] == "here 2\n"
    assert e2b_standin.stats.creates == 1
    # The reconnected sandbox already had big.csv: only the changed file travelled again.
    assert e2b_standin.stats.bytes_uploaded[state["sandbox_id"]] - uploaded == (jp_root_dir / "changed.csv").stat().st_size


async def test_idle_sandboxes_are_closed(nbchat, claude_standin, e2b_standin, jp_serverapp):
    claude_standin.script(claude_standin.code("x = 1"), claude_standin.text("ok"))
    await nbchat.ask("i.ipynb", "x", write="server")
    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_nbchat"]))
    assert await app.turns.close_idle() == []  # used a moment ago: kept
    app.e2b_idle_timeout = 0.0
    assert await app.turns.close_idle() == ["i.ipynb"]
    assert e2b_standin.stats.kills == 1 and app.turns.executors == {}


async def test_a_chat_may_choose_the_local_kernel(nbchat, claude_standin, e2b_standin, notebook_path):
    claude_standin.script(claude_standin.code("import os; print(os.getpid() > 0)"), claude_standin.text("ok"))
    events = await nbchat.ask(notebook_path, "Where?", executor="kernel")
    assert of_type(events, "executor_state")[0]["executor"] == "kernel"
    assert e2b_standin.stats.creates == 0


async def test_outputs_arrive_while_the_sandbox_runs_the_cell(nbchat, claude_standin, e2b_standin):
    """The sandbox streams stdout as the kernel prints it; the turn passes it on live."""
    claude_standin.script(claude_standin.code(TICKS), claude_standin.text("Five ticks."))
    events = await nbchat.ask("live.ipynb", "Tick", write="server")
    assert_live(events)
    assert of_type(events, "executor_state")[0]["executor"] == "e2b"
