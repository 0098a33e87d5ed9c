"""The E2B stand-in, exercised only through the real e2b-code-interpreter SDK.

Every call here is a real HTTP request from the SDK to the stand-in; nothing in
the SDK is patched. The assertions pin the SDK-visible behaviour the rest of
the project relies on (exceptions, result formats, files, lifetimes, faults).
"""

# ruff: noqa: F811 -- the imported fixture is "redefined" by every test argument

from __future__ import annotations

import asyncio
import base64
import io
import os
import sys
import time
from pathlib import Path

import httpx
import pytest
from e2b import (
    AuthenticationException,
    InvalidArgumentException,
    SandboxException,
    SandboxNotFoundException,
    SandboxNotRunningException,
    ServiceBusyException,
    TimeoutException,
)
from e2b_code_interpreter import AsyncSandbox

from jupyter_nbchat.testing.e2b_standin import DEFAULT_API_KEY, E2BStandIn

pytestmark = pytest.mark.timeout(60)


async def _create(standin: E2BStandIn, **kwargs) -> AsyncSandbox:
    return await AsyncSandbox.create(**standin.sdk_kwargs(), **kwargs)


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_run_code_streams_stdout_and_stderr(e2b_standin):
    sandbox = await _create(e2b_standin)
    seen: list[str] = []

    execution = await sandbox.run_code(
        "import sys\nprint('hello')\nprint('oops', file=sys.stderr)",
        on_stdout=lambda m: seen.append(m.line),
    )

    assert execution.logs.stdout == ["hello\n"]
    assert execution.logs.stderr == ["oops\n"]
    assert seen == ["hello\n"]
    assert execution.error is None
    assert e2b_standin.stats.creates == 1
    assert e2b_standin.stats.executions == 1
    execute = [r for r in e2b_standin.stats.requests if r.path == "/execute"]
    assert [(r.sandbox_id, r.port, r.status) for r in execute] == [
        (sandbox.sandbox_id, "49999", 200)
    ]


async def test_expression_result_and_persisted_variables(e2b_standin):
    sandbox = await _create(e2b_standin)

    first = await sandbox.run_code("1+1")
    await sandbox.run_code("x = 41")
    second = await sandbox.run_code("x + 1")

    assert first.text == "2"
    assert first.results[0].is_main_result
    assert second.text == "42"
    assert second.execution_count == first.execution_count + 2


async def test_rich_results_dataframe_html_and_matplotlib_png(e2b_standin):
    sandbox = await _create(e2b_standin)

    frame = await sandbox.run_code("import pandas as pd\npd.DataFrame({'a': [1, 2]})")
    figure = await sandbox.run_code(
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"
    )
    shown = await sandbox.run_code(
        "from IPython.display import display, Markdown, JSON\n"
        "display(Markdown('**b**'))\ndisplay(JSON({'k': 1}))\n'quoted'"
    )

    assert "<table" in frame.results[0].html
    pngs = [r.png for r in figure.results if r.png]
    assert len(pngs) == 1 and base64.b64decode(pngs[0]).startswith(b"\x89PNG")
    assert not figure.results[0].is_main_result  # a display, not the cell's value
    assert shown.results[0].markdown == "**b**"
    assert shown.results[1].json == {"k": 1}
    assert shown.text == "quoted"  # the server strips the quotes of a str repr


async def test_exception_gives_execution_error(e2b_standin):
    sandbox = await _create(e2b_standin)
    errors = []

    execution = await sandbox.run_code("print('before')\n1/0", on_error=errors.append)

    assert execution.error.name == "ZeroDivisionError"
    assert execution.error.value == "division by zero"
    assert "ZeroDivisionError" in execution.error.traceback
    assert errors == [execution.error]
    assert execution.logs.stdout == ["before\n"]


