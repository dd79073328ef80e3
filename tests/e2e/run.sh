#!/usr/bin/env bash
# End-to-end test of the compose stack, as a user runs it:
#
#   1. base images: local stand-ins where none can be pulled (base-images.sh);
#   2. the service images, built by compose from deploy/Dockerfile, unchanged;
#   3. Jaeger replaced by the stand-in (docker-compose.standin.yml), because no
#      Jaeger image can be pulled here;
#   4. the stack started on free loopback ports, every healthcheck waited for,
#      then driven from the host by the `stack` test of the inlet-e2e crate,
#      mostly through the `inlet` CLI built for the host, and once through
#      the `cli` image (`compose run --rm cli …`);
#   5. everything torn down (containers, network, volume) whatever the outcome;
#      the images stay, as the build cache;
#   6. then the scaled set (deploy/compose/scale.yml: two replicas each of
#      forms, uploads, gateway and smtp behind a load balancer, the feed on
#      NATS JetStream, forms on PostgreSQL, with NATS, the balancer and
#      PostgreSQL from Debian's packages in stand-in images), started the
#      same way and driven by the `scale` tests, and torn down the same way.
#
# Prints `SKIPPED: no Docker engine` and exits 0 where no engine answers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

if ! docker info >/dev/null 2>&1; then
  echo "SKIPPED: no Docker engine: the end-to-end test of the compose stack did not run"
  exit 0
fi
if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "e2e: neither docker-compose nor the docker compose plugin is installed" >&2
  exit 1
fi

# How long the stack may take to report every service healthy.
HEALTHY_WITHIN_SECS=${HEALTHY_WITHIN_SECS:-180}

started=$SECONDS
step() { echo "e2e: [$((SECONDS - started)) s] $*"; }

step "base images"
bash tests/e2e/base-images.sh

runtime_image=$(sed -n 's/^ARG RUNTIME_IMAGE=//p' deploy/Dockerfile | head -n 1)
# build_standin NAME CONTEXT: builds inlet-e2e/NAME-standin from
# tests/e2e/NAME-standin.Dockerfile on the runtime base; a failed build
# shows its log.
build_standin() {
  local name=$1 context=$2 log
  log=$(mktemp)
  docker build --quiet --tag "inlet-e2e/$name-standin:latest" \
    --build-arg "RUNTIME_IMAGE=${INLET_E2E_STANDIN_BASE:-$runtime_image}" \
    -f "tests/e2e/$name-standin.Dockerfile" "$context" >/dev/null 2>"$log" || {
    cat "$log" >&2
    rm -f "$log"
    exit 1
  }
  rm -f "$log"
}

step "Jaeger stand-in image"
cargo build --quiet --locked -p inlet-e2e --bin jaeger-standin
context=$(mktemp -d)
cp "${CARGO_TARGET_DIR:-$root/target}/debug/jaeger-standin" "$context/"
build_standin jaeger "$context"
rm -rf "$context"

step "NATS, load balancer, PostgreSQL and S3 stand-in images"
for standin in nats balancer postgres; do
  build_standin "$standin" tests/e2e/
done
# moto from wheels fetched here: a build inside docker has no PyPI.
context=$(mktemp -d)
python3 -m pip download --quiet --only-binary=:all: --python-version 3.11 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform linux_x86_64 \
  -d "$context/wheels" 'moto[server]==5.2.6'
cp tests/support/s3_server.py "$context/"
build_standin s3 "$context"
rm -rf "$context"

# A project of its own, on free loopback ports, so a user's stack is untouched.
export COMPOSE_PROJECT_NAME="inlet-e2e-$$"
export COMPOSE_FILE="$root/docker-compose.yml:$root/tests/e2e/docker-compose.standin.yml"
export INLET_PUBLISH_ADDRESS=127.0.0.1 JAEGER_PUBLISH_ADDRESS=127.0.0.1
export INLET_E2E_COMPOSE="${compose[*]}"
# The stack's credential, as a user sets it in .env; the test reads with it.
INLET_ADMIN_TOKEN="e2e-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export INLET_ADMIN_TOKEN

