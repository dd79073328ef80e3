#!/usr/bin/env bash
# The soak: release builds of every service on free loopback ports, one
# shared temporary data folder, and `inlet-bench soak` running a steady mixed
# load for MINUTES (posts, uploads, WebSocket chat, event subscribers, mail)
# while sampling each service's memory, descriptors and threads every 10 s.
# It fails if a request failed, an acknowledged item is missing at the end,
# or anything grew over 10% after the warm-up. The services are stopped and
# the folder removed on exit. Samples and the verdict go to stdout as JSON
# lines (tests/soak/summarize.py makes the table).
#
#   tests/soak/run.sh [MINUTES]
set -euo pipefail
# The credentials of the services started here and of the soak's clients.
export INLET_ADMIN_TOKEN="soak-admin-token-$RANDOM$RANDOM$RANDOM"
export INLET_TOKEN="$INLET_ADMIN_TOKEN"
export INLET_PUBLISH_TOKEN="soak-publish-secret-$RANDOM$RANDOM$RANDOM"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

minutes="${1:-30}"
cargo build --release --locked -p inlet-forms -p inlet-uploads -p inlet-gateway -p inlet-smtp -p inlet-bench >&2
bin="${CARGO_TARGET_DIR:-target}/release"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
data="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$data"
}
trap cleanup EXIT

forms_port=$(free_port); uploads_port=$(free_port); gateway_port=$(free_port)
grpc_port=$(free_port); smtp_port=$(free_port); admin_port=$(free_port)
common=(INLET_DATA_DIR="$data" INLET_GATEWAY_URL="http://127.0.0.1:$grpc_port" RUST_LOG=warn OTEL_SDK_DISABLED=true)

env INLET_LISTEN="127.0.0.1:$gateway_port" INLET_GRPC_LISTEN="127.0.0.1:$grpc_port" RUST_LOG=warn OTEL_SDK_DISABLED=true \
  "$bin/inlet-gateway" >"$data/gateway.log" 2>&1 & pids+=($!); gateway_pid=$!
env "${common[@]}" INLET_LISTEN="127.0.0.1:$forms_port" "$bin/inlet-forms" >"$data/forms.log" 2>&1 & pids+=($!); forms_pid=$!
env "${common[@]}" INLET_LISTEN="127.0.0.1:$uploads_port" "$bin/inlet-uploads" >"$data/uploads.log" 2>&1 & pids+=($!); uploads_pid=$!
env "${common[@]}" INLET_SMTP_LISTEN="127.0.0.1:$smtp_port" INLET_ADMIN_LISTEN="127.0.0.1:$admin_port" \
  "$bin/inlet-smtp" >"$data/smtp.log" 2>&1 & pids+=($!); smtp_pid=$!

# Ready when each answers /readyz (bounded: 30 s); on a main listener that
# needs the credential.
for url in "http://127.0.0.1:$forms_port" "http://127.0.0.1:$uploads_port" \
           "http://127.0.0.1:$gateway_port" "http://127.0.0.1:$admin_port"; do
  for _ in $(seq 300); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/readyz', headers={'Authorization': 'Bearer ' + sys.argv[2]}), timeout=1)" "$url" "$INLET_ADMIN_TOKEN" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
done

"$bin/inlet-bench" soak --minutes "$minutes" --data-dir "$data" \
  --forms "http://127.0.0.1:$forms_port" --uploads "http://127.0.0.1:$uploads_port" \
  --gateway "ws://127.0.0.1:$gateway_port" --smtp "127.0.0.1:$smtp_port" \
  --pid "forms=$forms_pid" --pid "uploads=$uploads_pid" \
  --pid "gateway=$gateway_pid" --pid "smtp=$smtp_pid"
