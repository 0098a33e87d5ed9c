"""Putting the connections' URLs into the runtime's environment, never into the notebook.

A hidden run (`Executor.run_hidden`: no history, no cell, no output kept) sets
`os.environ[NBCHAT_DB_<NAME>]` in the kernel or sandbox process, so the generated code reads
`os.environ["NBCHAT_DB_SALES"]` and the .ipynb holds only that name. It is set before the first
cell of every turn that uses the connection and in Verify's fresh runtime (a restart loses it).
The same snippet serves the local kernel, a gateway kernel and an E2B sandbox.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from ..execution.base import Executor

_SET = (
    "def _nbchat_env(blob):\n"
    "    import base64, json, os\n"
    "    os.environ.update(json.loads(base64.b64decode(blob)))\n"
    "_nbchat_env({blob!r})\n"
    "del _nbchat_env\n"
)


def snippet(env: Mapping[str, str]) -> str:
    """The hidden code (the values travel as base64, so no quoting can break it)."""
    blob = base64.b64encode(json.dumps(dict(env)).encode("utf-8")).decode("ascii")
    return _SET.format(blob=blob)


async def set_environment(executor: Executor, env: Mapping[str, str]) -> None:
    """Set `env` in the executor's runtime (after `ensure_ready`); nothing when empty."""
    if env:
        await executor.run_hidden(snippet(env))
