#!/usr/bin/env bash
# Side-by-side form-post benchmark in one run: inlet-forms (release build,
# every record fdatasync'd with store.sync=always; and with store.sync=interval)
# (and inlet-forms-swept: with retention sweeping every second, to set what a
# sweep costs against the same journal without one:
# SERVERS="inlet-forms-small-segments inlet-forms-swept")
# (and inlet-forms-postgres: store.backend=postgres on a PostgreSQL 15 server
# from Debian's package started here, default settings, so also every commit
# flushed; its CPU counts the server's processes too:
# SERVERS="inlet-forms inlet-forms-postgres")
# (and inlet-forms-base: the binary INLET_FORMS_BASE names, an earlier build
# on the same journal settings, to show a change made the journal no slower:
# SERVERS="inlet-forms inlet-forms-base")
# against the seed's own Node servers (post-form-server.js, post-json-server.js,
# which store nothing) and the aiohttp peer (stores nothing either).
# Two layouts: shared (everything floats over both cores) and pinned (server
# on core 1, wrk on core 0); urlencoded and JSON; 32 and 128 connections;
# wrk with one thread. Each load runs on a fresh server. With --rounds N the
# servers take turns N times, so a slow spell of the machine (a VM's disk or
# a neighbour) lands on all of them alike. One JSON line per run, with the
# server's CPU time (user + system, every thread, from /proc/PID/stat) over
# the load: divided by the requests served it is steady where req/s follows
# the disk's fsync latency;
# tests/bench/summarize-forms.py makes the benchmark table of docs/forms.md from them (the
# median of the rounds).
#
#   tests/bench/compare-forms.sh [--layouts "shared pinned"] [--connections "32 128"] [--duration SECS] [--rounds N]
#
# Needs wrk, node, python3 (the aiohttp venv is made on first use), taskset;
# PostgreSQL (Debian's postgresql package) for inlet-forms-postgres.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${PEERS_DIR:-$root/../shared/peers}"
venv="${PEERS_VENV:-/tmp/inlet-peers-venv}"
layouts="shared pinned" connections_list="32 128" duration=10 rounds=1
servers="${SERVERS:-inlet-forms inlet-forms-interval node-seed aiohttp}"
while [ $# -gt 0 ]; do
  case "$1" in
    --layouts) layouts="$2"; shift 2 ;;
    --connections) connections_list="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done

# shellcheck source=tests/bench/lib.sh
source "$root/tests/bench/lib.sh"
(cd "$root" && cargo build --release -q -p inlet-forms)

# PostgreSQL for inlet-forms-postgres: one cluster for the run, its table
# dropped before each load so every load starts empty, as the journal does.
pg_pid="" pg_port=""
case " $servers " in *" inlet-forms-postgres "*)
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pg_port=$(free_port)
  mkdir -p "$work/pg" && chown postgres "$work" "$work/pg" 2>/dev/null || true
  as_pg() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups "$@"; else "$@"; fi; }
  as_pg "$pg_bin/initdb" -U inlet -A trust -E UTF8 --locale=C -D "$work/pg/data" >/dev/null
  as_pg "$pg_bin/postgres" -D "$work/pg/data" -p "$pg_port" -k "$work/pg" \
    -c listen_addresses=127.0.0.1 2>"$work/pg.log" &
  pg_pid=$!
  wait_port "$pg_port"
  pids+=("$pg_pid")
  ;;
esac
pg_url="postgres://inlet@127.0.0.1:$pg_port/postgres"
# server_ticks: CPU of the server under load; with PostgreSQL, of its
# processes too (the postmaster and its backends).
server_ticks() {
  local total pid
  total=$(cpu_ticks "$server_pid")
  if [ "$1" = inlet-forms-postgres ]; then
    for pid in "$pg_pid" $(pgrep -P "$pg_pid"); do
      total=$((total + $(cpu_ticks "$pid" 2>/dev/null || echo 0)))
    done
  fi
  echo "$total"
}

