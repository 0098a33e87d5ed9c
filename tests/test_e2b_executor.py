"""What only the E2B executor does: sandbox lifetime, uploads, recovery, copy-back.

The real e2b-code-interpreter SDK talks to the E2B stand-in; faults and stats are
the stand-in's. The behaviour every executor shares is in test_executor_contract.
"""

# ruff: noqa: F811 -- the imported fixture is "redefined" by every test argument

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path

import pytest

from jupyter_nbchat.errors import ExecutorUnavailable
from jupyter_nbchat.execution import E2BExecutor, ExecutionResult, LocalFile
from jupyter_nbchat.execution import e2b as e2b_module
from jupyter_nbchat.testing.e2b_standin import E2BStandIn

pytestmark = pytest.mark.timeout(90)

TIMEOUT = 60.0
HANG = 30.0  # "did not hang", never a performance bound


@pytest.fixture
def make_executor(e2b_standin, jp_root_dir, jp_asyncio_loop):
    """Executors on the stand-in with the notebook's folder in jp_root_dir; all closed after."""
    made: list[E2BExecutor] = []

    def make(**kwargs) -> E2BExecutor:
        options = {
            "api_key": e2b_standin.api_key,
            "notebook_dir": jp_root_dir,
            "idle_timeout": 600,
            "sdk_options": e2b_standin.sdk_kwargs(),
            **kwargs,
        }
        executor = E2BExecutor(**options)
        made.append(executor)
        return executor

    yield make
    for executor in made:
        jp_asyncio_loop.run_until_complete(executor.close())


def local_file(root: Path, relative: str, data: bytes) -> LocalFile:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return LocalFile(relative, path, len(data), hashlib.sha256(data).hexdigest())


def value(result: ExecutionResult) -> str:
    assert result.error is None, result.error
    (out,) = [o for o in result.outputs if o["output_type"] == "execute_result"]
    return out["data"]["text/plain"]


def sandbox_id(executor: E2BExecutor) -> str:
    return executor.state()["sandbox_id"]


async def test_a_failing_create_is_a_clear_error_and_is_retried(
    e2b_standin: E2BStandIn, make_executor
):
    executor = make_executor(start_attempts=1)  # retries within a start: test_e2b_continuity
    e2b_standin.faults.create_status = 500

    with pytest.raises(
        ExecutorUnavailable, match=r"Could not start an E2B sandbox: .*500.*choose the local kernel"
    ) as failed:
        await executor.ensure_ready()
    with pytest.raises(ExecutorUnavailable):
        await executor.run_cell("1+1", TIMEOUT)
    e2b_standin.faults.create_status = None
    result = await executor.run_cell("1+1", TIMEOUT)

    assert failed.value.kind == "execution"
    assert value(result) == "2"
    assert (e2b_standin.stats.create_requests, e2b_standin.stats.creates) == (3, 1)


async def test_a_wrong_api_key_says_which_setting_to_fix(e2b_standin, make_executor):
    executor = make_executor(
        api_key="e2b_wrong", sdk_options={**e2b_standin.sdk_kwargs(), "api_key": "e2b_wrong"}
    )

    with pytest.raises(ExecutorUnavailable, match="E2B_API_KEY") as failed:
        await executor.ensure_ready()

    assert "e2b_wrong" not in str(failed.value)


async def test_concurrent_callers_share_one_slow_start(e2b_standin, make_executor):
    e2b_standin.faults.start_delay = 0.5
    executor = make_executor()

    *_, result = await asyncio.gather(
        executor.ensure_ready(), executor.ensure_ready(), executor.run_cell("6*7", TIMEOUT)
    )

    assert value(result) == "42"
    assert (e2b_standin.stats.create_requests, e2b_standin.stats.creates) == (1, 1)
    assert executor.state() == {"sandbox_id": next(iter(e2b_standin.sandboxes))}


