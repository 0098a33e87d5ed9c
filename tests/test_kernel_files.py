"""Where the kernel really runs decides whether files travel (see execution/kernel_files.py).

A local kernel started next to the notebook shares its folder: nothing is copied. A kernel
started in another folder stands for one on another machine: the attachments go through the
kernel, once per file and kernel, and what a cell writes comes back.
"""

from __future__ import annotations

import hashlib

import pytest

from jupyter_nbchat.execution import KernelExecutor
from jupyter_nbchat.execution.base import LocalFile

pytestmark = pytest.mark.timeout(300)


def local_file(root, relative: str, data: bytes) -> LocalFile:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return LocalFile(relative, path, len(data), hashlib.sha256(data).hexdigest())


@pytest.fixture
def elsewhere(jp_serverapp, jp_root_dir, notebook_path, jp_asyncio_loop):
    """An executor on a kernel whose working directory is not the notebook's folder."""
    km = jp_serverapp.kernel_manager
    (jp_root_dir / "elsewhere").mkdir()
    kernel_id = jp_asyncio_loop.run_until_complete(km.start_kernel(kernel_name="python3", path="elsewhere"))
    executor = KernelExecutor(
        kernel_manager=km,
        session_manager=jp_serverapp.session_manager,
        notebook_path=notebook_path,
        kernel_id=kernel_id,
        max_copy_back_bytes=10_000,
    )
    yield executor
    jp_asyncio_loop.run_until_complete(executor.close())
    jp_asyncio_loop.run_until_complete(km.shutdown_kernel(kernel_id, now=True))


async def test_a_kernel_next_to_the_notebook_gets_nothing_copied(kernel_executor, jp_root_dir):
    data = local_file(jp_root_dir, "data/a.csv", b"x\n1\n")
    report = await kernel_executor.sync_files([data])
    assert kernel_executor.files.location.shared
    assert report.uploaded == [] and report.unchanged == ["data/a.csv"] and report.bytes_sent == 0
    result = await kernel_executor.run_cell("open('out.txt', 'w').write('hi')", 30)
    assert [(f.relative_path, f.copied) for f in result.changed_files] == [("out.txt", True)]
    assert result.notices == []


async def test_a_kernel_elsewhere_gets_each_file_once_and_gives_back_what_it_writes(elsewhere, jp_root_dir):
    big = bytes(range(256)) * 9000  # 2.3 MB: three chunks
    files = [local_file(jp_root_dir, "data/big.bin", big), local_file(jp_root_dir, "empty.txt", b"")]
    report = await elsewhere.sync_files(files)
    assert not elsewhere.files.location.shared
    assert elsewhere.files.location.cwd == str(jp_root_dir / "elsewhere")
    assert sorted(report.uploaded) == ["data/big.bin", "empty.txt"] and report.bytes_sent == len(big)
    assert (jp_root_dir / "elsewhere" / "data" / "big.bin").read_bytes() == big
    assert (jp_root_dir / "elsewhere" / "empty.txt").read_bytes() == b""
    again = await elsewhere.sync_files(files)
    assert again.uploaded == [] and again.bytes_sent == 0

    result = await elsewhere.run_cell(
        "import os\nos.makedirs('out', exist_ok=True)\nopen('out/small.txt', 'w').write('hello')\n"
        "open('large.bin', 'wb').write(b'0' * 20_000)",
        30,
    )
    changed = {f.relative_path: f for f in result.changed_files}
    assert changed["out/small.txt"].copied and (jp_root_dir / "out" / "small.txt").read_text() == "hello"
    assert not changed["large.bin"].copied and "stays in the kernel's folder" in changed["large.bin"].reason
    assert not (jp_root_dir / "large.bin").exists()
    assert any("its own folder" in n for n in result.notices)  # told once
    assert (await elsewhere.run_cell("print(1)", 30)).notices == []


async def test_a_restarted_kernel_is_found_again_without_sending_twice(elsewhere, jp_root_dir):
    data = local_file(jp_root_dir, "a.csv", b"a\n1\n")
    await elsewhere.sync_files([data])
    await elsewhere.restart()  # the helper module is gone with the old process
    assert (await elsewhere.sync_files([data])).bytes_sent == 0
    assert elsewhere.files.bytes_sent == 4  # the file was still there: not sent again
    (jp_root_dir / "elsewhere" / "a.csv").write_text("changed\n")
    await elsewhere.restart()  # found again: its hash no longer matches, so it is sent
    assert elsewhere.files.bytes_sent == 8
    assert (jp_root_dir / "elsewhere" / "a.csv").read_bytes() == b"a\n1\n"
    result = await elsewhere.run_cell("print(open('a.csv').read().split())", 30)
    assert result.outputs[0]["text"] == "['a', '1']\n"


async def test_a_kernel_that_cannot_say_where_it_runs_is_taken_as_local(kernel_executor, jp_root_dir, monkeypatch):
    from jupyter_nbchat.execution import kernel_files

    # The helper cannot be installed (as in a kernel that does not run Python).
    monkeypatch.setattr(kernel_files, "_INSTALL", "raise RuntimeError('no helper here') # %r")
    data = local_file(jp_root_dir, "a.csv", b"a\n1\n")
    report = await kernel_executor.sync_files([data])
    assert kernel_executor.files.location.shared and report.bytes_sent == 0
    result = await kernel_executor.run_cell("print(open('a.csv').read().split())", 30)
    assert result.outputs[0]["text"] == "['a', '1']\n"
    assert any("Could not find out where the kernel runs" in n and "no helper here" in n for n in result.notices)


async def test_a_large_file_written_elsewhere_comes_back_whole(elsewhere, jp_root_dir):
    elsewhere.files.max_copy_back_bytes = 50 * 2**20
    result = await elsewhere.run_cell(
        "import hashlib, os\ndata = os.urandom(2_500_000)  # three chunks\n"
        "open('random.bin', 'wb').write(data)\nprint(hashlib.sha256(data).hexdigest())",
        60,
    )
    digest = result.outputs[0]["text"].strip()
    assert [(f.relative_path, f.copied) for f in result.changed_files] == [("random.bin", True)]
    copied = (jp_root_dir / "random.bin").read_bytes()
    assert len(copied) == 2_500_000 and hashlib.sha256(copied).hexdigest() == digest
