#!/usr/bin/env bash
# Two builds of one service side by side (for example the system allocator
# against mimalloc), pinned (server on core 1, load on core 0), the builds
# taking turns each round. One JSON line per run, with the server's CPU time
# per request; tests/bench/summarize-builds.py prints the medians.
#
#   tests/bench/compare-builds.sh SERVICE BINARY_A BINARY_B [--rounds N]
#
# SERVICE: uploads (50 kB PUTs, 8 connections), gateway (WebSocket Hello
# round trips, 100 connections) or smtp (4 KiB messages, 8 sessions).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${PEERS_DIR:-$root/../shared/peers}"
venv="${PEERS_VENV:-/tmp/inlet-peers-venv}"
service=${1:?usage: compare-builds.sh SERVICE BINARY_A BINARY_B [--rounds N]}
a=${2:?binary A} b=${3:?binary B}
shift 3
rounds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done
# shellcheck source=tests/bench/lib.sh
source "$root/tests/bench/lib.sh"
(cd "$root" && cargo build --release -q -p inlet-bench)
bench="$root/target/release/inlet-bench"
set_pins pinned

for round in $(seq 1 "$rounds"); do
  for which in a b; do
    binary=$a
    [ "$which" = b ] && binary=$b
    port=$(free_port) data="$work/data-$round-$which"
    mkdir -p "$data"
    case "$service" in
      uploads)
        INLET_LISTEN="127.0.0.1:$port" INLET_DATA_DIR="$data" RUST_LOG=warn \
          $server_pin "$binary" 2>"$work/server.log" &
        server_pid=$!; wait_port "$port"
        load=(uploads "http://127.0.0.1:$port/" --mode put --file-bytes 50000 --files 3000 --connections 8) ;;
      gateway)
        INLET_LISTEN="127.0.0.1:$port" INLET_GRPC_LISTEN="127.0.0.1:$(free_port)" RUST_LOG=warn \
          $server_pin "$binary" 2>"$work/server.log" &
        server_pid=$!; wait_port "$port"
        load=(ws "ws://127.0.0.1:$port/" --mode hello --connections 100 --duration-secs 10) ;;
      smtp)
        INLET_SMTP_LISTEN="127.0.0.1:$port" INLET_ADMIN_LISTEN="127.0.0.1:$(free_port)" \
          INLET_DATA_DIR="$data" RUST_LOG=warn $server_pin "$binary" 2>"$work/server.log" &
        server_pid=$!; wait_port "$port"
        load=(smtp "127.0.0.1:$port" --sessions 8 --messages 300 --message-bytes 4096) ;;
      *) echo "unknown service: $service" >&2; exit 64 ;;
    esac
    before=$(cpu_ticks "$server_pid")
    line=$($load_pin "$bench" "${load[@]}" --server-pid "$server_pid" --label "$which")
    cpu_s=$(awk -v a="$before" -v b="$(cpu_ticks "$server_pid")" -v hz="$clock_ticks" 'BEGIN {printf "%.2f", (b - a) / hz}')
    echo "${line%\}},\"build\":\"$which\",\"binary\":\"$binary\",\"round\":$round,\"server_cpu_s\":$cpu_s}"
    stop_server
    rm -rf "$data"
    sync
  done
done