async def test_unchanged_files_are_not_uploaded_again(e2b_standin, make_executor, jp_root_dir):
    executor = make_executor()
    small = local_file(jp_root_dir, "data/shoes.csv", b"size,price\n40,50\n")
    big = local_file(jp_root_dir, "data/big.bin", os.urandom(3 * 2**20))

    first = await executor.sync_files([small, big])
    sent = e2b_standin.stats.bytes_uploaded[sandbox_id(executor)]
    again = await executor.sync_files([small, big])
    changed = local_file(jp_root_dir, "data/shoes.csv", b"size,price\n40,55\n")
    third = await executor.sync_files([changed, big])
    check = await executor.run_cell(
        "import os\n(open('data/shoes.csv').read(), os.path.getsize('data/big.bin'))", TIMEOUT
    )

    assert (first.uploaded, first.bytes_sent) == (
        ["data/shoes.csv", "data/big.bin"],
        small.size + big.size,
    )
    assert sent == small.size + big.size
    assert (again.uploaded, again.unchanged, again.bytes_sent) == (
        [],
        ["data/shoes.csv", "data/big.bin"],
        0,
    )
    assert (third.uploaded, third.unchanged) == (["data/shoes.csv"], ["data/big.bin"])
    assert e2b_standin.stats.bytes_uploaded[sandbox_id(executor)] == sent + changed.size
    assert value(check) == f"('size,price\\n40,55\\n', {big.size})"
    assert check.changed_files == []  # the uploads are inputs, not the cell's output


async def test_unsafe_or_missing_files_are_refused(make_executor, jp_root_dir):
    executor = make_executor()
    outside = LocalFile("../escape.csv", jp_root_dir / "x.csv", 1, "0" * 64)
    missing = LocalFile("data/missing.csv", jp_root_dir / "data/missing.csv", 1, "0" * 64)

    with pytest.raises(Exception, match="relative path"):
        await executor.sync_files([outside])
    with pytest.raises(ExecutorUnavailable, match="data/missing.csv"):
        await executor.sync_files([missing])


async def test_a_second_executor_reconnects_by_sandbox_id(e2b_standin, make_executor):
    first = make_executor()
    await first.run_cell("x = 'shared'", TIMEOUT)
    await first.restart()  # from now on our own code context, named in state()
    await first.run_cell("y = 5", TIMEOUT)

    second = make_executor(**first.state())
    seen = await second.run_cell("(y, 'x' in globals())", TIMEOUT)

    assert set(first.state()) == {"sandbox_id", "context_id"}
    assert second.state() == first.state()
    assert value(seen) == "(5, False)"
    assert e2b_standin.stats.creates == 1


async def test_reconnecting_to_a_gone_sandbox_replays_the_seeded_cells(e2b_standin, make_executor):
    executor = make_executor(sandbox_id="igonegonegone")
    executor.seed_history(["a = 20", "b = a + 1"])

    result = await executor.run_cell("b * 2", TIMEOUT)

    assert value(result) == "42"
    assert result.notices == [
        "The sandbox had stopped; started a new one and re-ran 2 earlier cells."
    ]
    assert sandbox_id(executor) != "igonegonegone"
    assert e2b_standin.stats.creates == 1


async def test_a_sandbox_that_stopped_between_cells_is_replaced(
    e2b_standin, make_executor, jp_root_dir
):
    executor = make_executor()
    executor.seed_history(["never_ran_here = 1"])  # no remembered sandbox: ignored
    shoes = local_file(jp_root_dir, "data/shoes.csv", b"size,price\n40,50\n41,60\n")
    await executor.sync_files([shoes])
    await executor.run_cell("import pandas as pd\nshoes = pd.read_csv('data/shoes.csv')", TIMEOUT)
    await executor.run_cell("n = len(shoes)", TIMEOUT)
    await executor.run_cell("1/0", TIMEOUT)  # failed cells are not re-run
    old = sandbox_id(executor)

    assert await e2b_standin.kill_sandbox(old)
    result = await executor.run_cell(
        "(n * 10, len(pd.read_csv('data/shoes.csv')), 'never_ran_here' in globals())", TIMEOUT
    )
    resync = await executor.sync_files([shoes])

    assert value(result) == "(20, 2, False)"
    assert result.notices == [
        "The sandbox had stopped; started a new one, re-uploaded 1 file and re-ran 2 earlier cells."
    ]
    assert sandbox_id(executor) != old and e2b_standin.stats.creates == 2
    assert resync.unchanged == ["data/shoes.csv"]