async def test_files_write_read_list_and_open_from_kernel(e2b_standin):
    sandbox = await _create(e2b_standin)
    payload = bytes(range(256)) * 8

    info = await sandbox.files.write("data/sales.csv", b"region,amount\nnorth,3\n")
    await sandbox.files.write("/home/user/blob.bin", payload)
    listed = await sandbox.files.list("/home/user/data")
    back = await sandbox.files.read("blob.bin", format="bytes")
    opened = await sandbox.run_code("open('data/sales.csv').read().splitlines()[1]")

    assert info.path == "/home/user/data/sales.csv"
    assert bytes(back) == payload
    assert [(e.name, e.path, e.size) for e in listed] == [
        ("sales.csv", "/home/user/data/sales.csv", 22)
    ]
    assert opened.text == "north,3"
    assert await sandbox.files.exists("data/sales.csv")
    assert not await sandbox.files.exists("data/missing.csv")
    assert await sandbox.files.make_dir("out") and not await sandbox.files.make_dir("out")
    await sandbox.files.remove("data")
    assert not await sandbox.files.exists("data/sales.csv")


async def test_streamed_upload_is_counted_and_lands_on_disk(e2b_standin):
    sandbox = await _create(e2b_standin)
    data = os.urandom(8 * 1024 * 1024)

    # A file-like object goes out as a streamed application/octet-stream body.
    await sandbox.files.write("big.bin", io.BytesIO(data))
    size = await sandbox.run_code("import os; os.path.getsize('big.bin')")

    assert size.text == str(len(data))
    assert e2b_standin.stats.bytes_uploaded[sandbox.sandbox_id] == len(data)
    on_disk = e2b_standin.files_root(sandbox.sandbox_id) / "home/user/big.bin"
    assert on_disk.stat().st_size == len(data)


async def test_sandbox_paths_cannot_escape_the_sandbox(e2b_standin):
    sandbox = await _create(e2b_standin)
    root = e2b_standin.files_root(sandbox.sandbox_id)

    info = await sandbox.files.write("../../../../etc/escape.txt", b"inside")
    await sandbox.run_code("import os; os.symlink('/', 'hostroot')")

    assert info.path == "/etc/escape.txt"
    assert (root / "etc/escape.txt").read_bytes() == b"inside"
    with pytest.raises(InvalidArgumentException):
        await sandbox.files.read("hostroot/etc/hostname")


async def test_contexts_isolate_variables(e2b_standin):
    sandbox = await _create(e2b_standin)
    await sandbox.run_code("x = 'default'")

    context = await sandbox.create_code_context()
    await sandbox.run_code("x = 'other'", context=context)
    in_default = await sandbox.run_code("x")
    in_context = await sandbox.run_code("x", context=context)
    by_language = await sandbox.run_code("x", language="python")
    ids = {c.id for c in await sandbox.list_code_contexts()}
    await sandbox.restart_code_context(context)
    after_restart = await sandbox.run_code("x", context=context)
    await sandbox.remove_code_context(context)

    assert (in_default.text, in_context.text, by_language.text) == ("default", "other", "default")
    assert context.id in ids and len(ids) == 2
    assert context.cwd == "/home/user"
    assert after_restart.error.name == "NameError"
    assert context.id not in {c.id for c in await sandbox.list_code_contexts()}
    with pytest.raises(SandboxException):
        await sandbox.run_code("1", language="r")


async def test_a_dying_kernel_restarts_the_context(e2b_standin):
    sandbox = await _create(e2b_standin)
    await sandbox.run_code("x = 1")

    died = await sandbox.run_code("import os\nos._exit(1)")
    after = await sandbox.run_code("'x' in globals()")

    assert died.error.name == "ContextRestarting"
    assert after.text == "False" and after.error is None


async def test_envs_of_sandbox_and_of_one_run(e2b_standin):
    sandbox = await _create(e2b_standin, envs={"SANDBOX_VAR": "s"})
    code = "import os; (os.environ.get('SANDBOX_VAR'), os.environ.get('RUN_VAR'))"

    during = await sandbox.run_code(code, envs={"RUN_VAR": "r"})
    after = await sandbox.run_code(code)

    assert during.text == "('s', 'r')"
    assert after.text == "('s', None)"


