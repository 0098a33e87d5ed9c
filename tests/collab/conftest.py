"""Tests with jupyter-collaboration installed (.venv-collab, scripts/setup_collab.sh)."""

import pytest


@pytest.fixture
def nbchat_config():
    # A page that closed mid-turn: the server writes the turn itself, soon.
    return {"unfollowed_write_delay": 0.2}


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir):
    """nbchat's test server with jupyter-collaboration's server extensions, as installed."""
    config = dict(jp_server_config)
    config["ServerApp"] = {
        **config["ServerApp"],
        "jpserver_extensions": {
            **config["ServerApp"]["jpserver_extensions"],
            "jupyter_server_ydoc": True,
            "jupyter_server_fileid": True,
        },
    }
    config["SQLiteYStore"] = {"db_path": str(jp_root_dir / ".rtc_test.db")}
    config["BaseFileIdManager"] = {
        "root_dir": str(jp_root_dir),
        "db_path": str(jp_root_dir / ".fid_test.db"),
        "db_journal_mode": "OFF",
    }
    # The room saves one second after the last change, as JupyterLab users have it.
    config["YDocExtension"] = {"document_save_delay": 1.0}
    return config
