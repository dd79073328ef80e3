#!/usr/bin/env bash
# The scaled compose set under a mixed load (inlet-bench inbox-fill: 60 %
# form posts, 20 % uploads, 20 % mails, all at once): items/s with two
# replicas of each service behind the balancer against one replica (the
# second ones stopped, the load aimed at the first ones' own ports: a
# stopped replica's address does not answer, and nginx would wait its 2 s
# connect timeout on it every 5 s). Turns alternate for --rounds; one JSON
# line per run. Uses the images `tests/e2e/run.sh` (or compose) built, and
# the e2e stand-ins for NATS, nginx, PostgreSQL and Jaeger; takes the stack
# down, volumes too, whatever the outcome.
#
#   tests/bench/compare-scaled.sh [--items N] [--connections C] [--rounds R]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
items=20000 connections=16 rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --items) items="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done
compose=(docker-compose)
command -v docker-compose >/dev/null 2>&1 || compose=(docker compose)
(cd "$root" && cargo build --release -q -p inlet-bench)
bench="$root/target/release/inlet-bench"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export COMPOSE_PROJECT_NAME="inlet-bench-scaled-$$"
export COMPOSE_FILE="$root/docker-compose.yml:$root/deploy/compose/scale.yml:$root/tests/e2e/docker-compose.standin.yml:$root/tests/e2e/docker-compose.scale-standin.yml"
export INLET_PUBLISH_ADDRESS=127.0.0.1 JAEGER_PUBLISH_ADDRESS=127.0.0.1
INLET_ADMIN_TOKEN="bench-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export INLET_ADMIN_TOKEN
for var in INLET_FORMS_PORT INLET_UPLOADS_PORT INLET_GATEWAY_PORT INLET_SMTP_PORT INLET_MAIL_PORT \
  INLET_INBOX_PORT JAEGER_UI_PORT JAEGER_OTLP_GRPC_PORT JAEGER_OTLP_HTTP_PORT INLET_BALANCER_PORT \
  INLET_BALANCER_FORMS_PORT INLET_BALANCER_UPLOADS_PORT INLET_BALANCER_MAIL_PORT INLET_BALANCER_SMTP_PORT; do
  export "$var=$(free_port)"
done
trap '"${compose[@]}" down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || true' EXIT

wait_healthy() {
  local deadline=$((SECONDS + 180))
  while docker inspect --format '{{.State.Health.Status}}' $("${compose[@]}" ps -q) | grep -qv '^healthy$'; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "compare-scaled: not healthy in time" >&2; exit 1; }
    sleep 1
  done
}

"${compose[@]}" up --detach --no-build >/dev/null 2>&1
wait_healthy
for round in $(seq 1 "$rounds"); do
  for replicas in 2 1; do
    if [ "$replicas" = 2 ]; then
      "${compose[@]}" start forms-2 uploads-2 smtp-2 >/dev/null 2>&1
      wait_healthy
      # A restarted container may come back on another address; nginx
      # resolved the names when it started (see the README's scaled set).
      "${compose[@]}" restart balancer >/dev/null 2>&1
      wait_healthy
      targets=(--forms "http://127.0.0.1:$INLET_BALANCER_FORMS_PORT" --uploads "http://127.0.0.1:$INLET_BALANCER_UPLOADS_PORT" --smtp "127.0.0.1:$INLET_BALANCER_SMTP_PORT")
    else
      "${compose[@]}" stop forms-2 uploads-2 smtp-2 >/dev/null 2>&1
      targets=(--forms "http://127.0.0.1:$INLET_FORMS_PORT" --uploads "http://127.0.0.1:$INLET_UPLOADS_PORT" --smtp "127.0.0.1:$INLET_SMTP_PORT")
    fi
    line=$("$bench" inbox-fill "${targets[@]}" --items "$items" --connections "$connections")
    rate=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(round((r["submissions"]+r["files"]+r["mails"]-r["errors"])/r["seconds"],1))' "$line")
    echo "${line%\}},\"replicas\":$replicas,\"round\":$round,\"items_per_s\":$rate}"
  done
done