async def test_a_cancelled_restore_is_not_left_half_done(e2b_standin, make_executor):
    executor = make_executor()
    await executor.run_cell("count = 0", TIMEOUT)
    await executor.run_cell("import time\ntime.sleep(1)\ncount += 1", TIMEOUT)
    await e2b_standin.kill_sandbox(sandbox_id(executor))

    cell = asyncio.ensure_future(executor.run_cell("count", TIMEOUT))
    deadline = time.monotonic() + HANG
    while e2b_standin.stats.creates < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # somewhere in the restore; any point will do
    cell.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cell
    result = await executor.run_cell("count", TIMEOUT)
    await executor.close()

    assert value(result) == "1"  # each earlier cell ran once in the sandbox that is used
    assert e2b_standin.stats.creates == 3
    assert e2b_standin.stats.kills == 3  # the test's, the half-restored one, close()
    assert not e2b_standin.sandboxes


async def test_a_sandbox_dying_under_a_cell_is_reported_then_replaced(e2b_standin, make_executor):
    executor = make_executor()
    await executor.run_cell("x = 3", TIMEOUT)
    old = sandbox_id(executor)

    async def kill_soon() -> None:
        await asyncio.sleep(0.5)
        await e2b_standin.kill_sandbox(old)

    killer = asyncio.ensure_future(kill_soon())
    started = time.monotonic()
    died = await executor.run_cell("import time\ntime.sleep(20)", TIMEOUT)
    elapsed = time.monotonic() - started
    await killer
    after = await executor.run_cell("x + 1", TIMEOUT)

    assert elapsed < HANG
    assert died.error["ename"] == "SandboxStopped"
    assert "next cell starts a new sandbox" in died.error["evalue"]
    assert value(after) == "4"
    assert after.notices == [
        "The sandbox had stopped; started a new one and re-ran 1 earlier cell."
    ]


async def test_a_502_or_a_dropped_connection_is_an_error_output_not_a_hang(
    e2b_standin, make_executor
):
    executor = make_executor()
    await executor.run_cell("x = 1", TIMEOUT)

    e2b_standin.faults.execute_status = 502
    bad_gateway = await executor.run_cell("x = 2", TIMEOUT)
    e2b_standin.faults.drop_execute_after = 2  # the execution count and 'a' arrive, 'b' does not
    started = time.monotonic()
    dropped = await executor.run_cell(
        "import time\nprint('a', flush=True)\ntime.sleep(0.5)\nprint('b', flush=True)\n"
        "time.sleep(10)\nx = 3",
        TIMEOUT,
    )
    elapsed = time.monotonic() - started
    after = await executor.run_cell("x", TIMEOUT)

    for result in (bad_gateway, dropped):
        assert result.error["ename"] == "SandboxConnectionError"
        assert "The sandbox is still running" in result.error["evalue"]
    assert "502" in bad_gateway.error["evalue"]
    assert dropped.outputs[0] == {"output_type": "stream", "name": "stdout", "text": "a\n"}
    assert elapsed < HANG
    assert value(after) == "1"  # the cut cell was interrupted before it set x
    assert e2b_standin.stats.creates == 1


