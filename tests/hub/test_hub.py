"""Keys no user can take: a real JupyterHub, two users, the nbchat gateway holding the org key.

The hub (configurable-http-proxy from npm, LocalProcessSpawner: each server runs as its own Unix
user), the gateway as a hub-managed service on loopback, and the Claude stand-in behind it as
"Anthropic" (accepting only the org key). Both users log in with the form and start their
servers through the hub; turns run through the proxy at /user/<name>/nbchat/...; each user's
calls are counted against their own credential; the other user is refused on a user's routes;
a cell in alice's kernel reads /proc/<her server's pid>/environ and os.environ and finds no org
key; no log holds it.

Needs root (the hub starts servers as other users) and `bash scripts/setup_hub.sh` (CHP, the
Unix users). Otherwise skipped, unless NBCHAT_REQUIRE_HUB=1 (CI) makes that a failure.
About a minute on 2 cores.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import subprocess
import sys
import types
from pathlib import Path

import pytest
import requests

from .hub import GATEWAY, Hub, HubUser, chp_installed, free_port, have_unix_users, unix_user, wait_for

ALICE, BOB = "nbchat-alice", "nbchat-bob"
#: bob may spend 1 token a month: his first call starts under it (and passes it), the next is refused.
BUDGETS = {ALICE: 10_000_000, BOB: 1}

pytestmark = pytest.mark.timeout(240)


def _why_not() -> str | None:
    if sys.platform != "linux":
        return "the hub test needs Linux (/proc, Unix users)"
    if os.geteuid() != 0:
        return "the hub test needs root: the hub starts each server as its own Unix user"
    if not chp_installed():
        return "configurable-http-proxy is missing: run scripts/setup_hub.sh"
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    why = _why_not()
    if why is not None:
        if os.environ.get("NBCHAT_REQUIRE_HUB") == "1":
            pytest.fail(why)
        pytest.skip(why)
    for name in (ALICE, BOB):
        unix_user(name)
    assert have_unix_users([ALICE, BOB])
    folder = tmp_path_factory.mktemp("hub")
    org_key = f"sk-ant-org-{secrets.token_hex(20)}"
    port = free_port()
    upstream_log = folder / "upstream.log"
    upstream = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("upstream.py")), "--port", str(port)],
        env={**os.environ, "NBCHAT_TEST_ORG_KEY": org_key}, stdout=upstream_log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    upstream_url = f"http://127.0.0.1:{port}"
    hub = Hub(folder, org_key, upstream_url, [ALICE, BOB], BUDGETS)
    try:
        wait_for(lambda: requests.get(f"{upstream_url}/_standin/health", timeout=2).ok, "the stand-in", 30, upstream_log)
        hub.wait_ready()
        yield types.SimpleNamespace(hub=hub, org_key=org_key, upstream=upstream_url, folder=folder)
    finally:
        hub.stop()
        upstream.terminate()
        upstream.wait(timeout=10)


def script(stack, *responses) -> None:
    requests.post(f"{stack.upstream}/_standin/script", json={"responses": list(responses)}, timeout=5).raise_for_status()


#: Runs in alice's kernel: everything a cell can read of its server's secrets, printed whole,
#: plus an attempt on every other process it can see (the hub, the gateway, bob's server).
SNOOP = r"""
import json, os
def environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError as err:
        return f"<{type(err).__name__}>"
server = os.getppid()
with open(f"/proc/{server}/cmdline", "rb") as f:
    cmdline = f.read().replace(b"\0", b" ").decode()
