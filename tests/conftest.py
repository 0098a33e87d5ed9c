pytest_plugins = ("pytest_jupyter.jupyter_server", "jupyter_nbchat.testing.plugin")