async def test_copy_back_limit_symlinks_and_the_workspace_boundary(
    make_executor, jp_root_dir, tmp_path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (jp_root_dir / "linked").symlink_to(outside, target_is_directory=True)
    executor = make_executor(max_copy_back_bytes=1000)

    result = await executor.run_cell(
        "import os\n"
        "os.makedirs('linked', exist_ok=True)\n"
        "os.makedirs('.hidden', exist_ok=True)\n"
        "open('small.txt', 'w').write('ok')\n"
        "open('big.bin', 'wb').write(b'0' * 5000)\n"
        "open('linked/into.txt', 'w').write('no')\n"
        "open('.hidden/secret.txt', 'w').write('no')\n"
        "os.symlink('/etc/hostname', 'link.txt')",
        TIMEOUT,
    )

    changed = {f.relative_path: f for f in result.changed_files}
    assert set(changed) == {"small.txt", "big.bin", "linked/into.txt"}
    assert changed["small.txt"].copied and (jp_root_dir / "small.txt").read_text() == "ok"
    assert not changed["big.bin"].copied and changed["big.bin"].size == 5000
    assert "copy-back limit" in changed["big.bin"].reason
    assert not (jp_root_dir / "big.bin").exists()
    assert not changed["linked/into.txt"].copied and "symlink" in changed["linked/into.txt"].reason
    assert list(outside.iterdir()) == []
    assert not (jp_root_dir / "link.txt").exists()
    assert not [p for p in jp_root_dir.rglob("*.part")]


async def test_a_rewritten_input_comes_back_and_is_not_uploaded_over(
    e2b_standin, make_executor, jp_root_dir
):
    executor = make_executor()
    shoes = local_file(jp_root_dir, "shoes.csv", b"size\n40\n")
    await executor.sync_files([shoes])

    result = await executor.run_cell("open('shoes.csv', 'a').write('41\\n')", TIMEOUT)
    now = (jp_root_dir / "shoes.csv").read_bytes()
    resync = await executor.sync_files(
        [LocalFile("shoes.csv", shoes.absolute_path, len(now), hashlib.sha256(now).hexdigest())]
    )

    assert [(f.relative_path, f.copied) for f in result.changed_files] == [("shoes.csv", True)]
    assert now == b"size\n40\n41\n"
    assert resync.unchanged == ["shoes.csv"]


async def test_rich_results_map_to_mime_types(make_executor):
    executor = make_executor()

    result = await executor.run_cell(
        "from IPython.display import display, HTML, JSON, Latex, Markdown, SVG\n"
        "display(Markdown('**b**'))\n"
        "display(JSON({'k': 1}))\n"
        "display(Latex('$x^2$'))\n"
        "display(HTML('<b>h</b>'))\n"
        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"/>'))\n"
        "print('one')\nprint('two')",
        TIMEOUT,
    )

    kinds = [(o["output_type"], sorted(o.get("data", {}))) for o in result.outputs]
    assert kinds == [
        ("display_data", ["text/markdown", "text/plain"]),
        ("display_data", ["application/json", "text/plain"]),
        ("display_data", ["text/latex", "text/plain"]),
        ("display_data", ["text/html", "text/plain"]),
        ("display_data", ["image/svg+xml", "text/plain"]),
        ("stream", []),
    ]
    assert result.outputs[1]["data"]["application/json"] == {"k": 1}
    assert result.outputs[-1]["text"] == "one\ntwo\n"


async def test_use_extends_the_sandbox_timeout_at_most_once_a_minute(
    e2b_standin, make_executor, monkeypatch
):
    executor = make_executor()

    for _ in range(3):
        await executor.run_cell("1", TIMEOUT)
    quiet = [r for r in e2b_standin.stats.requests if r.path.endswith("/timeout")]
    monkeypatch.setattr(e2b_module, "KEEPALIVE_SECONDS", 0.0)
    await executor.run_cell("1", TIMEOUT)
    await executor.run_hidden("print(1)")
    extended = [r for r in e2b_standin.stats.requests if r.path.endswith("/timeout")]

    assert quiet == []
    assert [r.status for r in extended] == [204, 204]
    assert executor.idle_for() < HANG


async def test_close_kills_the_sandbox_and_never_raises(e2b_standin, make_executor):
    executor = make_executor()
    await executor.run_cell("x = 1", TIMEOUT)

    await executor.close()
    await executor.close()
    assert e2b_standin.stats.kills == 1 and not e2b_standin.sandboxes

    # Used again after close: a new sandbox, with the earlier cells re-run.
    again = await executor.run_cell("x + 1", TIMEOUT)
    assert value(again) == "2"
    assert again.notices == [
        "The sandbox had been shut down; started a new one and re-ran 1 earlier cell."
    ]

    # Already dead when closed: still no exception.
    await e2b_standin.kill_sandbox(sandbox_id(executor))
    await executor.close()
    await make_executor().close()  # never started
