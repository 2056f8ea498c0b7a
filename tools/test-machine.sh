#!/usr/bin/env bash
# Install the system packages the test suite needs, from Debian's archive, where missing:
# chromium (the real-browser tests drive it with Playwright), wrk (the load benchmark's test),
# a Java runtime (PySpark's local engine in the screening tests), PostgreSQL's server (the
# registry tests start a throwaway cluster of their own with its initdb and pg_ctl, on a free
# loopback port, as the postgres user when run as root; no cluster of the package is used).
# Safe to run again: it installs only what is missing. Needs root and apt-get.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)

if [ "${#need[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test-machine: apt-get not found; install these yourself: ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