async def test_kill_then_use_fails_and_kernel_stops(e2b_standin):
    sandbox = await _create(e2b_standin)
    await sandbox.run_code("1")
    pids = e2b_standin.kernel_pids(sandbox.sandbox_id)

    assert await sandbox.kill() is True

    assert not await sandbox.is_running()
    with pytest.raises(TimeoutException, match="was not found"):
        await sandbox.run_code("1")
    with pytest.raises(SandboxNotRunningException):
        await sandbox.files.read("anything.txt")
    with pytest.raises(SandboxNotRunningException):
        await sandbox.files.write("upload.bin", os.urandom(1024 * 1024))
    with pytest.raises(SandboxNotFoundException):
        await sandbox.get_info()
    assert await AsyncSandbox.kill(sandbox.sandbox_id, **e2b_standin.sdk_kwargs()) is False
    assert pids and all(_process_gone(pid) for pid in pids)


async def test_kill_between_calls_and_during_execution(e2b_standin):
    sandbox = await _create(e2b_standin)
    await sandbox.run_code("1")

    async def kill_soon() -> bool:
        await asyncio.sleep(0.5)
        return await e2b_standin.kill_sandbox(sandbox.sandbox_id)

    killer = asyncio.ensure_future(kill_soon())
    with pytest.raises(TimeoutException, match="killed while the request was in progress"):
        await sandbox.run_code("import time; time.sleep(20)")
    assert await killer is True
    assert e2b_standin.stats.kills == 1


async def test_set_timeout_then_the_sandbox_expires(e2b_standin):
    sandbox = await _create(e2b_standin, timeout=120)
    await sandbox.run_code("1")
    pids = e2b_standin.kernel_pids(sandbox.sandbox_id)
    before = await sandbox.get_info()

    await sandbox.set_timeout(1)
    after = await sandbox.get_info()
    await asyncio.sleep(1.5)

    assert (before.end_at - before.started_at).total_seconds() == pytest.approx(120, abs=2)
    assert (after.end_at - before.end_at).total_seconds() < -100
    assert not await sandbox.is_running()
    with pytest.raises(SandboxNotFoundException):
        await sandbox.get_info()
    with pytest.raises(TimeoutException):
        await sandbox.run_code("1")
    assert e2b_standin.stats.expired == 1
    assert all(_process_gone(pid) for pid in pids)


async def test_connect_by_id_sees_the_same_kernel_and_sandboxes_are_separate(e2b_standin):
    first, other = await asyncio.gather(_create(e2b_standin), _create(e2b_standin))
    await asyncio.gather(first.run_code("x = 'first'"), other.run_code("x = 'other'"))
    await first.files.write("only-first.txt", b"1")

    again = await AsyncSandbox.connect(first.sandbox_id, **e2b_standin.sdk_kwargs())
    seen = await again.run_code("x")
    listed = await AsyncSandbox.list(**e2b_standin.sdk_kwargs()).next_items()

    assert again.sandbox_id == first.sandbox_id
    assert {s.sandbox_id for s in listed} == {first.sandbox_id, other.sandbox_id}
    assert seen.text == "first"
    assert (await other.run_code("x")).text == "other"
    assert await again.files.exists("only-first.txt")
    assert not await other.files.exists("only-first.txt")
    with pytest.raises(SandboxNotFoundException):
        await AsyncSandbox.connect("inotasandbox", **e2b_standin.sdk_kwargs())


async def test_env_points_an_unconfigured_sdk_at_the_standin(e2b_standin):
    # The fixture exported standin.env(); create() gets no connection kwargs at all.
    assert os.environ["E2B_API_URL"] == e2b_standin.url
    sandbox = await AsyncSandbox.create()

    assert sandbox.sandbox_id in e2b_standin.sandboxes
    assert (await sandbox.run_code("6*7")).text == "42"


