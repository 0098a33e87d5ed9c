"""Server configuration for the wheel smoke test (playwright.wheel.config.js).

Loaded by JupyterLab started from the clean virtual environment that scripts/test_wheel.sh
installs the wheel into: the Galata settings of jupyter_server_test_config.py, on port 8890,
talking to the Claude stand-in on port 8785; cells run in the notebook's kernel (no E2B).
"""

import json
import os
import tempfile

from jupyterlab.galata import configure_jupyter_server

# The SDKs honour proxy variables even for localhost.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "localhost,127.0.0.1"

# Cells run as soon as Claude writes them (review mode off), as in the main Galata config.
_config_dir = tempfile.mkdtemp(prefix="galata-nbchat-wheel-config-")
os.makedirs(os.path.join(_config_dir, "labconfig"))
with open(
    os.path.join(_config_dir, "labconfig", "default_setting_overrides.json"), "w", encoding="utf-8"
) as f:
    json.dump({"jupyter-nbchat:plugin": {"reviewMode": "never"}}, f)
os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
    p for p in (_config_dir, os.environ.get("JUPYTER_CONFIG_PATH", "")) if p
)

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.port = 8890  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.NbChat.anthropic_api_key = "sk-ant-standin"  # noqa: F821
c.NbChat.anthropic_base_url = "http://127.0.0.1:8785"  # noqa: F821
c.NbChat.executor = "kernel"  # noqa: F821
