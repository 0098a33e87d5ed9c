"""Stop is race-free: a cell stopped at any moment of its start ends, and the next runs at once.

An interrupt that reaches the kernel before it starts running the cell is ignored by the
kernel (its SIGINT handler is only installed around a handler call), so a Stop pressed in
the first milliseconds used to leave the cell running. These tests stop a 30 s cell at many
offsets from the moment its execute request is sent; a regression makes the next cell wait
behind the sleep and fail its bound instead of hanging.
"""

from __future__ import annotations

import asyncio

import pytest

from jupyter_nbchat.execution import KernelExecutor
from jupyter_nbchat.testing.plugin import of_type

pytestmark = pytest.mark.timeout(300)

#: "Did not hang": far longer than a prompt cell, far shorter than the 30 s sleep.
BOUND = 20.0
SLEEP = "import time\ntime.sleep(30)\nfinished = True"
#: Seconds between the execute request and Stop: at once, then through the kernel's start.
OFFSETS = [None, 0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05]
OFFSETS += [0.1, 0.3]


@pytest.fixture
def executor(kernel_executor):
    return kernel_executor


def stdout(result) -> str:
    return "".join(o["text"] for o in result.outputs if o["output_type"] == "stream" and o["name"] == "stdout")


async def stop_after_sending(executor: KernelExecutor, offset: float | None):
    """Run SLEEP and cancel it `offset` seconds after its execute request went out (None: in
    the same step as the send, before the executor reads anything); its outputs at the end."""
    loop = asyncio.get_running_loop()
    client = executor._client
    send = client.execute
    task: asyncio.Task | None = None

    def execute(*args, **kwargs):
        msg_id = send(*args, **kwargs)
        if offset is None:
            task.cancel()  # type: ignore[union-attr]
        else:
            loop.call_later(offset, task.cancel)  # type: ignore[union-attr]
        return msg_id

    client.execute = execute
    try:
        task = asyncio.ensure_future(executor.run_cell(SLEEP, 60))
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, BOUND)
    finally:
        client.execute = send
    return executor.live


async def test_stop_at_any_offset_from_the_start_ends_the_cell(executor):
    await asyncio.wait_for(executor.run_cell("x = 41", 60), BOUND)
    for offset in OFFSETS:
        stopped = await stop_after_sending(executor, offset)
        after = await asyncio.wait_for(executor.run_cell("print(x + 1, 'finished' in globals())", 60), BOUND)

        assert stdout(after) == "42 False\n", offset  # it ran at once, with the earlier variables
        errors = [o for o in stopped.outputs() if o["output_type"] == "error"]
        assert [e["ename"] for e in errors] == ["KeyboardInterrupt"], (offset, stopped.outputs())


async def test_stop_before_the_request_is_sent_runs_nothing(executor):
    await asyncio.wait_for(executor.run_cell("x = 41", 60), BOUND)
    task = asyncio.ensure_future(executor.run_cell(SLEEP, 60))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, BOUND)
    after = await asyncio.wait_for(executor.run_cell("print(x + 1, 'finished' in globals())", 60), BOUND)

    assert stdout(after) == "42 False\n"


async def test_stop_through_the_api_right_after_the_cell_starts(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code("x = 41"), claude_standin.text("Set."))
    await asyncio.wait_for(nbchat.ask(notebook_path, "Set x"), BOUND)
    for _ in range(3):
        claude_standin.script(claude_standin.code(SLEEP))
        turn_id = await nbchat.start_turn(notebook_path, "Sleep")
        await asyncio.wait_for(nbchat.events(turn_id, until="cell_started"), BOUND)
        await asyncio.wait_for(nbchat.post("turns", turn_id, "cancel"), BOUND)
        stopped = await nbchat.events(turn_id)
        claude_standin.script(claude_standin.code("print(x + 1, 'finished' in globals())"), claude_standin.text("42."))
        after = await asyncio.wait_for(nbchat.ask(notebook_path, "Print x"), BOUND)

        assert stopped[-1]["type"] == "turn_finished" and stopped[-1]["status"] == "cancelled"
        (final,) = [e["cell"] for e in of_type(stopped, "cell") if e["role"] == "code"]
        assert final["outputs"][-1]["ename"] == "KeyboardInterrupt"
        (printed,) = [e["cell"] for e in of_type(after, "cell") if e["role"] == "code"]
        assert printed["outputs"][0]["text"] == "42 False\n"
        assert after[-1]["status"] == "done"
