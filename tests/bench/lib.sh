# Shared by the comparison scripts (sourced): a work folder, one server at a
# time (server_pid) or several (pids), free ports, and — when the caller
# sets `peers` and `venv` — the peers' aiohttp venv and Node modules.
#   needs: root; peers and venv for the scripts that run the peers
work="$(mktemp -d "${BENCH_DIR:-/tmp}/inlet-bench.XXXXXX")"
# The credentials of the servers started here and of the load generators
# (the feed and the ingest need them; intake does not).
export INLET_ADMIN_TOKEN="bench-admin-token-$RANDOM$RANDOM$RANDOM"
export INLET_TOKEN="$INLET_ADMIN_TOKEN"
export INLET_PUBLISH_TOKEN="bench-publish-secret-$RANDOM$RANDOM$RANDOM"
server_pid=""
stop_server() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi; }
# Servers started together (a stack): add each to pids; stop_all stops them.
pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() { stop_server; stop_all; rm -rf "$work"; }
trap cleanup EXIT

# set_pins LAYOUT: sets server_pin and load_pin, the taskset prefixes of the
# server and the load generator: none when shared, cores 1 and 0 when pinned.
set_pins() {
  server_pin="" load_pin=""
  if [ "$1" = pinned ]; then server_pin="taskset -c 1" load_pin="taskset -c 0"; fi
}
# cpu_ticks PID: user + system CPU of every thread of PID so far, in clock
# ticks (/proc/PID/stat fields 14 and 15; the name in field 2 may hold spaces).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
clock_ticks=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2; exit 1
}

if [ -n "${peers:-}" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$peers/python/requirements.txt"
  fi
  mkdir -p "$work/node" && tar xzf "$peers/node/node_modules.tgz" -C "$work/node"
fi
