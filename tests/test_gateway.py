"""The local-kernel executor works when the server's kernels live on a remote gateway."""

import json
import secrets
import subprocess
import sys
import time
import urllib.request

import pytest
from jupyter_server.gateway.gateway_client import GatewayClient

from bench.harness import free_port
from jupyter_nbchat.testing.plugin import STANDIN_API_KEY, of_type


@pytest.fixture
def gateway(tmp_path):
    """A second, real Jupyter server that hosts the kernels (as a gateway does)."""
    port, token = free_port(), secrets.token_hex(8)
    root = tmp_path / "gateway_root"
    root.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False", "--ServerApp.allow_root=True",
         "--ServerApp.jpserver_extensions={'jupyter_nbchat': False}"],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "gateway.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"

    def kernels():
        request = urllib.request.Request(f"{url}/api/kernels", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    deadline = time.monotonic() + 60
    while True:
        try:
            kernels()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError((tmp_path / "gateway.log").read_text()[-2000:]) from None
            time.sleep(0.3)
    yield {"url": url, "token": token, "kernels": kernels}
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def jp_server_config(claude_standin, gateway):
    # GatewayClient is a process-wide singleton: start from a fresh one, leave none behind.
    GatewayClient.clear_instance()
    yield {
        "ServerApp": {"jpserver_extensions": {"jupyter_nbchat": True}},
        "GatewayClient": {"url": gateway["url"], "auth_token": gateway["token"], "request_timeout": 60.0},
        "NbChat": {"anthropic_api_key": STANDIN_API_KEY, "anthropic_base_url": claude_standin.url},
    }
    GatewayClient.clear_instance()


async def test_a_turn_runs_in_the_gateways_kernel(nbchat, claude_standin, notebook_path, gateway, jp_serverapp):
    assert type(jp_serverapp.kernel_manager).__name__.startswith("Gateway")
    claude_standin.script(
        claude_standin.code("import os\nwhere = os.getcwd()\nprint('ran remotely')"),
        claude_standin.text("ok"),
        claude_standin.code("print(where is not None)"),
        claude_standin.text("still there"),
    )
    events = await nbchat.ask(notebook_path, "Run remotely")
    code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
    assert code["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "ran remotely\n"}]
    remote = gateway["kernels"]()
    assert len(remote) == 1  # the kernel lives on the gateway
    try:
        events = await nbchat.ask(notebook_path, "Still there?")
        code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
        assert code["outputs"][0]["text"] == "True\n"
        assert [k["id"] for k in gateway["kernels"]()] == [remote[0]["id"]]
    finally:  # while the gateway still runs (it stops before the server's own cleanup)
        await jp_serverapp.kernel_manager.shutdown_all(now=True)
