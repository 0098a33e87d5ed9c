#!/usr/bin/env bash
# Make Debian's PostgreSQL server available for tests/test_databases.py (idempotent, quiet).
# Installs the `postgresql` package when no initdb exists; the tests start their own
# throwaway cluster (tests/postgres.py), as the `postgres` system user (the server refuses root).
set -euo pipefail

find_initdb() { ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1; }

initdb=$(find_initdb || true)
if [ -z "$initdb" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup_postgres: PostgreSQL is not installed and this is not root: run 'apt-get install -y postgresql' as root" >&2
    exit 1
  fi
  echo "setup_postgres: installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  # The package would start a default cluster; in a container without an init system that
  # start can fail the install. policy-rc.d (exit 101: "not allowed") skips it.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # The package starts a default cluster; the tests do not use it.
  if command -v pg_ctlcluster >/dev/null; then
    for cluster in $(pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}'); do
      pg_ctlcluster "${cluster%/*}" "${cluster#*/}" stop 2>/dev/null || true
    done
  fi
  initdb=$(find_initdb)
  echo "setup_postgres: installed $("$(dirname "$initdb")/postgres" --version)"
else
  echo "setup_postgres: found $("$(dirname "$initdb")/postgres" --version)"
fi
if ! getent passwd postgres >/dev/null; then
  echo "setup_postgres: no 'postgres' system user; the package should have created it" >&2
  exit 1
fi
