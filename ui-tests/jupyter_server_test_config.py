"""Server configuration for the Galata tests (`jlpm start`).

JupyterLab runs with jupyter_nbchat talking to the Claude stand-in on port 8775
and the E2B stand-in on port 8776 (both started by playwright.config.js). Cells
run in the notebook's kernel unless a chat chooses the (stand-in) E2B sandbox.
"""

import json
import os

from jupyterlab.galata import configure_jupyter_server

from jupyter_nbchat.testing.e2b_standin import DEFAULT_API_KEY
from jupyter_nbchat.testing.lab_settings import override_setting_defaults

# The SDKs honour proxy variables even for localhost.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "localhost,127.0.0.1"

# The E2B SDK reads these when the server creates a sandbox: point it at the
# stand-in (what E2BStandIn.env() gives for port 8776). E2B_DEBUG must be false,
# or the SDK skips the control API.
E2B_STANDIN = "http://127.0.0.1:8776"
os.environ.update(
    {
        "E2B_API_KEY": DEFAULT_API_KEY,
        "E2B_API_URL": E2B_STANDIN,
        "E2B_SANDBOX_URL": E2B_STANDIN,
        "E2B_DEBUG": "false",
    }
)

# Most specs expect cells to run as soon as Claude writes them: review mode
# ("auto" reviews local-kernel cells) is off by default for the test user.
# JupyterLab layers `labconfig/default_setting_overrides.json` of every Jupyter
# config directory over the schema defaults; specs that need review mode set it
# through Galata's mockSettings.
override_setting_defaults(
    {
        "jupyter-nbchat:plugin": {"reviewMode": "never"},
        # Pages opened outside Galata's fixture (collab.spec.ts) would get the news
        # toast over the panel.
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"},
    }
)

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.allow_root = True  # noqa: F821
c.NbChat.anthropic_api_key = "sk-ant-standin"  # noqa: F821
c.NbChat.anthropic_base_url = "http://127.0.0.1:8775"  # noqa: F821
# Cells run in the local kernel by default; a chat may choose E2B (key set).
c.NbChat.executor = "kernel"  # noqa: F821
c.NbChat.e2b_api_key = DEFAULT_API_KEY  # noqa: F821

# --- Admin policy, per spec (policy.spec.ts) -------------------------------------------
# nbchat reads its policy traits (NbChat.allowed_models, allowed_executors, force_review,
# max_tokens_per_turn) on every request, and re-checks its default model and executor when
# the lists change. This test-only route sets them on the running server, as a config file
# would at start; `PUT {}` restores no limits. Only this Galata server has it.
import asyncio  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402

from jupyter_server.base.handlers import APIHandler  # noqa: E402
from jupyter_server.utils import url_path_join  # noqa: E402
from tornado import web  # noqa: E402

_POLICY_TRAITS = ("allowed_models", "allowed_executors", "force_review", "max_tokens_per_turn")


class _GalataPolicyHandler(APIHandler):
    @web.authenticated
    def put(self) -> None:
        nbchat = self.settings["nbchat"]
        body = json.loads(self.request.body or b"{}")
        for name in _POLICY_TRAITS:
            setattr(nbchat, name, body.get(name, nbchat.traits()[name].default()))
        self.finish(nbchat.policy().model_dump_json())


class _GalataBigCsvHandler(APIHandler):
    """Writes testing.big_data's CSV (161 MB) at `path` under the root, answers its totals
    (out_of_core.spec.ts): generated on the server, not uploaded through the page."""

    @web.authenticated
    async def put(self) -> None:
        from jupyter_nbchat.testing.big_data import big_csv, expected

        relative = json.loads(self.request.body)["path"]
        target = os.path.join(self.settings["server_root_dir"], relative)
        await asyncio.to_thread(big_csv, target)
        self.finish(json.dumps(expected()))


def _load_galata_policy(serverapp) -> None:
    base = url_path_join(serverapp.base_url, "nbchat-galata")
    serverapp.web_app.add_handlers(
        ".*$",
        [(url_path_join(base, "policy"), _GalataPolicyHandler), (url_path_join(base, "big-csv"), _GalataBigCsvHandler)],
    )


_policy_module = types.ModuleType("nbchat_galata_policy")
_policy_module._jupyter_server_extension_points = lambda: [{"module": "nbchat_galata_policy"}]
_policy_module._load_jupyter_server_extension = _load_galata_policy
sys.modules["nbchat_galata_policy"] = _policy_module
c.ServerApp.jpserver_extensions.update({"nbchat_galata_policy": True})  # noqa: F821

# --- A server database (databases.spec.ts) ---------------------------------------------
# A named connection as an admin would configure one (any SQLAlchemy URL; SQLite here, so
# the browser test needs no database server: tests/test_databases.py runs PostgreSQL). The
# file lives outside the server root: the person reaches it only through the connection.
import sqlite3  # noqa: E402
import tempfile  # noqa: E402

_shop = os.path.join(tempfile.mkdtemp(prefix="nbchat-galata-db-"), "shop.sqlite")
with sqlite3.connect(_shop) as _con:
    _con.executescript(
        """
        CREATE TABLE orders (id INTEGER PRIMARY KEY, region TEXT NOT NULL, amount REAL NOT NULL,
                             customer TEXT);
        INSERT INTO orders (region, amount, customer) VALUES
            ('North', 120.5, 'Zebediah Quux'), ('South', 80.0, 'Ann'), ('North', 30.0, 'Bo'),
            ('South', 19.5, 'Cy'), ('East', 7.25, 'Di');
        CREATE TABLE regions (name TEXT PRIMARY KEY, manager TEXT);
        INSERT INTO regions VALUES ('North', 'Nia'), ('South', 'Sol'), ('East', 'Eve');
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 50;
        """
    )
_con.close()
c.NbChat.databases = {  # noqa: F821
    "shop": {"url": f"sqlite:///{_shop}", "description": "The web shop's orders"}
}

# --- A kernel with little memory (out_of_core.spec.ts) ----------------------------------
# "Python 3 (512 MiB)": ipykernel under RLIMIT_DATA 512 MiB, where pandas cannot read the
# 161 MB CSV the spec generates (route big-csv above) but DuckDB can aggregate it.
from pathlib import Path  # noqa: E402

from jupyter_nbchat.testing.big_data import limited_kernelspec  # noqa: E402

_jupyter_data = tempfile.mkdtemp(prefix="nbchat-galata-kernels-")
limited_kernelspec(Path(_jupyter_data) / "kernels")
os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (_jupyter_data, os.environ.get("JUPYTER_PATH")) if p)
