#!/usr/bin/env bash
# Lint without changing a file: ruff (Python), eslint (TypeScript), stylelint (CSS) and
# prettier --check. Runs all four and fails if any failed. Needs the dev env (scripts/setup.sh).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$(date +%s)
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi

# An environment made before ruff joined the test extra.
command -v ruff >/dev/null || python -m pip install -q "ruff>=0.6"

failed=()
run() {
  local name=$1
  shift
  echo "== $name"
  "$@" || failed+=("$name")
}
run ruff ruff check .
run eslint jlpm eslint:check
run stylelint jlpm stylelint:check
run prettier jlpm prettier:check

if [ ${#failed[@]} -gt 0 ]; then
  echo "Lint failed: ${failed[*]} ($(( $(date +%s) - start )) s)" >&2
  exit 1
fi
echo "Lint passed in $(( $(date +%s) - start )) s"
