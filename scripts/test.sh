#!/usr/bin/env bash
# Set up (if needed) and run every test: pytest (real server, kernels, SDKs against
# stand-ins), jest (frontend units) and Galata (real JupyterLab in Debian's Chromium).
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

echo "== pytest"
python -m pytest -q -p no:cacheprovider
echo "== jest"
jlpm test
echo "== galata"
(
  cd ui-tests
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 YARN_ENABLE_IMMUTABLE_INSTALLS=false jlpm install >/dev/null
  jlpm playwright test
)
echo "All tests passed in $(( $(date +%s) - start )) s"
