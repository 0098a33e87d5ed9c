#!/usr/bin/env bash
# The chat in Notebook 7 (ui-tests/tests/notebook7, playwright.notebook7.config.js): the
# shortcut opens it in the right sidebar as soon as a notebook page shows its notebook, and
# one question becomes a cell run in the notebook's kernel. Starts `jupyter notebook` on port
# 8891 and the Claude stand-in on 8795 from the development environment, in Debian's Chromium.
# Extra arguments go to `playwright test` (e.g. --headed, -g 'cell editor').
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
export NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1
start=$(date +%s)

python -c "import notebook, sys; sys.exit(not notebook.__version__.startswith('7.'))" 2>/dev/null \
  || python -m pip install -q 'notebook>=7,<8'
echo "Notebook $(python -c 'import notebook; print(notebook.__version__)'), labextension:"
jupyter labextension list 2>&1 | grep -E "jupyter-nbchat" \
  || { echo "the jupyter-nbchat labextension is not installed (pip install -e . / jlpm build)" >&2; exit 1; }

cd ui-tests
[ -d node_modules/@playwright/test ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 jlpm install >/dev/null
# Other Playwright runs on this machine share the lock (and the stand-ins' ports are ours).
flock /tmp/galata.lock jlpm playwright test -c playwright.notebook7.config.js "$@"
echo "Notebook 7 specs passed in $(( $(date +%s) - start )) s"
