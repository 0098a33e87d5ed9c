#!/usr/bin/env bash
# What tests/hub/test_hub.py needs: JupyterHub in .venv (the test extra), configurable-http-proxy
# from npm in .hub-node, and two Unix users for LocalProcessSpawner. Idempotent; uses sudo when
# not root (the test itself must run as root: the hub starts servers as other users).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi

if ! .venv/bin/python -c "import jupyterhub" 2>/dev/null; then
  PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/python -m pip install -q "jupyterhub>=6,<7"
fi
if [ ! -x .hub-node/node_modules/.bin/configurable-http-proxy ]; then
  npm install --prefix .hub-node --no-audit --no-fund --loglevel=error configurable-http-proxy@^5 >/dev/null
fi
for user in nbchat-alice nbchat-bob; do
  if ! id -u "$user" >/dev/null 2>&1; then
    "${SUDO[@]}" useradd --create-home --shell /bin/bash "$user"
    "${SUDO[@]}" chmod 0700 "$(getent passwd "$user" | cut -d: -f6)"
  fi
done

# The users' servers must be able to run .venv's Python. When it lives where they may not go
# (pyenv under /root on this kind of machine), give them a Python of the same minor version
# that reads .venv's packages: .venv-hubuser (test-only; a real hub installs into a shared env).
if [ "$(id -u)" = 0 ] && ! runuser -u nbchat-alice -- .venv/bin/python -c pass 2>/dev/null; then
  minor=$(.venv/bin/python -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  if [ ! -x .venv-hubuser/bin/python ]; then
    python=/usr/bin/python$minor  # the system's, which every user may run (not a pyenv shim)
    if ! runuser -u nbchat-alice -- "$python" -c "import venv" 2>/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$minor" "python$minor-venv" >/dev/null
    fi
    "$python" -m venv --without-pip .venv-hubuser
  fi
  site_packages=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  user_site=$(.venv-hubuser/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "import site; site.addsitedir('$site_packages')" > "$user_site/_nbchat_dev_env.pth"
  runuser -u nbchat-alice -- .venv-hubuser/bin/python -c "import jupyter_nbchat, jupyterhub"
fi
