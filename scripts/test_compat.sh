#!/usr/bin/env bash
# Test the lowest JupyterLab and jupyter_server that pyproject.toml declares (or the versions
# given): a clean virtual environment with exactly those versions and the project's wheel,
# then `pip check`, the extension lists, JupyterLab's browser_check in Debian's Chromium (every
# plugin must activate without an error) and the Python tests that drive the server extension
# (tests/test_turn.py tests/test_security.py tests/test_datafiles_http.py
# tests/test_datafiles_parquet_optional.py) against the installed wheel. Prints the time of
# each step at the end.
#
#   scripts/test_compat.sh                      # the lowest versions pyproject.toml declares
#   scripts/test_compat.sh 4.2.0 2.13.0         # JUPYTERLAB JUPYTER_SERVER
#   NBCHAT_WHEEL=dist/x.whl scripts/test_compat.sh   # this wheel (else dist/*.whl, else a build)
#   NBCHAT_COMPAT_TESTS="tests/test_turn.py" scripts/test_compat.sh   # another pytest subset
#
# Needs Node.js only to build the wheel (when there is none) and to drive Chromium.
# Everything happens under a temporary folder (NBCHAT_KEEP_COMPAT_TEST=1 keeps it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
start=$(date +%s)
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
export NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1 PIP_DISABLE_PIP_VERSION_CHECK=1