# Takes the current project down; fails if anything of it is left.
down_project() {
  step "tearing down $COMPOSE_PROJECT_NAME"
  "${compose[@]}" down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || true
  local left
  left=$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
  left+=$(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
  left+=$(docker network ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
  if [ -n "$left" ]; then
    echo "e2e: containers, volumes or networks were left behind: $left" >&2
    return 1
  fi
}

teardown() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "e2e: failed; the stack's last log lines:" >&2
    "${compose[@]}" logs --no-color --tail=100 >&2 || true
  fi
  down_project || status=1
  step "done"
  exit "$status"
}
trap teardown EXIT

step "building the service images and the cli image (${compose[*]} build)"
build_log=$(mktemp)
# The cli service is under a profile: named here so that it is built too.
if ! COMPOSE_PROFILES=cli "${compose[@]}" build >"$build_log" 2>&1; then
  tail -n 60 "$build_log" >&2
  rm -f "$build_log"
  exit 1
fi
rm -f "$build_log"

# Free ports are chosen now, just before the stack binds them (not before
# the build, minutes earlier, when another program may take one meanwhile).
pick_ports() {
  # All at once, each socket held until every port is chosen: picked one by
  # one, the system can hand out the same free port twice.
  local ports
  read -r -a ports < <(python3 -c 'import socket
socks = [socket.socket() for _ in range(14)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
  INLET_FORMS_PORT=${ports[0]}
  INLET_UPLOADS_PORT=${ports[1]}
  INLET_GATEWAY_PORT=${ports[2]}
  INLET_SMTP_PORT=${ports[3]}
  INLET_MAIL_PORT=${ports[4]}
  INLET_INBOX_PORT=${ports[5]}
  JAEGER_UI_PORT=${ports[6]}
  JAEGER_OTLP_GRPC_PORT=${ports[7]}
  JAEGER_OTLP_HTTP_PORT=${ports[8]}
  INLET_BALANCER_PORT=${ports[9]}
  export INLET_BALANCER_PORT INLET_E2E_BALANCER_URL="ws://127.0.0.1:$INLET_BALANCER_PORT"
  # The scaled set's other balanced ports: forms, uploads, the mail API, SMTP.
  INLET_BALANCER_FORMS_PORT=${ports[10]} INLET_BALANCER_UPLOADS_PORT=${ports[11]}
  INLET_BALANCER_MAIL_PORT=${ports[12]} INLET_BALANCER_SMTP_PORT=${ports[13]}
  export INLET_BALANCER_FORMS_PORT INLET_BALANCER_UPLOADS_PORT INLET_BALANCER_MAIL_PORT INLET_BALANCER_SMTP_PORT
  export INLET_E2E_BALANCED_FORMS_URL="http://127.0.0.1:$INLET_BALANCER_FORMS_PORT"
  export INLET_E2E_BALANCED_UPLOADS_URL="http://127.0.0.1:$INLET_BALANCER_UPLOADS_PORT"
  export INLET_E2E_BALANCED_MAIL_URL="http://127.0.0.1:$INLET_BALANCER_MAIL_PORT"
  export INLET_E2E_BALANCED_SMTP_PORT="$INLET_BALANCER_SMTP_PORT"
  export INLET_FORMS_PORT INLET_UPLOADS_PORT INLET_GATEWAY_PORT INLET_SMTP_PORT INLET_MAIL_PORT INLET_INBOX_PORT JAEGER_UI_PORT JAEGER_OTLP_GRPC_PORT JAEGER_OTLP_HTTP_PORT
  export INLET_E2E_FORMS_URL="http://127.0.0.1:$INLET_FORMS_PORT"
  export INLET_E2E_UPLOADS_URL="http://127.0.0.1:$INLET_UPLOADS_PORT"
  export INLET_E2E_GATEWAY_URL="ws://127.0.0.1:$INLET_GATEWAY_PORT"
  export INLET_E2E_SMTP_PORT="$INLET_SMTP_PORT"
  export INLET_E2E_MAIL_URL="http://127.0.0.1:$INLET_MAIL_PORT"
  export INLET_E2E_JAEGER_URL="http://127.0.0.1:$JAEGER_UI_PORT"
  export INLET_E2E_INBOX_URL="http://127.0.0.1:$INLET_INBOX_PORT"
  # The inbox's "View trace" links point at the Jaeger (stand-in) of this stack.
  export INLET_JAEGER_UI_URL="$INLET_E2E_JAEGER_URL"
  # Where the host's `inlet --trace` sends the client's own spans.
  export INLET_E2E_OTLP_ENDPOINT="http://127.0.0.1:$JAEGER_OTLP_GRPC_PORT"
}
# Starts the stack on fresh ports and waits for every healthcheck.
start_stack() {
  pick_ports
  step "starting $COMPOSE_PROJECT_NAME"
  "${compose[@]}" up --detach --no-build

  step "waiting for every healthcheck"
  local deadline=$((SECONDS + HEALTHY_WITHIN_SECS)) states
  while :; do
    states=$(docker inspect --format '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}' \
      $("${compose[@]}" ps -q))
    if ! grep -qv ' healthy$' <<<"$states"; then
      break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "e2e: not healthy within ${HEALTHY_WITHIN_SECS} s:" >&2
      echo "$states" >&2
      exit 1
    fi
    sleep 1
  done
  echo "$states" | sed 's/^/e2e:   /'
}
step "the inlet CLI for the host"
cargo build --quiet --locked -p inlet-cli

# INLET_E2E_ONLY=scale runs the scaled set alone (when working on it).
if [ "${INLET_E2E_ONLY:-}" != scale ]; then
  start_stack
  step "driving the stack from the host"
  # One test at a time: they restart and stop services the others read through.
  cargo nextest run --locked -p inlet-e2e --run-ignored only --no-fail-fast --test-threads 1 \
    -E 'not test(/^(scale|replicas)::/)'
  down_project
fi

# The scaled set: a project of its own.
export COMPOSE_PROJECT_NAME="inlet-e2e-scale-$$"
export COMPOSE_FILE="$root/docker-compose.yml:$root/deploy/compose/scale.yml:$root/tests/e2e/docker-compose.standin.yml:$root/tests/e2e/docker-compose.scale-standin.yml"
start_stack
step "driving the scaled set from the host"
cargo nextest run --locked -p inlet-e2e --run-ignored only --no-fail-fast --test-threads 1 \
  -E 'test(/^(scale|replicas)::/)'
