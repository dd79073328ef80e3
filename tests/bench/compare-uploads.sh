#!/usr/bin/env bash
# Side-by-side upload benchmark in one run: inlet-uploads (release build, every
# file fsync'd before its answer; and with store.sync=interval; and
# inlet-uploads-swept, retention sweeping every second, to set what a sweep
# costs against no sweep: SERVERS="inlet-uploads inlet-uploads-swept"; and
# inlet-uploads-s3, files in a bucket of moto's S3 server, a fresh one per
# run on the server's core: SERVERS="inlet-uploads inlet-uploads-s3") against the seed's own Node servers
# (upload-server.js, put-server.js) and the aiohttp peer, none of which fsync.
# Two layouts: shared (everything floats over both cores) and pinned (server on
# core 1, load generator on core 0). Also measures the disk's own sequential
# write with dd, and before each round of PUTs this machine's ceiling for
# the same durable steps with no server (inlet-bench ceiling: write, fsync
# the file, name it, fsync the folder; 8 threads). Prints one JSON line per run.
#
#   tests/bench/compare-uploads.sh [--layouts "shared pinned"] [--loads "big small put"] [--put-files N] [--rounds N]
#
# The disk here is a shared virtual one whose fsync latency swings from run to
# run, so every load runs --rounds times (default 3), the servers taking turns
# within each round; tests/bench/summarize-uploads.py turns the lines into the
# table of medians docs/uploads.md shows.
#
# Every run starts on a fresh server, a fresh folder and an idle disk (sync
# between runs).
# Loads (inlet-bench uploads):
#   big    multipart, 1 file of 1 GiB, 1 connection
#   small  multipart, 1000 files of 64 KiB (one per request), 8 connections
#   put    PUT, files of 50 kB, 8 connections
# Needs node, python3 (the aiohttp venv is made on first use), taskset; for
# inlet-uploads-s3, moto[server] from PyPI.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${PEERS_DIR:-$root/../shared/peers}"
venv="${PEERS_VENV:-/tmp/inlet-peers-venv}"
layouts="shared pinned" loads="big small put" put_files=2000 rounds=3
servers="${SERVERS:-inlet-uploads inlet-uploads-interval node-seed aiohttp}"
while [ $# -gt 0 ]; do
  case "$1" in
    --layouts) layouts="$2"; shift 2 ;;
    --loads) loads="$2"; shift 2 ;;
    --put-files) put_files="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done

# shellcheck source=tests/bench/lib.sh
source "$root/tests/bench/lib.sh"
(cd "$root" && cargo build --release -q -p inlet-uploads -p inlet-bench)
bench="$root/target/release/inlet-bench"

# The disk's own sequential write, on the filesystem the servers write to.
measure_disk() {
  local out bytes secs
  sync
  out=$(dd if=/dev/zero of="$work/dd.bin" bs=1M count=1024 conv=fdatasync 2>&1 | tail -n 1)
  rm -f "$work/dd.bin"
  sync
  bytes=$(awk '{print $1}' <<<"$out")
  secs=$(awk '{for (i = 1; i <= NF; i++) if ($i == "s,") print $(i - 1)}' <<<"$out")
  echo "{\"protocol\":\"disk\",\"tool\":\"dd bs=1M count=1024 conv=fdatasync\",\"mb_per_s\":$(awk -v b="$bytes" -v s="$secs" 'BEGIN {printf "%.1f", b / s / 1e6}')}"
}