async def test_fault_create_fails(e2b_standin):
    e2b_standin.faults.create_status = 500
    with pytest.raises(SandboxException) as failed:
        await _create(e2b_standin)
    assert failed.value.status_code == 500
    assert (e2b_standin.stats.create_requests, e2b_standin.stats.creates) == (1, 0)

    # 503 is retried by the SDK (3 retries with backoff) before it gives up.
    e2b_standin.faults.create_status = 503
    with pytest.raises(ServiceBusyException):
        await _create(e2b_standin)
    assert e2b_standin.stats.create_requests == 1 + 4

    e2b_standin.faults.create_status = None
    assert (await _create(e2b_standin)).sandbox_id in e2b_standin.sandboxes
    with pytest.raises(AuthenticationException):
        await AsyncSandbox.create(**{**e2b_standin.sdk_kwargs(), "api_key": "e2b_wrong"})


async def test_fault_slow_start_delays_create(e2b_standin):
    e2b_standin.faults.start_delay = 0.6
    started = time.monotonic()

    sandbox = await _create(e2b_standin)

    assert time.monotonic() - started >= 0.6
    assert sandbox.sandbox_id in e2b_standin.sandboxes


async def test_fault_execute_502_then_recovers(e2b_standin):
    sandbox = await _create(e2b_standin)
    e2b_standin.faults.execute_status = 502

    with pytest.raises(TimeoutException, match="502"):
        await sandbox.run_code("1")
    assert e2b_standin.faults.execute_status is None  # one shot
    assert (await sandbox.run_code("1+2")).text == "3"


async def test_fault_dropped_connection_mid_execute(e2b_standin):
    sandbox = await _create(e2b_standin)
    e2b_standin.faults.drop_execute_after = 1

    # The SDK checks the sandbox is still running, then re-raises the transport error.
    with pytest.raises(httpx.RemoteProtocolError):
        await sandbox.run_code("import time\nprint('a', flush=True)\ntime.sleep(0.5)\nprint('b')")

    assert (await sandbox.run_code("'still serving'")).text == "still serving"
    assert (await sandbox.files.write("after.txt", b"ok")).path == "/home/user/after.txt"


async def test_twenty_megabytes_of_stdout_arrive_whole(e2b_standin):
    sandbox = await _create(e2b_standin)

    execution = await sandbox.run_code("print('x' * 20_000_000)")

    stdout = "".join(execution.logs.stdout)
    assert len(stdout) == 20_000_001 and stdout.endswith("x\n")
    assert execution.error is None


async def test_run_code_timeout_interrupts_the_kernel(e2b_standin):
    sandbox = await _create(e2b_standin)
    await sandbox.run_code("1")

    with pytest.raises(TimeoutException, match="Execution timed out"):
        await sandbox.run_code("import time\ntime.sleep(30)\ndone = True", timeout=1)
    after = await sandbox.run_code("'done' in globals()")

    # Without the interrupt this run would wait out the sleep and see done=True.
    assert after.text == "False"
    assert after.error is None


async def test_stop_shuts_every_kernel_and_can_repeat(e2b_standin):
    sandbox = await _create(e2b_standin)
    await sandbox.create_code_context()
    pids = e2b_standin.kernel_pids(sandbox.sandbox_id)
    root = e2b_standin.files_root(sandbox.sandbox_id)

    await e2b_standin.stop()
    await e2b_standin.stop()

    assert len(pids) == 2 and all(_process_gone(pid) for pid in pids)
    assert not root.exists()
    assert not e2b_standin.sandboxes


async def test_standalone_module_serves_the_sdk(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jupyter_nbchat.testing.e2b_standin", "--port", "0",
        stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        url = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        async with httpx.AsyncClient(trust_env=False) as client:
            health = (await client.get(f"{url}/_standin/health")).json()
            await client.post(f"{url}/_standin/faults", json={"execute_status": 502})
        kwargs = {"api_key": DEFAULT_API_KEY, "api_url": url, "sandbox_url": url, "debug": False}
        sandbox = await AsyncSandbox.create(**kwargs)
        with pytest.raises(TimeoutException):
            await sandbox.run_code("1")
        result = await sandbox.run_code("1+1")
    finally:
        process.terminate()
        code = await asyncio.wait_for(process.wait(), 20)

    assert url.startswith("http://127.0.0.1:")
    assert health == {"ok": True, "sandboxes": []}
    assert result.text == "2"
    assert code == 0
