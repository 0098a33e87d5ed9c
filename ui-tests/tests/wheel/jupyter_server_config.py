"""Server configuration for the wheel smoke test (playwright.wheel.config.js).

Loaded by JupyterLab started from the clean virtual environment that scripts/test_wheel.sh
installs the wheel into: the Galata settings of jupyter_server_test_config.py, on port 8890,
talking to the Claude stand-in on port 8785; cells run in the notebook's kernel (no E2B).
"""

import os

from jupyterlab.galata import configure_jupyter_server

from jupyter_nbchat.testing.lab_settings import override_setting_defaults

# The SDKs honour proxy variables even for localhost.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "localhost,127.0.0.1"

# Cells run as soon as Claude writes them (review mode off), as in the main Galata config.
override_setting_defaults({"jupyter-nbchat:plugin": {"reviewMode": "never"}})

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.port = 8890  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.NbChat.anthropic_api_key = "sk-ant-standin"  # noqa: F821
c.NbChat.anthropic_base_url = "http://127.0.0.1:8785"  # noqa: F821
c.NbChat.executor = "kernel"  # noqa: F821