# start_server NAME LOAD PIN DATA: starts the server for LOAD (multipart or
# put), storing into the fresh folder DATA.
start_server() {
  local name=$1 load=$2 pin=$3 data=$4 port
  port=$(free_port)
  mkdir -p "$data"
  case "$name" in
    inlet-uploads)
      INLET_LISTEN="127.0.0.1:$port" INLET_DATA_DIR="$data" RUST_LOG=warn \
        INLET_LIMITS__MAX_FILE_BYTES=2147483648 INLET_LIMITS__MAX_REQUEST_BYTES=2147483648 \
        $pin "$root/target/release/inlet-uploads" 2>"$work/$name.log" & ;;
    inlet-uploads-swept)
      # Retention sweeping every second, with work to do: at most 500 files
      # kept, so each sweep lists the folder and removes the oldest.
      INLET_LISTEN="127.0.0.1:$port" INLET_DATA_DIR="$data" RUST_LOG=warn \
        INLET_STORE__SWEEP_INTERVAL=1s INLET_STORE__RETENTION_MAX_FILES=500 \
        INLET_LIMITS__MAX_FILE_BYTES=2147483648 INLET_LIMITS__MAX_REQUEST_BYTES=2147483648 \
        $pin "$root/target/release/inlet-uploads" 2>"$work/$name.log" & ;;
    inlet-uploads-s3)
      # moto's S3 server (the tests' stand-in, tests/support/s3_server.py),
      # on the server's core too: it is part of the storing side.
      local s3_port
      s3_port=$(free_port)
      $pin python3 "$root/tests/support/s3_server.py" 127.0.0.1 "$s3_port" 2>"$work/moto.log" >/dev/null &
      pids+=($!)
      wait_port "$s3_port"
      INLET_LISTEN="127.0.0.1:$port" INLET_DATA_DIR="$data" RUST_LOG=warn \
        INLET_STORE__BACKEND=s3 INLET_STORE__S3__ENDPOINT="http://127.0.0.1:$s3_port" \
        INLET_STORE__S3__BUCKET=inlet-bench INLET_STORE__S3__CREATE_BUCKET=true \
        INLET_STORE__S3__ACCESS_KEY_ID=bench INLET_STORE__S3__SECRET_ACCESS_KEY=bench \
        INLET_LIMITS__MAX_FILE_BYTES=2147483648 INLET_LIMITS__MAX_REQUEST_BYTES=2147483648 \
        $pin "$root/target/release/inlet-uploads" 2>"$work/$name.log" & ;;
    inlet-uploads-interval)
      INLET_LISTEN="127.0.0.1:$port" INLET_DATA_DIR="$data" RUST_LOG=warn INLET_STORE__SYNC=interval \
        INLET_LIMITS__MAX_FILE_BYTES=2147483648 INLET_LIMITS__MAX_REQUEST_BYTES=2147483648 \
        $pin "$root/target/release/inlet-uploads" 2>"$work/$name.log" & ;;
    node-seed)
      local script=upload-server.js
      [ "$load" = put ] && script=put-server.js
      (cd "$peers/node" && NODE_PATH="$work/node/node_modules" PORT=$port DATA_DIR="$data" QUIET=1 \
        exec $pin node "$script") 2>"$work/$name.log" & ;;
    aiohttp)
      local recipe=upload
      [ "$load" = put ] && recipe=put
      PORT=$port DATA_DIR="$data" QUIET=1 $pin "$venv/bin/python" "$peers/python/http_peer.py" "$recipe" \
        2>"$work/$name.log" & ;;
  esac
  server_pid=$!
  server_port=$port
  wait_port "$port"
}

for layout in $layouts; do
  set_pins "$layout"
  for load in $loads; do
   for round in $(seq 1 "$rounds"); do
    # The 1 GiB runs are set against the disk's rate of the same moment.
    if [ "$load" = big ]; then measure_disk; fi
    # The PUT runs against the machine's own ceiling for the same steps.
    if [ "$load" = put ]; then
      sync
      line=$($load_pin "$bench" ceiling --dir "$work/ceiling-$layout-$round" --threads 8 --file-bytes 50000 --files "$put_files")
      echo "${line%\}},\"protocol\":\"ceiling\",\"layout\":\"$layout\",\"round\":$round}"
      sync
    fi
    for name in $servers; do
      mode=multipart
      [ "$load" = put ] && mode=put
      data="$work/data-$layout-$load-$round-$name"
      start_server "$name" "$mode" "$server_pin" "$data"
      case "$load" in
        big) args=(--mode multipart --file-bytes 1073741824 --files 1 --connections 1) ;;
        small) args=(--mode multipart --file-bytes 65536 --files 1000 --connections 8) ;;
        put) args=(--mode put --file-bytes 50000 --files "$put_files" --connections 8) ;;
      esac
      # CPU of the server, and of the S3 server behind it if there is one.
      cpu_before=$(cpu_ticks "$server_pid")
      store_before=0
      for pid in "${pids[@]}"; do store_before=$((store_before + $(cpu_ticks "$pid"))); done
      line=$($load_pin "$bench" uploads "http://127.0.0.1:$server_port/" "${args[@]}" \
        --server-pid "$server_pid" --label "$name")
      cpu_s=$(awk -v a="$cpu_before" -v b="$(cpu_ticks "$server_pid")" -v hz="$clock_ticks" 'BEGIN {printf "%.3f", (b - a) / hz}')
      store_after=0
      for pid in "${pids[@]}"; do store_after=$((store_after + $(cpu_ticks "$pid"))); done
      store_cpu_s=$(awk -v a="$store_before" -v b="$store_after" -v hz="$clock_ticks" 'BEGIN {printf "%.3f", (b - a) / hz}')
      echo "${line%\}},\"layout\":\"$layout\",\"load\":\"$load\",\"round\":$round,\"server_cpu_s\":$cpu_s,\"store_cpu_s\":$store_cpu_s}"
      stop_server
      stop_all
      # Small files stay until the end: deleting thousands of inodes makes
      # ext4's next allocations slow (recently_deleted), whoever runs next.
      if [ "$load" = big ]; then rm -rf "$data"; fi
      # Peers do not fsync: their writes must not spill into the next run.
      sync
    done
   done
  done
done
