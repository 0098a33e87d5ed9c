#!/usr/bin/env bash
# Set up (if needed) and start JupyterLab with jupyter_nbchat.
# Cells run in the notebook's own kernel. Without ANTHROPIC_API_KEY the chat panel
# says how to set it. Extra arguments go to `jupyter lab`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
args=()
if [ "$(id -u)" = 0 ]; then args+=(--allow-root); fi
exec jupyter lab "${args[@]}" "$@"
