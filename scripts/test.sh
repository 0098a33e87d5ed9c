#!/usr/bin/env bash
# Set up (if needed) and run every test: lint, pytest (real server, kernels, SDKs against
# stand-ins, the real Enterprise Gateway and JupyterHub), the same with jupyter-collaboration,
# jest (frontend units), Galata (real JupyterLab in Debian's Chromium, also collaborative) and
# the wheel as users install it. Databases: SQLite/DuckDB files and a real PostgreSQL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$(date +%s)
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's Chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
fi

bash scripts/setup_gateway.sh  # the real Enterprise Gateway, in .venv-eg: tests/test_enterprise_gateway.py
bash scripts/setup_hub.sh      # JupyterHub, configurable-http-proxy (.hub-node), two Unix users: tests/hub
export NBCHAT_REQUIRE_HUB=1    # tests/hub/test_hub.py fails instead of skipping when it cannot run
bash scripts/setup_collab.sh   # jupyter-collaboration, in .venv-collab: tests/collab, ui-tests/tests/collab
bash scripts/setup_postgres.sh # Debian's PostgreSQL: tests/test_databases.py starts its own cluster
export NBCHAT_REQUIRE_POSTGRES=1

echo "== lint"
bash scripts/lint.sh
echo "== pytest"
python -m pytest -q -p no:cacheprovider
echo "== pytest with jupyter-collaboration"
.venv-collab/bin/python -m pytest -q -p no:cacheprovider tests/collab
echo "== jest"
jlpm test
echo "== galata"
(
  cd ui-tests
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 YARN_ENABLE_IMMUTABLE_INSTALLS=false jlpm install >/dev/null
  jlpm playwright test
  echo "== galata with jupyter-collaboration"
  jlpm playwright test -c playwright.collab.config.js
)
echo "== Notebook 7"
bash scripts/test_notebook7.sh
echo "== wheel (what users install)"
bash scripts/test_wheel.sh
echo "== lowest declared JupyterLab and jupyter_server"
bash scripts/test_compat.sh
echo "All tests passed in $(( $(date +%s) - start )) s"
