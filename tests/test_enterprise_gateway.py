"""Kernels on a real Jupyter Enterprise Gateway (3.3.0, its local launcher, token auth).

The gateway runs from its own virtualenv (.venv-eg, made by scripts/setup_gateway.sh: it pins
an older jupyter_server) in a folder of its own, so its kernels do not share the server's
disk, as on a cluster: the attachments must reach the kernel through the kernel, and what a
cell writes must come back the same way.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from jupyter_client.session import Session
from jupyter_server.gateway.gateway_client import GatewayClient

from bench.harness import EG_VENV, EnterpriseGateway
from jupyter_nbchat.execution import KernelExecutor
from jupyter_nbchat.testing.plugin import STANDIN_API_KEY, of_type

pytestmark = pytest.mark.timeout(600)

#: The one user the gateway lets start kernels.
ANALYST = "analyst"


@pytest.fixture
def enterprise_gateway(tmp_path):
    """The real Enterprise Gateway on loopback, in its own working directory."""
    home = tmp_path / "gateway_home"
    home.mkdir()
    gateway = EnterpriseGateway(home, ANALYST)
    try:
        gateway.wait_ready()
        yield {"url": gateway.url, "token": gateway.token, "home": home, "kernels": gateway.kernels}
    finally:
        gateway.stop()


@pytest.fixture
def jp_server_config(claude_standin, enterprise_gateway, monkeypatch):
    monkeypatch.setenv("KERNEL_USERNAME", ANALYST)  # how a server tells the gateway its user
    GatewayClient.clear_instance()  # a process-wide singleton: start fresh, leave none behind
    yield {
        "ServerApp": {"jpserver_extensions": {"jupyter_nbchat": True}},
        "GatewayClient": {
            "url": enterprise_gateway["url"],
            "auth_token": enterprise_gateway["token"],
            "request_timeout": 120.0,
        },
        "NbChat": {"anthropic_api_key": STANDIN_API_KEY, "anthropic_base_url": claude_standin.url},
    }
    GatewayClient.clear_instance()


@pytest.fixture
def shut_down_kernels(jp_serverapp, jp_asyncio_loop):
    """Shut the gateway's kernels down while it still runs (it stops before the server)."""
    yield
    jp_asyncio_loop.run_until_complete(jp_serverapp.kernel_manager.shutdown_all(now=True))


def write_shoes(folder: Path, rows: int = 60_000) -> bytes:
    """A CSV of a few MB: more than one upload chunk."""
    genders = ("men", "women", "women")
    lines = ["Product Name,Gender,Price"] + [f"Shoe {i},{genders[i % 3]},{50 + i % 100}" for i in range(rows)]
    data = ("\n".join(lines) + "\n").encode()
    (folder / "shoes.csv").write_bytes(data)
    return data


def code_cells(events):
    return [c["cell"] for c in of_type(events, "cell") if c["role"] == "code"]


def text_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell["outputs"] if o["output_type"] == "stream")


def chat_executor(jp_serverapp, path: str) -> KernelExecutor:
    app = next(iter(jp_serverapp.extension_manager.extension_apps["jupyter_nbchat"]))
    return app.turns.executors[path]


