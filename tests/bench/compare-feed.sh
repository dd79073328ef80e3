#!/usr/bin/env bash
# Side-by-side benchmark of the event feed in one run: the memory backend
# (one gateway, publishers over gRPC) against NATS JetStream (nats-server
# 2.9 from Debian with file storage, two gateways, publishers straight to
# the stream). Two layouts: shared (everything floats over both cores) and
# pinned (the servers — forms, gateways, nats-server — on core 1, the load
# on core 0). With --rounds N the backends take turns N times. One JSON
# line per load; tests/bench/summarize-feed.py makes the table of
# docs/gateway.md from them.
#
#   tests/bench/compare-feed.sh [--layouts "shared pinned"] [--rounds N] [--seconds N] [--rate N]
#
# Loads, each on fresh servers:
#   publish  wrk, 1 thread, 64 connections, JSON posts at forms' full rate
#            for --seconds; then the publisher is drained and its counters
#            read: every post answered 200 must be published (none dropped)
#   fanout   inlet-bench feed: 1000 subscribers (spread over the gateways),
#            form posts at --rate per second for --seconds; deliveries per
#            second and the wait from each post's 200 to its frame
# Each line has the CPU of forms, the gateways and nats-server over the load.
# At 500 posts/s the 1000 subscribers take 500,000 frames/s: pinned, the
# load generator's one core is close to its limit there, and a subscriber it
# reads too slowly is closed by its gateway (counted in short_subscribers).
# Needs wrk, nats-server, taskset, python3.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
layouts="shared pinned" rounds=1 seconds=10 rate=500
while [ $# -gt 0 ]; do
  case "$1" in
    --layouts) layouts="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done

# shellcheck source=tests/bench/lib.sh
source "$root/tests/bench/lib.sh"
cpu_of_all() { local sum=0 pid; for pid in "${pids[@]}"; do sum=$((sum + $(cpu_ticks "$pid"))); done; echo "$sum"; }
nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
metric() { # url name: a metric's value from /metrics
  curl -s -H "Authorization: Bearer $INLET_ADMIN_TOKEN" "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(cd "$root" && cargo build --release -q -p inlet-forms -p inlet-gateway -p inlet-bench)
bin="$root/target/release"

# start BACKEND PIN: forms and the gateways (and nats-server) for BACKEND;
# sets forms_url and events_args.
start() {
  local backend=$1 pin=$2 env=() gateways=1
  local forms_port data
  forms_port=$(free_port) data=$(mktemp -d "$work/data.XXXXXX")
  if [ "$backend" = nats ]; then
    local nats_port
    nats_port=$(free_port) gateways=2
    $pin "$nats_bin" -js -a 127.0.0.1 -p "$nats_port" -sd "$data/nats" 2>"$work/nats.log" &
    pids+=($!)
    wait_port "$nats_port"
    env=(INLET_EVENTS__BACKEND=nats "INLET_EVENTS__NATS__URL=nats://127.0.0.1:$nats_port")
  fi
  events_args=() gateway_https=()
  local gateway_url="" g
  for g in $(seq 1 "$gateways"); do
    local port grpc
    port=$(free_port) grpc=$(free_port)
    env "${env[@]}" INLET_LISTEN="127.0.0.1:$port" INLET_GRPC_LISTEN="127.0.0.1:$grpc" RUST_LOG=warn \
      INLET_WEBSOCKET__MAX_CONNECTIONS=100000 $pin "$bin/inlet-gateway" 2>"$work/gateway-$g.log" &
    pids+=($!)
    wait_port "$port"
    events_args+=(--events-url "ws://127.0.0.1:$port/events")
    [ -n "$gateway_url" ] || gateway_url="http://127.0.0.1:$grpc"
    gateway_https+=("http://127.0.0.1:$port")
  done
  env "${env[@]}" INLET_LISTEN="127.0.0.1:$forms_port" INLET_DATA_DIR="$data" INLET_GATEWAY_URL="$gateway_url" \
    RUST_LOG=warn $pin "$bin/inlet-forms" 2>"$work/forms.log" &
  pids+=($!)
  wait_port "$forms_port"
  forms_url="http://127.0.0.1:$forms_port"
  # A gateway on NATS answers /events once it follows the stream.
  local http
  for http in "${gateway_https[@]}"; do
    for _ in $(seq 1 100); do
      [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $INLET_ADMIN_TOKEN" "$http/readyz")" = 200 ] && break
      sleep 0.1
    done
  done
}

# publish LAYOUT BACKEND LOADPIN: forms at full rate; every 200 published?
publish() {
  local layout=$1 backend=$2 load_pin=$3 before after line
  before=$(cpu_of_all)
  line=$(BENCH_MIX=json BENCH_LABEL="$backend" BENCH_CONNECTIONS=64 \
    $load_pin wrk -t1 -c64 -d"${seconds}s" -s "$root/tests/bench/forms-post.lua" "$forms_url/" | tail -n 1)
  after=$(cpu_of_all)
  # Then the publisher drains (up to 60 s) and its counters are read.
  local buffered=1
  for _ in $(seq 1 600); do
    buffered=$(metric "$forms_url" inlet_publisher_buffered_events)
    [ "${buffered:-1}" = 0 ] && break
    sleep 0.1
  done
  local published dropped
  published=$(metric "$forms_url" inlet_publisher_events_published_total)
  dropped=$(metric "$forms_url" inlet_publisher_events_dropped_total)
  echo "${line%\}},\"load\":\"publish\",\"backend\":\"$backend\",\"layout\":\"$layout\",\"published\":${published:-0},\"dropped\":${dropped:-0},\"left_buffered\":${buffered:-0},\"server_cpu_s\":$(awk -v t=$((after - before)) -v k="$clock_ticks" 'BEGIN{print t/k}')}"
}

# fanout LAYOUT BACKEND LOADPIN: 1000 subscribers, posts at --rate.
fanout() {
  local layout=$1 backend=$2 load_pin=$3 before after line
  before=$(cpu_of_all)
  line=$($load_pin "$bin/inlet-bench" feed --forms "$forms_url/" "${events_args[@]}" \
    --subscribers 1000 --rate "$rate" --duration-secs "$seconds" --label "$backend")
  after=$(cpu_of_all)
  echo "${line%\}},\"load\":\"fanout\",\"backend\":\"$backend\",\"layout\":\"$layout\",\"server_cpu_s\":$(awk -v t=$((after - before)) -v k="$clock_ticks" 'BEGIN{print t/k}')}"
}

for layout in $layouts; do
  set_pins "$layout"
  for round in $(seq 1 "$rounds"); do
    for backend in memory nats; do
      start "$backend" "$server_pin"; publish "$layout" "$backend" "$load_pin"; stop_all
      start "$backend" "$server_pin"; fanout "$layout" "$backend" "$load_pin"; stop_all
    done
  done
done
