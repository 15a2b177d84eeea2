#!/usr/bin/env bash
# What the official postgres image's entrypoint does that Casebook uses: as root, read the
# password (POSTGRES_PASSWORD, or the file POSTGRES_PASSWORD_FILE names) and hand the data
# directory to the postgres user; as that user, on an empty data directory, make the cluster
# (password authentication over TCP) and the database POSTGRES_DB owned by POSTGRES_USER; then
# run the server.
set -euo pipefail

if [ "${1:-}" != postgres ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
      echo "set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, not both" >&2
      exit 1
    fi
    POSTGRES_PASSWORD="$(< "$POSTGRES_PASSWORD_FILE")"
    export POSTGRES_PASSWORD
    unset POSTGRES_PASSWORD_FILE
  fi
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE: the first start makes the cluster}"
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
         --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >&2
  if [ "$database" != postgres ]; then
    # Single-user mode: no server listens while the database is made.
    printf 'CREATE DATABASE "%s" OWNER "%s"\n' "$database" "$user" \
      | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
fi
unset POSTGRES_PASSWORD
exec "$@"
