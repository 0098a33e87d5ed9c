"""One contract for every executor: the same code gives the same outputs.

Each test runs twice: in the notebook's own kernel (through the pytest-jupyter
server's kernel and session managers) and in an E2B sandbox (the real SDK against
the E2B stand-in). Only the runtime differs; the assertions do not.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_nbchat.execution import (
    E2BExecutor,
    ExecutionResult,
    Executor,
    KernelExecutor,
    LocalFile,
)
from jupyter_nbchat.execution.introspection import list_variables

pytestmark = pytest.mark.timeout(90)

TIMEOUT = 60.0
#: "Did not hang": generous bounds, never a performance assertion.
HANG = 30.0


@dataclass
class Runtime:
    executor: Executor
    #: Where the runtime's working directory is on this machine (it may change, e.g. after a restart).
    workdir: Callable[[], Path]


@pytest.fixture(params=["kernel", "e2b"])
def runtime(request, jp_root_dir, jp_asyncio_loop):
    if request.param == "kernel":
        serverapp = request.getfixturevalue("jp_serverapp")
        executor: Executor = KernelExecutor(
            kernel_manager=serverapp.kernel_manager,
            session_manager=serverapp.session_manager,
            notebook_path=request.getfixturevalue("notebook_path"),
        )  # notebook_dir: the kernel manager's folder for the notebook, jp_root_dir

        def workdir() -> Path:
            return jp_root_dir
    else:
        standin = request.getfixturevalue("e2b_standin")
        executor = E2BExecutor(
            api_key=standin.api_key,
            notebook_dir=jp_root_dir,
            idle_timeout=600,
            sdk_options=standin.sdk_kwargs(),
        )

        def workdir() -> Path:
            return standin.files_root(executor.state()["sandbox_id"]) / "home/user"

    yield Runtime(executor, workdir)
    jp_asyncio_loop.run_until_complete(executor.close())


async def run(rt: Runtime, code: str, timeout: float = TIMEOUT) -> ExecutionResult:
    result = await rt.executor.run_cell(code, timeout)
    # Every output is valid nbformat v4 in a real notebook.
    nbformat.validate(new_notebook(cells=[new_code_cell(code, outputs=result.outputs)]))
    return result


def of_type(result: ExecutionResult, kind: str) -> list[dict]:
    return [o for o in result.outputs if o["output_type"] == kind]


def streams(result: ExecutionResult) -> dict[str, str]:
    text: dict[str, str] = {}
    for o in of_type(result, "stream"):
        text[o["name"]] = text.get(o["name"], "") + o["text"]
    return text


def value(result: ExecutionResult) -> str:
    """The cell's result as text (E2B strips the quotes of a str repr, so compare unquoted)."""
    (out,) = of_type(result, "execute_result")
    return out["data"]["text/plain"].strip("'")


def local_file(root: Path, relative: str, data: bytes) -> LocalFile:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return LocalFile(relative, path, len(data), hashlib.sha256(data).hexdigest())


async def test_streams_results_rich_data_and_errors(runtime):
    printed = await run(runtime, "import sys\nprint('out')\nprint('err', file=sys.stderr)")
    two = await run(runtime, "1+1")
    frame = await run(runtime, "import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': [3, 4]})")
    figure = await run(runtime, "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")
    failed = await run(runtime, "print('before')\n1/0")

    assert streams(printed) == {"stdout": "out\n", "stderr": "err\n"}
    assert printed.error is None and not printed.timed_out

    (result,) = two.outputs
    assert result["output_type"] == "execute_result"
    assert result["data"]["text/plain"] == "2"
    assert isinstance(result["execution_count"], int)
    assert result["execution_count"] == two.execution_count

    (table,) = of_type(frame, "execute_result")
    assert "<table" in table["data"]["text/html"]
    assert "a  b" in table["data"]["text/plain"]

    (image,) = of_type(figure, "display_data")
    assert base64.b64decode(image["data"]["image/png"]).startswith(b"\x89PNG")
    assert not of_type(figure, "error")

    assert [o["output_type"] for o in failed.outputs] == ["stream", "error"]
    error = failed.error
    assert (error["ename"], error["evalue"]) == ("ZeroDivisionError", "division by zero")
    assert isinstance(error["traceback"], list) and all(
        isinstance(t, str) for t in error["traceback"]
    )
    assert any("ZeroDivisionError" in line for line in error["traceback"])


async def test_variables_persist_and_are_listed(runtime):
    await run(
        runtime,
        "import pandas as pd\n"
        "shoes = pd.DataFrame({'size': [40, 41, 42], 'price': [50.0, 60.0, 70.0]})\n"
        "x = 41",
    )
    later = await run(runtime, "x + 1")
    variables = {v["name"]: v for v in await list_variables(runtime.executor)}

    assert value(later) == "42"
    assert variables["shoes"]["type"] == "DataFrame"
    assert variables["shoes"]["shape"] == [3, 2]
    assert variables["shoes"]["columns"] == ["size", "price"]
    assert variables["x"]["type"] == "int"


