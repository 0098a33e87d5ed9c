"""Server configuration for the Notebook 7 specs (playwright.notebook7.config.js).

`jupyter notebook` on port 8891 with jupyter_nbchat talking to the Claude stand-in on port
8795; the Galata settings of jupyter_server_test_config.py (no token, a temporary root);
cells run in the notebook's kernel as soon as Claude writes them (review mode off, no E2B).
"""

import os

from jupyterlab.galata import configure_jupyter_server

from jupyter_nbchat.testing.lab_settings import override_setting_defaults

# The SDKs honour proxy variables even for localhost.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "localhost,127.0.0.1"

# Notebook 7 reads the same setting overrides as JupyterLab (jupyterlab_server).
override_setting_defaults({"jupyter-nbchat:plugin": {"reviewMode": "never"}})

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.port = 8891  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.JupyterNotebookApp.expose_app_in_browser = True  # noqa: F821
c.NbChat.anthropic_api_key = "sk-ant-standin"  # noqa: F821
c.NbChat.anthropic_base_url = "http://127.0.0.1:8795"  # noqa: F821
c.NbChat.executor = "kernel"  # noqa: F821
