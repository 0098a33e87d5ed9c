#!/usr/bin/env bash
# Set up a fresh machine for jupyter_nbchat: a virtualenv in .venv with the project
# installed (building the labextension with jlpm), then check both halves are enabled.
# Idempotent: a second run only re-checks. Sourced by start.sh and test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

node_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || echo 0)
if [ "${node_major:-0}" -lt 20 ]; then
  echo "jupyter_nbchat needs Node.js 20 or newer to build its JupyterLab extension (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1 YARN_ENABLE_IMMUTABLE_INSTALLS=false

if ! python -c "import jupyter_nbchat._version" 2>/dev/null || [ "${NBCHAT_REINSTALL:-0}" = 1 ]; then
  python -m pip install -q --upgrade pip
  # Editable: builds the labextension (jlpm install + build) through hatch-jupyter-builder.
  python -m pip install -q -e ".[test]"
fi
# Link the labextension so `jlpm build` changes show up without reinstalling.
jupyter-builder develop --overwrite . >/dev/null

jupyter server extension list 2>&1 | tee /tmp/nbchat-server-ext.txt | grep -E "jupyter_nbchat.*(enabled|OK)" >/dev/null \
  || { cat /tmp/nbchat-server-ext.txt >&2; echo "server extension jupyter_nbchat is not enabled" >&2; exit 1; }
grep -q "jupyter_nbchat.*OK" /tmp/nbchat-server-ext.txt \
  || { cat /tmp/nbchat-server-ext.txt >&2; echo "server extension jupyter_nbchat did not load" >&2; exit 1; }
jupyter labextension list 2>&1 | tee /tmp/nbchat-lab-ext.txt | grep -E "jupyter-nbchat.*enabled.*OK" >/dev/null \
  || { cat /tmp/nbchat-lab-ext.txt >&2; echo "labextension jupyter-nbchat is not enabled and OK" >&2; exit 1; }
echo "jupyter_nbchat: server extension and labextension enabled and OK"
