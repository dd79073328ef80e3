#!/usr/bin/env bash
# Loads any HTTP server with form POSTs at a fixed concurrency and duration and
# prints one JSON line: req/s, p50/p99 latency, errors.
#
#   tests/bench/load.sh URL [--mix form|json|mixed] [--connections N] [--duration SECS] [--label NAME]
#
# Needs wrk (apt-get install wrk).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
url="${1:?usage: load.sh URL [--mix form|json|mixed] [--connections N] [--duration SECS] [--label NAME]}"
shift
mix=mixed connections=32 duration=10 label="$url" threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --mix) mix="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 64 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 69; }
BENCH_MIX="$mix" BENCH_LABEL="$label" BENCH_CONNECTIONS="$connections" \
  wrk --threads "$threads" --connections "$connections" --duration "${duration}s" \
      --latency --script "$here/forms-post.lua" "$url" | grep '^{'
