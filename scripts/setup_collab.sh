#!/usr/bin/env bash
# A separate virtualenv, .venv-collab: the project (editable, the labextension built by
# setup.sh) with jupyter-collaboration, for tests/collab/. Apart from .venv because
# installing jupyter-collaboration turns every JupyterLab into a collaborative one, and the
# rest of the suite (and `scripts/start.sh`) must see JupyterLab as most people run it.
# Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! { [ -x .venv-collab/bin/python ] && .venv-collab/bin/python -c "import jupyter_collaboration, jupyter_nbchat" 2>/dev/null; }; then
  python3 -m venv .venv-collab
  PIP_DISABLE_PIP_VERSION_CHECK=1 .venv-collab/bin/python -m pip install -q -e ".[test]" "jupyter-collaboration>=4,<6"
fi
# The labextension as setup.sh built it (the editable install skips the build when it exists).
.venv-collab/bin/jupyter-builder develop --overwrite . >/dev/null