# start_server NAME MIX PIN: starts NAME for MIX (form | json); sets server_pid, server_port.
start_server() {
  local name=$1 mix=$2 pin=$3
  server_port=$(free_port)
  rm -rf "$work/data"
  case "$name" in
    inlet-forms)
      INLET_LISTEN="127.0.0.1:$server_port" INLET_DATA_DIR="$work/data" RUST_LOG=warn \
        $pin "$root/target/release/inlet-forms" 2>"$work/$name.log" & ;;
    inlet-forms-small-segments)
      # inlet-forms-swept's journal without its sweep: the baseline that
      # isolates what the sweep costs (1 MiB segments roll eight times a
      # second at full rate, which costs on its own).
      INLET_LISTEN="127.0.0.1:$server_port" INLET_DATA_DIR="$work/data" RUST_LOG=warn \
        INLET_STORE__SEGMENT_BYTES=1048576 INLET_STORE__SWEEP_INTERVAL=1h \
        $pin "$root/target/release/inlet-forms" 2>"$work/$name.log" & ;;
    inlet-forms-swept-idle)
      # The same sweep every second with nothing to remove (nothing is a
      # week old): what the common case costs.
      INLET_LISTEN="127.0.0.1:$server_port" INLET_DATA_DIR="$work/data" RUST_LOG=warn \
        INLET_STORE__SWEEP_INTERVAL=1s INLET_STORE__SEGMENT_BYTES=1048576 \
        INLET_STORE__RETENTION_MAX_AGE=7d \
        $pin "$root/target/release/inlet-forms" 2>"$work/$name.log" & ;;
    inlet-forms-swept)
      # Retention sweeping every second, with work to do: 1 MiB segments and
      # a journal kept under 8 MiB, so most sweeps drop a segment. Set
      # against inlet-forms, it is what a sweep costs intake.
      INLET_LISTEN="127.0.0.1:$server_port" INLET_DATA_DIR="$work/data" RUST_LOG=warn \
        INLET_STORE__SWEEP_INTERVAL=1s INLET_STORE__SEGMENT_BYTES=1048576 \
        INLET_STORE__RETENTION_MAX_BYTES=8388608 \
        $pin "$root/target/release/inlet-forms" 2>"$work/$name.log" & ;;
    inlet-forms-postgres)
      PGOPTIONS="-c client_min_messages=warning" "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U inlet -d postgres \
        -c 'DROP TABLE IF EXISTS form_submissions' >/dev/null
      # PostgreSQL works on the server's side of the pin too.
      if [ -n "$pin" ]; then
        for pid in "$pg_pid" $(pgrep -P "$pg_pid"); do taskset -a -cp 1 "$pid" >/dev/null; done
      else
        for pid in "$pg_pid" $(pgrep -P "$pg_pid"); do taskset -a -cp 0,1 "$pid" >/dev/null; done
      fi
      INLET_LISTEN="127.0.0.1:$server_port" INLET_DATA_DIR="$work/data" RUST_LOG=warn \
        INLET_STORE__BACKEND=postgres INLET_STORE__POSTGRES__URL="$pg_url" \
        $pin "$root/target/release/inlet-forms" 2>"$work/$name.log" & ;;
    inlet-forms-base)
      INLET_LISTEN="127.0.0.1:$server_port" INLET_DATA_DIR="$work/data" RUST_LOG=warn \
        $pin "${INLET_FORMS_BASE:?the earlier build to compare with}" 2>"$work/$name.log" & ;;
    inlet-forms-interval)
      INLET_LISTEN="127.0.0.1:$server_port" INLET_DATA_DIR="$work/data" RUST_LOG=warn \
        INLET_STORE__SYNC=interval \
        $pin "$root/target/release/inlet-forms" 2>"$work/$name.log" & ;;
    node-seed)
      local script=post-form-server.js
      [ "$mix" = json ] && script=post-json-server.js
      (cd "$peers/node" && NODE_PATH="$work/node/node_modules" PORT=$server_port QUIET=1 \
        exec $pin node "$script") 2>"$work/$name.log" & ;;
    aiohttp)
      PORT=$server_port DATA_DIR="$work/data" QUIET=1 $pin "$venv/bin/python" \
        "$peers/python/http_peer.py" "$mix" 2>"$work/$name.log" & ;;
  esac
  server_pid=$!
  wait_port "$server_port"
}

for layout in $layouts; do
  set_pins "$layout"
  for mix in form json; do
    for connections in $connections_list; do
      for round in $(seq 1 "$rounds"); do
        for name in $servers; do
          start_server "$name" "$mix" "$server_pin"
          before=$(server_ticks "$name")
          line=$($load_pin "$root/tests/bench/load.sh" "http://127.0.0.1:$server_port/" --mix "$mix" \
            --connections "$connections" --duration "$duration" --label "$name")
          cpu_s=$(awk -v a="$before" -v b="$(server_ticks "$name")" -v hz="$clock_ticks" 'BEGIN {printf "%.2f", (b - a) / hz}')
          echo "${line%\}},\"layout\":\"$layout\",\"round\":$round,\"server_cpu_s\":$cpu_s}"
          stop_server
        done
      done
    done
  done
done
