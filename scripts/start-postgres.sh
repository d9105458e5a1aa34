#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the test suite and prints its DATABASE_URL.
# Usage: eval "$(scripts/start-postgres.sh [PORT])"   — needs Debian's postgresql package.
set -euo pipefail
port="${1:-55432}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ]; then
  echo "echo 'PostgreSQL is not installed: apt-get install -y postgresql' >&2; false"
  exit 1
fi
dir="$(mktemp -d /tmp/tactful-pg.XXXXXX)"
chown postgres:postgres "$dir" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
as_pg "'$bin/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 >/dev/null"
as_pg "'$bin/pg_ctl' -D '$dir/data' -l '$dir/log' -w -o \"-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start >/dev/null"
as_pg "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres tactful"
echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/tactful"
echo "export TACTFUL_PG_DIR=$dir"
