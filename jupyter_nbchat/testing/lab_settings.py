"""Setting defaults for the JupyterLab and Notebook 7 servers the browser tests start."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any


def override_setting_defaults(overrides: dict[str, Any]) -> str:
    """Layer `overrides` ({plugin id: {setting: value}}) over the schema defaults of every
    page this process serves, and return the config folder that holds them.

    jupyterlab_server (JupyterLab and Notebook 7 alike) reads
    `labconfig/default_setting_overrides.json` of every Jupyter config directory: one made
    here is put first on JUPYTER_CONFIG_PATH. Call it from a server config file."""
    folder = tempfile.mkdtemp(prefix="nbchat-lab-settings-")
    os.makedirs(os.path.join(folder, "labconfig"))
    with open(os.path.join(folder, "labconfig", "default_setting_overrides.json"), "w", encoding="utf-8") as f:
        json.dump(overrides, f)
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in (folder, os.environ.get("JUPYTER_CONFIG_PATH", "")) if p
    )
    return folder
