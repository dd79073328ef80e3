#!/usr/bin/env bash
# The test command. On a fresh Debian machine it first installs what the tests
# need and is missing (Chromium and its driver for the page tests, nats-server
# for the event feed on NATS JetStream, PostgreSQL for the forms store on
# PostgreSQL, debootstrap for the end-to-end test's
# base images, axe-core from PyPI for the inbox's accessibility checks,
# kubernetes-validate from PyPI for the Kubernetes manifests, moto's S3
# server from PyPI for the uploads store on S3,
# rustfmt, clippy, cargo-nextest), then runs formatting
# and lint checks, every test of the workspace, every fuzz target for 30 s
# (tests/fuzz/run.sh), and the end-to-end test of the compose stack
# (tests/e2e/run.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# Debian puts nats-server in /usr/sbin, which a non-root PATH may lack.
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
# The tests run Debian's server binaries themselves (not the system cluster).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if docker info >/dev/null 2>&1; then
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "tests: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Kubernetes schemas, for the offline checks of deploy/k8s.
command -v kubernetes-validate >/dev/null 2>&1 || python3 -m pip install -q kubernetes-validate
# moto's S3 server, for the uploads store on S3 (pinned: the tests rely on
# its conditional writes and ListMultipartUploads).
python3 -c 'import moto.server, flask_cors' 2>/dev/null || python3 -m pip install -q 'moto[server]==5.2.6'
# axe-core, for the accessibility checks of the inbox's pages.
python3 -c 'import axe_selenium_python' 2>/dev/null || python3 -m pip install -q axe-selenium-python
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
command -v cargo-nextest >/dev/null 2>&1 || cargo install cargo-nextest --locked

cargo fmt --all --check
# deploy/k8s: each overlay rendered (kubectl kustomize) and validated offline.
tests/k8s/validate.sh
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo nextest run --locked --workspace
# Every fuzz target for 30 s from its committed corpus (INLET_FUZZ_SECONDS to change).
tests/fuzz/run.sh "${INLET_FUZZ_SECONDS:-30}"
tests/e2e/run.sh
