"""Server configuration for the Galata tests (`jlpm start`).

JupyterLab runs with jupyter_nbchat talking to the Claude stand-in on port 8775
(started by playwright.config.js) and running cells in the notebook's kernel.
"""

import os

from jupyterlab.galata import configure_jupyter_server

# The SDKs honour proxy variables even for localhost.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "localhost,127.0.0.1"

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.allow_root = True  # noqa: F821
c.NbChat.anthropic_api_key = "sk-ant-standin"  # noqa: F821
c.NbChat.anthropic_base_url = "http://127.0.0.1:8775"  # noqa: F821
c.NbChat.executor = "kernel"  # noqa: F821
