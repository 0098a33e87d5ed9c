#!/usr/bin/env bash
# A separate virtualenv, .venv-eg, with the real Jupyter Enterprise Gateway for the tests in
# tests/test_enterprise_gateway.py. Apart from .venv because the gateway pins an older
# jupyter_server and jupyter_client; its kernels run on its own Python, with pandas.
# Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -x .venv-eg/bin/jupyter-enterprisegateway ] && .venv-eg/bin/python -c "import pandas, ipykernel" 2>/dev/null; then
  exit 0
fi
python3 -m venv .venv-eg
# ipykernel < 6.30 keeps jupyter_client 6 and pyzmq < 25, which the gateway requires.
PIP_DISABLE_PIP_VERSION_CHECK=1 .venv-eg/bin/python -m pip install -q \
  "jupyter_enterprise_gateway==3.3.0" "ipykernel<6.30" pandas
.venv-eg/bin/python -m pip check