# The lowest versions of the declared ranges ("jupyterlab>=4.2,<5" -> 4.2.0).
lowest() {
  python - "$1" <<'EOF'
import re, sys, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for dep in deps:
    m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", dep)
    if m and m.group(1).lower().replace("-", "_") == sys.argv[1]:
        low = re.search(r">=\s*([0-9.]+)", m.group(2))
        version = low.group(1) if low else ""
        print(version + ".0" * (3 - len(version.split("."))))
        break
EOF
}
LAB=${1:-$(lowest jupyterlab)}
SERVER=${2:-$(lowest jupyter_server)}
TESTS=${NBCHAT_COMPAT_TESTS:-tests/test_turn.py tests/test_security.py tests/test_datafiles_http.py tests/test_datafiles_parquet_optional.py}
echo "== JupyterLab $LAB, jupyter_server $SERVER"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nbchat-compat-XXXXXX")
cleanup() {
  if [ "${NBCHAT_KEEP_COMPAT_TEST:-0}" = 1 ]; then echo "Kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
timings=()
t0=0
step() { t0=$(date +%s.%N); echo "== $1"; }
took() { timings+=("$(printf '%-34s %5.0f s' "$1" "$(python -c "import sys, time; print(time.time() - float(sys.argv[1]))" "$t0")")"); }
fail() { echo "FAILED: $*" >&2; exit 1; }

WHEEL=${NBCHAT_WHEEL:-$(ls -t dist/*.whl 2>/dev/null | head -1 || true)}
if [ -z "$WHEEL" ]; then
  step "build the wheel (no dist/*.whl)"
  # Tracked and new files as they are now, nothing git ignores: a release-like build.
  mkdir "$WORK/src"
  git ls-files -z --cached --others --exclude-standard \
    | (tar --null --ignore-failed-read -T - -cf - 2>/dev/null || true) \
    | tar -xf - -C "$WORK/src"
  python -c "import build" 2>/dev/null || python -m pip install -q "build>=1.2"
  YARN_ENABLE_IMMUTABLE_INSTALLS=false python -m build --wheel --outdir "$WORK/dist" "$WORK/src" \
    >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; fail "python -m build"; }
  WHEEL=$(ls "$WORK"/dist/*.whl)
  took "build the wheel"
fi
WHEEL=$(realpath "$WHEEL")
echo "Wheel: $WHEEL"

step "clean venv: jupyterlab==$LAB jupyter_server==$SERVER + the wheel + test deps"
VENV="$WORK/venv"
base_python=$(python -c "import sys; print(getattr(sys, '_base_executable', sys.executable))")
"$base_python" -m venv "$VENV"
# The clean environment, with its own Jupyter folders; Node stays on PATH (it drives Chromium).
in_venv() {
  env -u PYTHONPATH -u PYTHONHOME -u JUPYTER_PATH -u JUPYTER_CONFIG_PATH -u JUPYTER_PREFER_ENV_PATH \
    -u CONDA_PREFIX PATH="$VENV/bin:$(echo "$PATH" | tr : '\n' | grep -vxF "${VIRTUAL_ENV:-/nonexistent}/bin" | paste -sd:)" \
    VIRTUAL_ENV="$VENV" JUPYTER_CONFIG_DIR="$WORK/home/config" JUPYTER_DATA_DIR="$WORK/home/data" \
    JUPYTER_RUNTIME_DIR="$WORK/home/runtime" IPYTHONDIR="$WORK/home/ipython" "$@"
}
printf 'jupyterlab==%s\njupyter_server==%s\n' "$LAB" "$SERVER" >"$WORK/constraints.txt"
# The test extra, less what only builds or lints, Notebook 7 (it wants a newer JupyterLab) and
# JupyterHub (tests/hub only).
python - >"$WORK/test-requirements.txt" <<'EOF'
import re, tomllib
extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["test"]
skip = {"jupyter_builder", "ruff", "build", "twine", "notebook", "jupyterhub", "jupyterlab", "jupyter_server"}
for req in extras:
    name = re.match(r"\s*([A-Za-z0-9_.-]+)", req).group(1).lower().replace("-", "_")
    if name not in skip:
        print(req)
EOF
in_venv python -m pip install -c "$WORK/constraints.txt" "jupyterlab==$LAB" "jupyter_server==$SERVER" \
  "$WHEEL" -r "$WORK/test-requirements.txt" >"$WORK/pip.log" 2>&1 \
  || { tail -30 "$WORK/pip.log" >&2; fail "pip install (jupyterlab==$LAB, jupyter_server==$SERVER)"; }
in_venv python -m pip check || fail "pip check"
in_venv python - "$LAB" "$SERVER" <<'EOF'
import sys
from importlib.metadata import version
got = (version("jupyterlab"), version("jupyter_server"))
assert got == tuple(sys.argv[1:]), f"installed {got}, wanted {sys.argv[1:]}"
print("Installed jupyterlab %s, jupyter_server %s, jupyter_nbchat %s" % (*got, version("jupyter_nbchat")))
EOF
took "venv + pip install"

step "extension lists"
in_venv jupyter server extension list >"$WORK/server-ext.txt" 2>&1 || true
grep -E "jupyter_nbchat.*OK" "$WORK/server-ext.txt" || { cat "$WORK/server-ext.txt" >&2; fail "server extension"; }
in_venv jupyter labextension list >"$WORK/lab-ext.txt" 2>&1 || true
grep -E "jupyter-nbchat.*enabled.*OK" "$WORK/lab-ext.txt" || { cat "$WORK/lab-ext.txt" >&2; fail "labextension"; }
took "extension lists"

step "browser_check in /usr/bin/chromium"
# browser_check runs `npx playwright install chromium` (a download that fails here) and then
# browser-test.js, which launches `require('playwright').chromium`. Its folder gets a stand-in
# `playwright` module: the real one (ui-tests' node_modules) launching Debian's Chromium, and
# a `playwright` command that installs nothing.
app_dir=$(in_venv python -c "from jupyterlab.commands import get_app_dir; print(get_app_dir())")
shim="$app_dir/browser_test/node_modules"
mkdir -p "$shim/playwright" "$shim/.bin"
real_playwright="$REPO/ui-tests/node_modules/playwright"
[ -d "$real_playwright" ] || fail "no $real_playwright: run (cd ui-tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 jlpm install)"
cat >"$shim/playwright/index.js" <<EOF
const real = require('$real_playwright');
const launch = real.chromium.launch.bind(real.chromium);
real.chromium.launch = (options = {}) =>
  launch({
    ...options,
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', ...(options.args || [])]
  });
module.exports = real;
EOF
echo '{"name": "playwright", "version": "0.0.0-chromium-shim", "main": "index.js"}' >"$shim/playwright/package.json"
printf '#!/bin/sh\necho "playwright stand-in: using /usr/bin/chromium"\n' >"$shim/.bin/playwright"
chmod +x "$shim/.bin/playwright"
echo '{"name": "browser_test", "private": true}' >"$app_dir/browser_test/package.json"
(cd "$WORK" && in_venv python -m jupyterlab.browser_check --ServerApp.port=8897 --ServerApp.port_retries=20 \
  --ServerApp.allow_root=True) >"$WORK/browser_check.log" 2>&1 \
  || { tail -40 "$WORK/browser_check.log" >&2; fail "browser_check"; }
grep -q "Browser test complete" "$WORK/browser_check.log" || { tail -40 "$WORK/browser_check.log" >&2; fail "browser_check did not run the browser"; }
# (Paths are left out: the temporary folder's own name contains "nbchat".)
sed "s|$WORK||g" "$WORK/browser_check.log" | grep -iE "nbchat" | grep -E "\[E |\[C |Error|ERROR|failed" \
  && fail "browser_check logged nbchat errors"
# A plugin that fails to activate is reported by JupyterLab in the page, which browser_check fails on.
echo "browser_check passed"
took "browser_check"

step "pytest ($TESTS) against the installed wheel"
# A copy of the tests outside the repo, so `jupyter_nbchat` is the installed one.
mkdir "$WORK/t"
cp -r tests "$WORK/t/tests"
cp pyproject.toml "$WORK/t/"
(cd "$WORK/t" && in_venv python -c "import jupyter_nbchat, sys; assert '$VENV' in jupyter_nbchat.__file__, jupyter_nbchat.__file__" \
  && in_venv "$VENV/bin/pytest" -q -p no:cacheprovider $TESTS) >"$WORK/pytest.log" 2>&1 \
  || { tail -40 "$WORK/pytest.log" >&2; fail "pytest"; }
tail -3 "$WORK/pytest.log"
took "pytest"

echo
echo "Compatibility test passed: jupyterlab==$LAB jupyter_server==$SERVER ($(basename "$WHEEL"))"
printf '%s\n' "${timings[@]}"
echo "Total: $(( $(date +%s) - start )) s"
