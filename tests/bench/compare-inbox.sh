#!/usr/bin/env bash
# The web inbox's numbers, on release builds, with every item generated
# through the real services (gateway, forms, uploads, smtp):
#
#   1. fill: --items (100 000) items, 60 % submissions, 20 % files, 20 % mail
#      (inlet-bench inbox-fill);
#   2. engines: the inbox's index on SQLite FTS5 against tantivy, both built
#      from the same items read from the APIs, the same searches
#      (inlet-bench index-engines);
#   3. rebuild: a fresh inlet-inbox fills its index from the APIs (its
#      "index rebuilt" log line gives items and time); its peak memory;
#   4. search: each case --requests (300) times, one at a time, in two
#      layouts (shared; pinned: inbox on core 1, load on core 0);
#   5. live: arrivals at --rate (1000) per second for 10 s, the time from
#      each 200/250 to its row on an open page;
#   then the inbox's peak resident memory over all of it.
# One JSON line per measurement.
#
#   tests/bench/compare-inbox.sh [--items N] [--requests N] [--rate N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
items=100000 requests=300 rate=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --items) items="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done

# shellcheck source=tests/bench/lib.sh
source "$root/tests/bench/lib.sh"
wait_ready() { # admin port
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "not ready on $1" >&2; exit 1
}

(cd "$root" && cargo build --release -q --locked -p inlet-forms -p inlet-uploads -p inlet-smtp \
  -p inlet-gateway -p inlet-inbox -p inlet-bench --features inlet-bench/engines)
bin="$root/target/release"
bench="$bin/inlet-bench"

data="$work/data"
mkdir -p "$data"
gateway_port=$(free_port) grpc_port=$(free_port) forms_port=$(free_port) uploads_port=$(free_port)
smtp_port=$(free_port) mail_port=$(free_port)
declare -A admin
for name in gateway forms uploads smtp inbox; do admin[$name]=$(free_port); done
common=(INLET_DATA_DIR="$data" INLET_GATEWAY_URL="http://127.0.0.1:$grpc_port" RUST_LOG=warn)
env INLET_LISTEN="127.0.0.1:$gateway_port" INLET_GRPC_LISTEN="127.0.0.1:$grpc_port" \
  INLET_ADMIN_LISTEN="127.0.0.1:${admin[gateway]}" RUST_LOG=warn \
  "$bin/inlet-gateway" 2>"$work/gateway.log" & pids+=($!)
wait_ready "${admin[gateway]}"
env "${common[@]}" INLET_LISTEN="127.0.0.1:$forms_port" INLET_ADMIN_LISTEN="127.0.0.1:${admin[forms]}" \
  "$bin/inlet-forms" 2>"$work/forms.log" & pids+=($!)
env "${common[@]}" INLET_LISTEN="127.0.0.1:$uploads_port" INLET_ADMIN_LISTEN="127.0.0.1:${admin[uploads]}" \
  "$bin/inlet-uploads" 2>"$work/uploads.log" & pids+=($!)
env "${common[@]}" INLET_SMTP_LISTEN="127.0.0.1:$smtp_port" INLET_LISTEN="127.0.0.1:$mail_port" \
  INLET_ADMIN_LISTEN="127.0.0.1:${admin[smtp]}" "$bin/inlet-smtp" 2>"$work/smtp.log" & pids+=($!)
for name in forms uploads smtp; do wait_ready "${admin[$name]}"; done
forms="http://127.0.0.1:$forms_port" uploads="http://127.0.0.1:$uploads_port"
mail="http://127.0.0.1:$mail_port" smtp="127.0.0.1:$smtp_port"

"$bench" inbox-fill --forms "$forms" --uploads "$uploads" --smtp "$smtp" --items "$items"
"$bench" index-engines --forms "$forms" --uploads "$uploads" --mail "$mail" --dir "$work/engines" \
  --requests "$requests"
rm -rf "$work/engines"

# The inbox, from nothing: its first act is the rebuild.
inbox_port=$(free_port)
start_inbox() { # pin
  env INLET_DATA_DIR="$work/inbox" INLET_LISTEN="127.0.0.1:$inbox_port" \
    INLET_ADMIN_LISTEN="127.0.0.1:${admin[inbox]}" INLET_LOG_FORMAT=json RUST_LOG=info \
    INLET_INBOX__FORMS_URL="$forms" INLET_INBOX__UPLOADS_URL="$uploads" INLET_INBOX__MAIL_URL="$mail" \
    INLET_INBOX__GATEWAY_URL="http://127.0.0.1:$gateway_port" \
    $1 "$bin/inlet-inbox" 2>"$work/inbox.log" &
  inbox_pid=$!
  pids+=("$inbox_pid")
  wait_ready "${admin[inbox]}"
}
start_inbox ""
python3 - "$work/inbox.log" "$inbox_pid" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    if entry.get("message") == "index rebuilt from the services' lists":
        fields = entry["fields"]
        listed, ms = fields["items.listed"], fields["elapsed_ms"]
        status = open(f"/proc/{sys.argv[2]}/status").read()
        peak = next(int(l.split()[1]) * 1024 for l in status.splitlines() if l.startswith("VmHWM:"))
        print(json.dumps({"protocol": "inbox-rebuild", "items": listed, "ms": ms,
                          "items_per_s": round(listed / (ms / 1000), 1), "rss_peak_bytes": peak}))
        break
EOF

after=$(python3 -c 'import datetime; print((datetime.date.today() - datetime.timedelta(days=7)).isoformat())')
search_cases=("" "dublin" "invoice dublin" "\"holiday for\"" "kind:mail from:alice after:$after" \
  "kind:file name:budget -dublin" "zzzzunknown")
for layout in shared pinned; do
  if [ "$layout" = pinned ]; then
    kill "$inbox_pid"; wait "$inbox_pid" 2>/dev/null || true
    start_inbox "taskset -c 1"
    load_pin="taskset -c 0"
  else
    load_pin=""
  fi
  for q in "${search_cases[@]}"; do
    line=$($load_pin "$bench" inbox-search "http://127.0.0.1:$inbox_port" --query "$q" \
      --requests "$requests" --server-pid "$inbox_pid")
    echo "${line%\}},\"layout\":\"$layout\"}"
  done
done

"$bench" inbox-live "http://127.0.0.1:$inbox_port" --forms "$forms" --uploads "$uploads" --smtp "$smtp" \
  --rate "$rate" --seconds 10 --server-pid "$inbox_pid"
peak=$(awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$inbox_pid/status")
echo "{\"protocol\":\"inbox-memory\",\"rss_peak_bytes\":$peak}"
