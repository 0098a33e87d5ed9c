import importlib.util

import pytest

from jupyter_nbchat.execution import KernelExecutor

pytest_plugins = ("pytest_jupyter.jupyter_server", "jupyter_nbchat.testing.plugin")

# tests/collab/ needs jupyter-collaboration, which only .venv-collab has (scripts/test.sh runs
# it there); the rest of the suite sees JupyterLab without it, as most people run it.
collect_ignore = [] if importlib.util.find_spec("jupyter_server_ydoc") else ["collab"]


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
