#!/usr/bin/env bash
# Side-by-side benchmark in one run: inlet-forms (release build, default config,
# durable) against the aiohttp peer from ../shared/peers, urlencoded then JSON,
# same machine, same load. Prints one JSON line per run.
#
#   tests/bench/compare-forms.sh [--connections N] [--duration SECS]
#
# Needs wrk and python3 (the peer's venv is made on first use).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${PEERS_DIR:-$root/../shared/peers}"
venv="${PEERS_VENV:-/tmp/inlet-peers-venv}"
connections=32 duration=10
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
  for _ in $(seq 1 200); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "server at $1 did not come up" >&2; exit 1
}

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$peers/python/requirements.txt"
fi
(cd "$root" && cargo build --release -q -p inlet-forms)

inlet_port=$(free_port)
INLET_LISTEN="127.0.0.1:$inlet_port" INLET_DATA_DIR="$work/inlet" RUST_LOG=warn \
  "$root/target/release/inlet-forms" 2>"$work/inlet.log" &
pids+=($!)
wait_http "http://127.0.0.1:$inlet_port/readyz"

for mix in form json; do
  peer_port=$(free_port)
  PORT="$peer_port" DATA_DIR="$work/peer" QUIET=1 "$venv/bin/python" "$peers/python/http_peer.py" "$mix" 2>"$work/peer-$mix.log" &
  peer_pid=$!
  pids+=("$peer_pid")
  wait_http "http://127.0.0.1:$peer_port/"
  "$root/tests/bench/load.sh" "http://127.0.0.1:$inlet_port/" --mix "$mix" --connections "$connections" --duration "$duration" --label inlet-forms
  "$root/tests/bench/load.sh" "http://127.0.0.1:$peer_port/" --mix "$mix" --connections "$connections" --duration "$duration" --label aiohttp-peer
  kill "$peer_pid"
done
echo "{\"inlet_records_stored\":$(wc -l < "$work/inlet/forms/submissions.jsonl")}"
