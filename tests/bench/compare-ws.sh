#!/usr/bin/env bash
# Side-by-side WebSocket benchmark in one run: inlet-gateway (release build)
# against the seed's own Node server (ws-server.js, the `ws` package) and the
# aiohttp peer. Two layouts: shared (everything floats over both cores) and
# pinned (server on core 1, load generator on core 0). One JSON line per run;
# tests/bench/summarize-ws.py makes the benchmark table of docs/gateway.md from them.
#
#   tests/bench/compare-ws.sh [--layouts "shared pinned"] [--seconds N] [--rounds N] [--pipelines "1 16"]
#
# Loads (inlet-bench ws), each on a fresh server:
#   hello   Hello → Websockets! round trips at 20, 100 and 1000 connections
#           (every server: it is the seed's socket), with 1 and with 16
#           messages in flight per connection: with 1 the generator, on one
#           core, is as busy as the server and sets the ceiling; with 16 it
#           batches frames per system call and the server's core is the limit
#   echo    64-byte echo round trips at 20, 100 and 1000 connections
#           (inlet-gateway's /echo only: the peers have no echo)
#   fanout  2000 events published over gRPC, 8 at a time, to 1000 subscribers
#           on /events (inlet-gateway only: the peers have no event feed); the
#           burst is published faster than it can be delivered, so the
#           gateway runs with events.subscriber_queue=4096 to hold all of it
# Every server runs without per-message logs (RUST_LOG=warn, QUIET=1).
# Needs node, python3 (the aiohttp venv is made on first use), taskset.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${PEERS_DIR:-$root/../shared/peers}"
venv="${PEERS_VENV:-/tmp/inlet-peers-venv}"
layouts="shared pinned" seconds=6 rounds=1 pipelines="1 16"
while [ $# -gt 0 ]; do
  case "$1" in
    --layouts) layouts="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --pipelines) pipelines="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done

# shellcheck source=tests/bench/lib.sh
source "$root/tests/bench/lib.sh"
(cd "$root" && cargo build --release -q -p inlet-gateway -p inlet-bench)
bench="$root/target/release/inlet-bench"
# 1000 connections on each side need more descriptors than a shell's default.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# start_server NAME PIN: starts NAME; sets server_pid, server_port, grpc_port.
start_server() {
  local name=$1 pin=$2
  server_port=$(free_port) grpc_port=$(free_port)
  case "$name" in
    inlet-gateway)
      INLET_LISTEN="127.0.0.1:$server_port" INLET_GRPC_LISTEN="127.0.0.1:$grpc_port" RUST_LOG=warn \
        INLET_WEBSOCKET__MAX_CONNECTIONS=100000 INLET_EVENTS__SUBSCRIBER_QUEUE=4096 \
        $pin "$root/target/release/inlet-gateway" 2>"$work/$name.log" & ;;
    node-seed)
      (cd "$peers/node" && NODE_PATH="$work/node/node_modules" PORT=$server_port QUIET=1 \
        exec $pin node ws-server.js) 2>"$work/$name.log" & ;;
    aiohttp)
      PORT=$server_port QUIET=1 $pin "$venv/bin/python" "$peers/python/http_peer.py" ws \
        2>"$work/$name.log" & ;;
  esac
  server_pid=$!
  wait_port "$server_port"
}

# run NAME LAYOUT PIN LOADPIN -- ARGS...: one load against a fresh NAME.
run() {
  local name=$1 layout=$2 pin=$3 load_pin=$4 path=$5 load=$6; shift 6
  start_server "$name" "$pin"
  local line
  line=$($load_pin "$bench" ws "ws://127.0.0.1:$server_port$path" "$@" \
    --server-pid "$server_pid" --label "$name" ${grpc_port:+--publish-url "http://127.0.0.1:$grpc_port"})
  echo "${line%\}},\"layout\":\"$layout\",\"load\":\"$load\"}"
  stop_server
}

for layout in $layouts; do
  set_pins "$layout"
  for round in $(seq 1 "$rounds"); do
    for pipeline in $pipelines; do
      for connections in 20 100 1000; do
        for name in inlet-gateway node-seed aiohttp; do
          run "$name" "$layout" "$server_pin" "$load_pin" / hello --mode hello \
            --connections "$connections" --pipeline "$pipeline" --duration-secs "$seconds"
        done
        run inlet-gateway "$layout" "$server_pin" "$load_pin" /echo echo --mode echo --message-bytes 64 \
          --connections "$connections" --pipeline "$pipeline" --duration-secs "$seconds"
      done
    done
    run inlet-gateway "$layout" "$server_pin" "$load_pin" /events fanout \
      --mode fanout --connections 1000 --events 2000
  done
done
