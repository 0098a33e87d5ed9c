#!/usr/bin/env bash
# Test what users install. From a copy of the working tree: build the sdist and the wheel
# (python -m build: a clean production build with Node), `twine check` them, install the
# wheel into a new virtual environment with no Node.js on PATH, check that both halves of
# the extension are enabled and load, run JupyterLab's browser_check there, and play one
# whole chat turn in Chromium against JupyterLab started from that environment
# (ui-tests/playwright.wheel.config.js). Prints sizes and times at the end.
# Everything happens under a temporary folder (NBCHAT_KEEP_WHEEL_TEST=1 keeps it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
start=$(date +%s)
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
export NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1 PIP_DISABLE_PIP_VERSION_CHECK=1
export YARN_ENABLE_IMMUTABLE_INSTALLS=false
python -c "import build, twine" 2>/dev/null || python -m pip install -q "build>=1.2" "twine>=5"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nbchat-wheel-XXXXXX")
cleanup() {
  if [ "${NBCHAT_KEEP_WHEEL_TEST:-0}" = 1 ]; then echo "Kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

seconds_since() { python -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.0f}')" "$1"; }

echo "== build (sdist, then the wheel from it)"
# Tracked and new files as they are now; nothing git ignores (node_modules, lib, the built
# labextension), so the build starts from scratch like a release build and the repo stays as is.
mkdir "$WORK/src"
git ls-files -z --cached --others --exclude-standard \
  | grep -zvE '^\.venv|/node_modules/|^node_modules/' \
  | (tar --null --ignore-failed-read -T - -cf - 2>/dev/null || true) \
  | tar -xf - -C "$WORK/src"
t0=$(date +%s.%N)
python -m build --outdir "$WORK/dist" "$WORK/src" >"$WORK/build.log" 2>&1 \
  || { tail -50 "$WORK/build.log" >&2; echo "python -m build failed" >&2; exit 1; }
build_s=$(seconds_since "$t0")
WHEEL=$(ls "$WORK"/dist/*.whl)
SDIST=$(ls "$WORK"/dist/*.tar.gz)
echo "Built $(basename "$WHEEL") and $(basename "$SDIST") in ${build_s} s"

echo "== twine check"
python -m twine check --strict "$WORK"/dist/*

# The wheel must carry the prebuilt labextension, the server config and the testing package
# (the stand-ins the smoke test below runs from the installed wheel).
python - "$WHEEL" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
need = [
    "share/jupyter/labextensions/jupyter-nbchat/package.json",
    "share/jupyter/labextensions/jupyter-nbchat/install.json",
    "etc/jupyter/jupyter_server_config.d/jupyter_nbchat.json",
    "jupyter_nbchat/testing/claude_standin.py",
]
missing = [n for n in need if not any(m.endswith(n) for m in names)]
assert not missing, f"not in the wheel: {missing}"
assert any("labextensions/jupyter-nbchat/static/remoteEntry." in m for m in names), "no remoteEntry"
EOF

echo "== a clean virtual environment, no Node.js on PATH"
# PATH without Node: folders holding node/npm/yarn/jlpm are replaced by a copy made of links
# to everything else in them; the dev environment's bin is left out.
NODE_TOOLS=" node nodejs npm npx corepack yarn yarnpkg jlpm "
clean_path=""
i=0
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  [ -d "$d" ] || continue
  if [ -n "${VIRTUAL_ENV:-}" ] && [ "$d" -ef "$VIRTUAL_ENV/bin" ]; then continue; fi
  has_node=0
  for tool in $NODE_TOOLS; do [ -e "$d/$tool" ] && has_node=1; done
  if [ $has_node = 1 ]; then
    i=$((i + 1))
    shadow="$WORK/path/$i"
    mkdir -p "$shadow"
    for f in "$d"/*; do
      name=$(basename "$f")
      case "$NODE_TOOLS" in *" $name "*) continue ;; esac
      ln -s "$f" "$shadow/$name"
    done
    d=$shadow
  fi
  clean_path="${clean_path:+$clean_path:}$d"
done
VENV="$WORK/venv"
base_python=$(python -c "import sys; print(getattr(sys, '_base_executable', sys.executable))")
"$base_python" -m venv "$VENV"
# Runs a command inside the clean environment, with its own (empty) Jupyter user folders.
cat >"$WORK/in_clean" <<EOF
#!/usr/bin/env bash
exec env -u VIRTUAL_ENV -u PYTHONPATH -u PYTHONHOME -u JUPYTER_PATH -u JUPYTER_CONFIG_PATH \\
  -u JUPYTER_PREFER_ENV_PATH -u CONDA_PREFIX \\
  PATH="$VENV/bin:$clean_path" VIRTUAL_ENV="$VENV" \\
  JUPYTER_CONFIG_DIR="$WORK/home/config" JUPYTER_DATA_DIR="$WORK/home/data" \\
  JUPYTER_RUNTIME_DIR="$WORK/home/runtime" IPYTHONDIR="$WORK/home/ipython" \\
  NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1 "\$@"
EOF
chmod +x "$WORK/in_clean"
in_clean() { "$WORK/in_clean" "$@"; }
if in_clean bash -c 'command -v node || command -v npm || command -v jlpm'; then
  echo "Node.js is still on the clean PATH" >&2
  exit 1
fi
in_clean bash -c '[ "$(command -v python)" = "$VIRTUAL_ENV/bin/python" ]'

t0=$(date +%s.%N)
in_clean python -m pip install "$WHEEL" >"$WORK/pip.log" 2>&1 \
  || { tail -40 "$WORK/pip.log" >&2; echo "pip install of the wheel failed" >&2; exit 1; }
install_s=$(seconds_since "$t0")
echo "Installed the wheel in ${install_s} s"
in_clean python -m pip check

echo "== extension lists"
in_clean jupyter server extension list >"$WORK/server-ext.txt" 2>&1 || true
grep -E "jupyter_nbchat.*enabled" "$WORK/server-ext.txt" >/dev/null && grep -E "jupyter_nbchat.*OK" "$WORK/server-ext.txt" >/dev/null \
  || { cat "$WORK/server-ext.txt" >&2; echo "server extension jupyter_nbchat is not enabled and OK" >&2; exit 1; }
grep -F "$VENV/etc/jupyter" "$WORK/server-ext.txt" >/dev/null \
  || { cat "$WORK/server-ext.txt" >&2; echo "the server extension is not enabled by the wheel's own config" >&2; exit 1; }
in_clean jupyter labextension list >"$WORK/lab-ext.txt" 2>&1 || true
grep -E "jupyter-nbchat.*enabled.*OK" "$WORK/lab-ext.txt" >/dev/null \
  || { cat "$WORK/lab-ext.txt" >&2; echo "labextension jupyter-nbchat is not enabled and OK" >&2; exit 1; }
grep -F "$VENV/share/jupyter/labextensions" "$WORK/lab-ext.txt" >/dev/null \
  || { cat "$WORK/lab-ext.txt" >&2; echo "the labextension is not the wheel's" >&2; exit 1; }
grep -E "jupyter_nbchat|jupyter-nbchat" "$WORK/server-ext.txt" "$WORK/lab-ext.txt"

echo "== browser_check (server side: its browser half needs npm and a Playwright download)"
# The browser half is the Galata smoke test below, in Debian's Chromium.
in_clean bash -c "cd '$WORK' && python -m jupyterlab.browser_check --no-browser-test \
  --ServerApp.port=8891 --ServerApp.port_retries=20 --ServerApp.allow_root=True" \
  >"$WORK/browser_check.log" 2>&1 \
  || { tail -40 "$WORK/browser_check.log" >&2; echo "browser_check failed" >&2; exit 1; }
grep -i "nbchat" "$WORK/browser_check.log" | grep -iE "error|fail" && { echo "browser_check logged nbchat errors" >&2; exit 1; }
echo "browser_check passed"

echo "== one chat turn in JupyterLab from the clean environment (Galata)"
(
  cd ui-tests
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 jlpm install >/dev/null
  NBCHAT_IN_CLEAN="$WORK/in_clean" flock /tmp/galata.lock jlpm playwright test -c playwright.wheel.config.js
)

venv_size=$(du -sh "$VENV" | cut -f1)
echo
echo "Wheel:  $(basename "$WHEEL")  $(du -k "$WHEEL" | cut -f1) KiB"
echo "Sdist:  $(basename "$SDIST")  $(du -k "$SDIST" | cut -f1) KiB"
echo "Build (sdist + wheel): ${build_s} s"
echo "Install into the clean venv (pip cache as found): ${install_s} s"
echo "Clean venv size: ${venv_size}"
echo "Wheel test passed in $(( $(date +%s) - start )) s (repo: $REPO)"
