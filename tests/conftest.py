import pytest

from jupyter_nbchat.execution import KernelExecutor

pytest_plugins = ("pytest_jupyter.jupyter_server", "jupyter_nbchat.testing.plugin")


@pytest.fixture
def kernel_executor(jp_serverapp, notebook_path, jp_asyncio_loop):
    """A KernelExecutor on the notebook's session kernel of the test server; closed after."""
    executor = KernelExecutor(
        kernel_manager=jp_serverapp.kernel_manager,
        session_manager=jp_serverapp.session_manager,
        notebook_path=notebook_path,
    )
    yield executor
    jp_asyncio_loop.run_until_complete(executor.close())