env = dict(line.split("=", 1) for line in environ(server).split("\0") if "=" in line)
others = {pid: environ(pid) for pid in os.listdir("/proc") if pid.isdigit() and int(pid) not in (server, os.getpid())}
print(json.dumps({
    "uid": os.getuid(), "server_pid": server, "server_cmdline": cmdline,
    "server_environ": environ(server), "kernel_environ": dict(os.environ),
    "server_key_is_own_hub_token": env.get("ANTHROPIC_API_KEY") == env.get("JUPYTERHUB_API_TOKEN") != None,
    "others_readable": {pid: text for pid, text in others.items() if not text.startswith("<")},
}))
"""


def finished(events) -> dict:
    done = [e for e in events if e["type"] == "turn_finished"]
    assert done, [e["type"] for e in events]
    return done[-1]


def errors(events) -> list[str]:
    return [e["message"] for e in events if e["type"] == "error"]


def stdout_of(events) -> str:
    cells = [e["cell"] for e in events if e["type"] == "cell" and e["cell"].get("cell_type") == "code"]
    assert cells, [e["type"] for e in events]
    return "".join(o.get("text", "") for c in cells for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_two_users_keys_no_user_can_take(stack):
    hub = stack.hub
    alice, bob = HubUser(hub, ALICE), HubUser(hub, BOB)
    alice.login()
    bob.login()
    alice.start_server()
    bob.start_server()

    # Each reaches their own server through the proxy, with the browser session (OAuth) too.
    page = alice.browse(f"/user/{ALICE}/lab")  # the hub's OAuth: the server sets her cookie
    assert page.status_code == 200 and page.url.endswith(f"/user/{ALICE}/lab"), (page.status_code, page.url)
    assert alice.browse(f"/user/{ALICE}/api/status").status_code == 200
    assert alice.api("GET", "nbchat/status").status_code == 200
    # bob is refused on alice's routes: with his session (the hub's OAuth says 403) and his token.
    for path in ("lab", "api/status"):
        seen = bob.browse(f"/user/{ALICE}/{path}")
        assert seen.status_code == 403 or "/hub/login" in seen.url, (path, seen.status_code, seen.url)
    for path in ("nbchat/status", "api/contents", "api/kernels"):
        refused = bob.api("GET", path, user=ALICE)
        assert refused.status_code in (302, 403), (path, refused.status_code)
        if refused.status_code == 302:
            assert "/hub/" in refused.headers["Location"], refused.headers
    refused = bob.api("POST", "nbchat/turns", {"notebook_path": "x.ipynb", "question": "hi", "write": "server"}, user=ALICE)
    assert refused.status_code in (302, 403)

    # alice: a full turn through the proxy; its cell snoops on her server.
    script(stack, {"content": [{"type": "tool_use", "name": "run_code", "input": {"code": SNOOP}}]},
           {"content": [{"type": "text", "text": "Nothing worth stealing here."}]})  # fmt: skip
    events = alice.ask("snoop.ipynb", "What can a cell read of the server's secrets?")
    assert finished(events)["status"] == "done", errors(events)
    printed = stdout_of(events)
    assert stack.org_key not in printed
    seen = json.loads(printed)
    assert seen["uid"] == pwd.getpwnam(ALICE).pw_uid
    assert re.search(r"jupyterhub[-.]singleuser", seen["server_cmdline"]), seen["server_cmdline"]
    assert "ANTHROPIC_API_KEY=" in seen["server_environ"]  # her server does hold an API key ...
    assert seen["server_key_is_own_hub_token"]  # ... her own hub token, worth only her own budget
    assert "ANTHROPIC_API_KEY" not in seen["kernel_environ"]  # scrubbed from what kernels inherit
    assert seen["kernel_environ"].get("ANTHROPIC_BASE_URL", "").endswith(f"/services/{GATEWAY}")
    # Processes of other users (the hub, CHP, the gateway, bob's server) are closed to her.
    owners = {pid: os.stat(f"/proc/{pid}").st_uid for pid in seen["others_readable"] if os.path.exists(f"/proc/{pid}")}
    assert set(owners.values()) <= {pwd.getpwnam(ALICE).pw_uid}, owners
    # And what root sees of her server's process says the same.
    server_environ = Path(f"/proc/{seen['server_pid']}/environ").read_bytes().decode(errors="replace")
    assert stack.org_key not in server_environ and "ANTHROPIC_API_KEY=" in server_environ

    # bob: one turn within his budget of one call, then the gateway refuses the next.
    script(stack, {"content": [{"type": "text", "text": "Hello from the gateway."}]})
    first = bob.ask("hello.ipynb", "Say hello.")
    assert finished(first)["status"] == "done", errors(first)
    second = bob.ask("again.ipynb", "Say hello again.")
    assert finished(second)["status"] != "done"
    assert any("budget on this hub is spent" in m for m in errors(second)), errors(second)

    # Each user's calls were counted against their own credential (asked through the proxy).
    def usage(user: HubUser) -> dict:
        answer = requests.get(f"{hub.url}/services/{GATEWAY}/usage", headers={"Authorization": f"token {user.token}"}, timeout=10)
        answer.raise_for_status()
        return answer.json()

    alice_usage, bob_usage = usage(alice), usage(bob)
    assert (alice_usage["user"], alice_usage["calls"]) == (ALICE, 2), alice_usage
    assert (bob_usage["user"], bob_usage["calls"]) == (BOB, 1), bob_usage
    assert alice_usage["tokens"] > 0 and bob_usage["tokens"] > 0
    assert bob_usage["remaining_tokens"] == 0
    # Without a hub token, or with the org key itself, the gateway answers nothing.
    gateway = f"http://127.0.0.1:{hub.gateway_port}/services/{GATEWAY}/v1/messages"
    for headers in ({}, {"x-api-key": stack.org_key}, {"x-api-key": "sk-ant-guess"}):
        assert requests.post(gateway, json={}, headers=headers, timeout=10).status_code == 401
    # Anthropic saw the org key on every call, and nothing else.
    assert requests.get(f"{stack.upstream}/_standin/keys", timeout=5).json() == {"org": 3}

    # No log holds the org key: the hub's, which carries the servers' and the gateway's output.
    log = hub.log.read_text(errors="replace")
    assert log.count("NbChat] nbchat") == 2 and "nbchat gateway on" in log  # both servers' and the gateway's lines
    assert stack.org_key not in log
