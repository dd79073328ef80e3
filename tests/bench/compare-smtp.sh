#!/usr/bin/env bash
# Side-by-side SMTP benchmark in one run: inlet-smtp (release build, every
# copy fsync'd with its folder before the 250) against the seed's own Node
# server (smtp-server.js, smtp-protocol) and the aiosmtpd peer, neither of
# which fsyncs. Two layouts: shared (everything floats over both cores) and
# pinned (server on core 1, load generator on core 0). One JSON line per run;
# tests/bench/summarize-smtp.py makes the benchmark table of docs/smtp.md from them.
#
#   tests/bench/compare-smtp.sh [--layouts "shared pinned"] [--sessions N] [--rounds N]
#
# Loads (inlet-bench smtp), each on a fresh server and a fresh folder:
#   4 KiB    --sessions (8) sessions × 200 messages of 4 KiB
#   100 KiB  --sessions (8) sessions × 50 messages of 100 KiB
# Every message to you@example.com, RSET before each MAIL.
# Needs node, python3 (the peers' venv is made on first use), taskset.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${PEERS_DIR:-$root/../shared/peers}"
venv="${PEERS_VENV:-/tmp/inlet-peers-venv}"
layouts="shared pinned" sessions=8 rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --layouts) layouts="$2"; shift 2 ;;
    --sessions) sessions="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done

# shellcheck source=tests/bench/lib.sh
source "$root/tests/bench/lib.sh"
(cd "$root" && cargo build --release -q -p inlet-smtp -p inlet-bench)
bench="$root/target/release/inlet-bench"

# start_server NAME PIN DATA: starts NAME storing under DATA; sets server_pid, server_port.
start_server() {
  local name=$1 pin=$2 data=$3
  server_port=$(free_port)
  mkdir -p "$data"
  case "$name" in
    inlet-smtp)
      INLET_SMTP_LISTEN="127.0.0.1:$server_port" INLET_ADMIN_LISTEN="127.0.0.1:$(free_port)" \
        INLET_DATA_DIR="$data" RUST_LOG=warn \
        $pin "$root/target/release/inlet-smtp" 2>"$work/$name.log" & ;;
    node-seed)
      (cd "$peers/node" && NODE_PATH="$work/node/node_modules" PORT=$server_port DATA_DIR="$data" QUIET=1 \
        exec $pin node smtp-server.js) 2>"$work/$name.log" & ;;
    aiosmtpd)
      PORT=$server_port DATA_DIR="$data" QUIET=1 $pin "$venv/bin/python" "$peers/python/smtp_peer.py" \
        2>"$work/$name.log" & ;;
  esac
  server_pid=$!
  wait_port "$server_port"
}

for layout in $layouts; do
  set_pins "$layout"
  for round in $(seq 1 "$rounds"); do
    for size in 4096 102400; do
      messages=200
      [ "$size" -gt 4096 ] && messages=50
      for name in inlet-smtp node-seed aiosmtpd; do
        data="$work/data-$layout-$size-$round-$name"
        start_server "$name" "$server_pin" "$data"
        line=$($load_pin "$bench" smtp "127.0.0.1:$server_port" --sessions "$sessions" \
          --messages "$messages" --message-bytes "$size" --server-pid "$server_pid" --label "$name")
        echo "${line%\}},\"layout\":\"$layout\",\"round\":$round}"
        stop_server
        rm -rf "$data"
        sync
      done
    done
  done
done
