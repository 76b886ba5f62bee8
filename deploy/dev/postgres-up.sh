#!/usr/bin/env bash
# Makes sure a local PostgreSQL answers on 127.0.0.1:5432 and that the evo
# database exists. On Debian it starts the installed cluster if it is down;
# on macOS it tries Homebrew's service.
set -euo pipefail
host=${PGHOST:-127.0.0.1} port=${PGPORT:-5432} user=${PGUSER:-postgres} db=${EVO_DB:-evo}

ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

if ! ready; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -V | tail -n1)
    echo "postgres-up: starting PostgreSQL $ver" >&2
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  elif command -v brew >/dev/null 2>&1; then
    brew services start postgresql@16 || brew services start postgresql
  else
    echo "postgres-up: PostgreSQL is not running at $host:$port and I don't know how to start it here" >&2
    exit 1
  fi
  for _ in $(seq 1 50); do ready && break; sleep 0.2; done
  ready || { echo "postgres-up: PostgreSQL did not become ready" >&2; exit 1; }
fi

if [ "${1:-}" = "--create-db" ]; then
  if ! psql -h "$host" -p "$port" -U "$user" -tAc "select 1 from pg_database where datname='$db'" postgres | grep -q 1; then
    echo "postgres-up: creating database $db" >&2
    createdb -h "$host" -p "$port" -U "$user" "$db"
  fi
fi