async def test_two_turn_analysis_with_files_on_a_gateway_that_shares_no_disk(
    nbchat, claude_standin, notebook_path, jp_root_dir, jp_serverapp, enterprise_gateway, shut_down_kernels
):
    data = write_shoes(jp_root_dir)
    claude_standin.script(
        claude_standin.code(
            "import os, sys\nimport pandas as pd\nshoes = pd.read_csv('shoes.csv')\n"
            "shoes.groupby('Gender').size().to_csv('by_gender.csv')\n"
            "print(len(shoes), os.getcwd(), sys.prefix)"
        ),
        claude_standin.text("Cell [1]: 60000 shoes."),
    )
    events = await nbchat.ask(
        notebook_path, "How many shoes per gender? Save it.", attachments=["shoes.csv"], write="server"
    )
    assert not of_type(events, "error"), of_type(events, "error")
    count, cwd, prefix = text_of(code_cells(events)[0]).split()
    assert count == "60000"
    home = enterprise_gateway["home"]
    assert Path(cwd) == home and Path(prefix) == EG_VENV  # the gateway's kernel, in its own folder
    assert (home / "shoes.csv").read_bytes() == data  # sent whole through the kernel
    # What the cell wrote came back next to the notebook, and the person was told.
    assert (jp_root_dir / "by_gender.csv").read_text() == "Gender,0\nmen,20000\nwomen,40000\n"
    written = [f for e in of_type(events, "files_changed") for f in e["files"]]
    assert [(f["path"], f["copied"]) for f in written] == [("by_gender.csv", True)]
    notices = " ".join(e["text"] for e in of_type(events, "notice"))
    assert "its own folder" in notices and str(home) in notices, events
    executor = chat_executor(jp_serverapp, notebook_path)
    assert not executor.files.location.shared
    first_turn_bytes = executor.files.bytes_sent
    assert first_turn_bytes == len(data)
    sent_at = (home / "shoes.csv").stat().st_mtime_ns

    claude_standin.script(
        claude_standin.code("print(shoes['Price'].sum())"),
        claude_standin.text("Cell [2]: the prices add up."),
    )
    events = await nbchat.ask(notebook_path, "Total price?", attachments=["shoes.csv"], write="server")
    assert text_of(code_cells(events)[0]) == f"{sum(50 + i % 100 for i in range(60_000))}\n"
    assert executor.files.bytes_sent == first_turn_bytes  # upload once per file and kernel
    assert (home / "shoes.csv").stat().st_mtime_ns == sent_at
    assert len(enterprise_gateway["kernels"]()) == 1

    # "Verify notebook" runs both cells again in a fresh gateway kernel, which needs the file too.
    (home / "shoes.csv").unlink()
    info = await nbchat.verify({"notebook_path": notebook_path})
    assert info["status"] == "done", info
    assert (info["report"]["total"], info["report"]["same"]) == (2, 2), info["report"]
    assert len(enterprise_gateway["kernels"]()) == 1  # the fresh one is gone
    assert (home / "shoes.csv").read_bytes() == data  # sent to the fresh kernel


async def test_a_changed_attachment_is_sent_again_and_a_rewritten_one_comes_back(
    nbchat, claude_standin, notebook_path, jp_root_dir, enterprise_gateway, shut_down_kernels
):
    (jp_root_dir / "prices.csv").write_text("price\n1\n2\n")
    claude_standin.script(claude_standin.code("print(open('prices.csv').read().split())"), claude_standin.text("ok"))
    events = await nbchat.ask(notebook_path, "Read it", attachments=["prices.csv"])
    assert text_of(code_cells(events)[0]) == "['price', '1', '2']\n"
    (jp_root_dir / "prices.csv").write_text("price\n1\n2\n3\n")  # the person edits the file
    claude_standin.script(
        claude_standin.code("print(open('prices.csv').read().split())\nopen('prices.csv', 'a').write('4\\n')"),
        claude_standin.text("ok"),
    )
    events = await nbchat.ask(notebook_path, "Read it again and add a row", attachments=["prices.csv"])
    assert text_of(code_cells(events)[0]) == "['price', '1', '2', '3']\n"
    assert (jp_root_dir / "prices.csv").read_text() == "price\n1\n2\n3\n4\n"
    assert (enterprise_gateway["home"] / "prices.csv").read_text() == "price\n1\n2\n3\n4\n"


