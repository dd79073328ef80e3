#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30), from its committed
# corpus (tests/fuzz/corpus/<target>). cargo fuzz needs nightly features;
# RUSTC_BOOTSTRAP=1 lets the stable toolchain provide them. New inputs that
# add coverage go to a scratch folder, not into the committed corpus (merge
# them by hand with `cargo fuzz cmin`); a crash stops the run, is kept under
# tests/fuzz/artifacts/<target>/, and the script exits non-zero.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds="${1:-30}"
shift || true
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list --fuzz-dir tests/fuzz)
fi

cargo fuzz build --fuzz-dir tests/fuzz -O
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
summary=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "tests/fuzz/artifacts/$target"
  log="$scratch/$target.log"
  echo "fuzz: $target for ${seconds}s"
  if ! cargo fuzz run --fuzz-dir tests/fuzz -O "$target" \
      "$scratch/$target" "tests/fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="tests/fuzz/artifacts/$target/" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $target FAILED; the input is in tests/fuzz/artifacts/$target/"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
  summary+=("$(printf '%-22s %12s execs  cov %s' "$target" "$runs" "$cov")")
done
printf '%s\n' "${summary[@]}"
echo "${#targets[@]} passed, 0 failed"