async def test_synced_files_are_read_by_relative_path_and_outputs_come_back(runtime, jp_root_dir):
    shoes = local_file(jp_root_dir, "data/shoes.csv", b"size,price\n40,50\n41,60\n42,70\n")
    report = await runtime.executor.sync_files([shoes])
    result = await run(
        runtime,
        "import hashlib, os\nimport pandas as pd\n"
        "shoes = pd.read_csv('data/shoes.csv')\n"
        "os.makedirs('out', exist_ok=True)\n"
        "shoes.assign(total=shoes.price * 2).to_csv('out/result.csv', index=False)\n"
        "print(len(shoes), hashlib.sha256(open('out/result.csv', 'rb').read()).hexdigest())",
    )

    assert set(report.uploaded + report.unchanged) == {"data/shoes.csv"}
    assert result.error is None
    rows, digest = streams(result)["stdout"].split()
    assert rows == "3"
    written = jp_root_dir / "out/result.csv"
    assert hashlib.sha256(written.read_bytes()).hexdigest() == digest
    assert [(f.relative_path, f.size, f.copied) for f in result.changed_files] == [
        ("out/result.csv", written.stat().st_size, True)
    ]
    # Nothing changed: nothing reported.
    assert (await run(runtime, "1")).changed_files == []


async def test_timeout_interrupts_and_the_chat_goes_on(runtime):
    await run(runtime, "kept = 7")
    started = time.monotonic()
    slow = await run(runtime, "import time\ntime.sleep(30)\ndone = True", timeout=1.5)
    elapsed = time.monotonic() - started
    after = await run(runtime, "kept * 6")
    not_done = await run(runtime, "'done' in globals()")

    assert elapsed < HANG
    assert slow.timed_out
    assert slow.error is not None
    timeout_errors = [o for o in of_type(slow, "error") if o["ename"] == "TimeoutError"]
    assert timeout_errors and "1.5 s" in timeout_errors[0]["evalue"]
    assert value(after) == "42"
    assert value(not_done) == "False"


async def test_an_infinite_loop_is_interrupted_at_the_timeout(runtime):
    await run(runtime, "kept = 7")
    started = time.monotonic()
    looping = await run(runtime, "n = 0\nwhile True:\n    n += 1", timeout=1.5)
    elapsed = time.monotonic() - started
    after = await run(runtime, "kept * 6")

    assert elapsed < HANG
    assert looping.timed_out
    assert [o["ename"] for o in of_type(looping, "error")][-1] == "TimeoutError"
    assert value(after) == "42"  # the kernel survived the interrupt with its variables


async def test_interrupt_stops_the_running_cell(runtime):
    flag = runtime.workdir
    await runtime.executor.ensure_ready()
    cell = asyncio.ensure_future(
        run(runtime, "import time\nopen('started.flag', 'w').close()\ntime.sleep(30)")
    )
    deadline = time.monotonic() + HANG
    while not (flag() / "started.flag").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await runtime.executor.interrupt()
    result = await asyncio.wait_for(cell, HANG)
    after = await run(runtime, "1+1")

    assert result.error is not None and result.error["ename"] == "KeyboardInterrupt"
    assert not result.timed_out
    assert value(after) == "2"


async def test_restart_forgets_variables_and_keeps_files(runtime):
    await run(runtime, "z = 1\nopen('kept.txt', 'w').write('still here')")
    await runtime.executor.restart()
    gone = await run(runtime, "z")
    kept = await run(runtime, "open('kept.txt').read()")

    assert gone.error["ename"] == "NameError"
    assert value(kept) == "still here"


async def test_twenty_megabytes_of_output_end_bounded_with_a_note(runtime):
    result = await run(runtime, "print('x' * 20_000_000)\nprint('the end')")

    text = streams(result)["stdout"]
    assert 1_000_000 <= len(text) < 1_000_200  # max_output_chars, plus the note
    assert text.startswith("x" * 1000) and text.endswith("x\nthe end\n")
    note = re.search(r"\n\[… ([\d,]+) characters of output truncated …\]\n", text)
    assert note is not None
    dropped = int(note.group(1).replace(",", ""))
    assert dropped + len(text) - len(note.group(0)) == 20_000_001 + len("the end\n")
    assert result.error is None


async def test_fifty_figures_in_one_cell(runtime):
    result = await run(
        runtime,
        "import matplotlib.pyplot as plt\n"
        "for i in range(50):\n"
        "    plt.figure(figsize=(1, 1), dpi=40)\n"
        "    plt.plot([0, i])\n"
        "    plt.show()",
    )

    images = [o for o in of_type(result, "display_data") if "image/png" in o["data"]]
    assert len(images) == 50
    assert result.error is None


async def test_a_dying_kernel_is_reported_and_the_next_cell_runs(runtime):
    await run(runtime, "x = 1")
    started = time.monotonic()
    died = await run(runtime, "import os\nos._exit(1)")
    elapsed = time.monotonic() - started
    after = await run(runtime, "'x' in globals()")

    assert elapsed < HANG
    assert died.error["ename"] == "KernelDied"
    assert "variables from earlier cells are gone" in died.error["evalue"]
    assert any("died" in n for n in died.notices)
    assert value(after) == "False"