async def test_the_notebooks_own_kernel_is_the_chats(
    nbchat, claude_standin, notebook_path, jp_fetch, jp_ws_fetch, enterprise_gateway, shut_down_kernels
):
    # The person opens the notebook first: JupyterLab makes its session (a gateway kernel).
    response = await jp_fetch(
        "api", "sessions", method="POST",
        body=json.dumps({"path": notebook_path, "name": notebook_path, "type": "notebook", "kernel": {"name": "python3"}}),
    )
    kernel_id = json.loads(response.body)["kernel"]["id"]
    claude_standin.script(claude_standin.code("answer = 41\nprint(answer)"), claude_standin.text("Cell [1]: 41."))
    events = await nbchat.ask(notebook_path, "Set the answer")
    assert text_of(code_cells(events)[0]) == "41\n"
    assert [k["id"] for k in enterprise_gateway["kernels"]()] == [kernel_id]
    # The notebook's own channel (JupyterLab's WebSocket, proxied to the gateway) sees it.
    ws = await jp_ws_fetch("api", "kernels", kernel_id, "channels")
    session = Session()
    request = session.msg("execute_request", {"code": "print(answer + 1)", "silent": False})
    ws.write_message(json.dumps({**request, "channel": "shell"}, default=str))
    printed = ""
    while True:
        message = json.loads(await asyncio.wait_for(ws.read_message(), 60))
        if message.get("parent_header", {}).get("msg_id") != request["header"]["msg_id"]:
            continue
        if message["msg_type"] == "stream":
            printed += message["content"]["text"]
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    ws.close()
    assert printed == "42\n"


async def test_a_refused_kernel_shows_the_gateways_reason(
    nbchat, claude_standin, notebook_path, enterprise_gateway, monkeypatch, shut_down_kernels
):
    monkeypatch.setenv("KERNEL_USERNAME", "intruder")
    claude_standin.script(claude_standin.code("print(1)"), claude_standin.text("never"))
    events = await nbchat.ask(notebook_path, "Run something")
    message = of_type(events, "error")[0]["message"]
    assert "User 'intruder' is not in the set of users authorized to start kernel" in message, message
    assert "KERNEL_USERNAME" in message and "Internal error" not in message
    assert enterprise_gateway["kernels"]() == []
    # The server keeps working: with an authorized user the same chat runs.
    monkeypatch.setenv("KERNEL_USERNAME", ANALYST)
    claude_standin.script(claude_standin.code("print(1)"), claude_standin.text("Cell [1]: 1."))
    events = await nbchat.ask(notebook_path, "Run something")
    assert text_of(code_cells(events)[0]) == "1\n"


#: Seconds after the cell printed (it runs) before Stop.
STOP_DELAYS = [0.0, 0.05, 0.3, 1.0, 2.5]


async def test_stop_through_the_gateway_at_several_delays(jp_serverapp, notebook_path, enterprise_gateway, shut_down_kernels):
    executor = KernelExecutor(
        kernel_manager=jp_serverapp.kernel_manager,
        session_manager=jp_serverapp.session_manager,
        notebook_path=notebook_path,
    )
    try:
        await executor.ensure_ready()
        for delay in STOP_DELAYS:
            started = asyncio.Event()

            def on_output(started=started):
                if "running" in "".join(o.get("text", "") for o in executor.live.outputs()):
                    started.set()

            task = asyncio.ensure_future(
                executor.run_cell("import time\nprint('running', flush=True)\ntime.sleep(30)", 60, on_output)
            )
            await asyncio.wait_for(started.wait(), 60)
            await asyncio.sleep(delay)
            stopped_at = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - stopped_at < 20, delay  # not the 30 s sleep
            errors = [o for o in executor.live.outputs() if o["output_type"] == "error"]
            assert [e["ename"] for e in errors] == ["KeyboardInterrupt"], (delay, executor.live.outputs())
            after = await asyncio.wait_for(executor.run_cell("print('next')", 30), 20)
            assert after.outputs == [{"output_type": "stream", "name": "stdout", "text": "next\n"}], delay
    finally:
        await executor.close()
