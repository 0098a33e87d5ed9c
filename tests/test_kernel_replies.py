"""The kernel client reads every reply to its executions: none is left queued (each one is
about 10 KiB kept for the life of the server otherwise)."""

from __future__ import annotations

import queue

import pytest

from jupyter_nbchat.execution import KernelExecutor

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def executor(kernel_executor):
    return kernel_executor


async def assert_no_reply_queued(executor: KernelExecutor) -> None:
    with pytest.raises(queue.Empty):
        msg = await executor._client.get_shell_msg(timeout=0.5)
        pytest.fail(f"a {msg['msg_type']} to {msg['parent_header'].get('msg_type')} was left queued")


async def test_visible_and_hidden_executions_leave_no_reply_queued(executor):
    for i in range(5):
        await executor.run_cell(f"v{i} = {i}", 30)
    await executor.run_cell("1/0", 30)  # an error reply too
    assert await executor.run_hidden("print(v4)") == "4\n"

    await assert_no_reply_queued(executor)


async def test_a_timed_out_cell_leaves_no_reply_queued(executor):
    result = await executor.run_cell("import time\ntime.sleep(30)", 1.0)
    after = await executor.run_cell("1 + 1", 30)

    assert result.timed_out and after.outputs[0]["data"]["text/plain"] == "2"
    await assert_no_reply_queued(executor)


async def test_a_stale_reply_is_dropped_and_the_next_cell_reads_its_own(executor):
    await executor.run_cell("1", 30)
    executor._client.kernel_info()  # its reply is not ours: it must not be taken for one
    result = await executor.run_cell("print('mine')", 30)

    assert result.outputs[0]["text"] == "mine\n"
    await assert_no_reply_queued(executor)
