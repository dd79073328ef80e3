#!/usr/bin/env bash
# The stand-in's start: on an empty data folder, a cluster whose superuser
# is $POSTGRES_USER (password $POSTGRES_PASSWORD) with a database
# $POSTGRES_DB, as the official image makes; then the server, on every
# address, passwords required.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
data=/var/lib/postgresql/data
if [ ! -s "$data/PG_VERSION" ]; then
  password=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password"
  "$bin/initdb" -D "$data" -U "$POSTGRES_USER" --pwfile="$password" \
    -A scram-sha-256 -E UTF8 --locale=C >/dev/null
  rm -f "$password"
  echo "host all all all scram-sha-256" >>"$data/pg_hba.conf"
  "$bin/pg_ctl" -D "$data" -o "-c listen_addresses='' -k /tmp" -w start >/dev/null
  PGPASSWORD="$POSTGRES_PASSWORD" "$bin/psql" -h /tmp -U "$POSTGRES_USER" -d postgres -q \
    -c "CREATE DATABASE \"$POSTGRES_DB\""
  "$bin/pg_ctl" -D "$data" -w stop >/dev/null
fi
exec "$bin/postgres" -D "$data" -c listen_addresses='*' -k /tmp
