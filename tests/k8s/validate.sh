#!/usr/bin/env bash
# Offline checks of deploy/k8s (no cluster runs here): each overlay renders
# with `kubectl kustomize`, passes the Kubernetes schemas strictly
# (kubernetes-validate, from PyPI) and keeps the promises check.py lists.
# Then check.py is shown a manifest with one promise broken and must fail.
#
#   tests/k8s/validate.sh        (needs kubectl and kubernetes-validate)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="${INLET_K8S_VERSION:-1.31.0}"
for overlay in single-node scaled; do
  kubectl kustomize "$root/deploy/k8s/overlays/$overlay" >"$work/$overlay.yaml"
  kubernetes-validate --strict --quiet -k "$version" "$work/$overlay.yaml"
  python3 "$root/tests/k8s/check.py" "$overlay" "$work/$overlay.yaml"
  echo "k8s: $overlay renders, validates against Kubernetes $version and keeps its promises"
done
sed 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' "$work/scaled.yaml" >"$work/broken.yaml"
if python3 "$root/tests/k8s/check.py" scaled "$work/broken.yaml" >/dev/null; then
  echo "k8s: check.py passed a manifest with a writable root file system" >&2
  exit 1
fi
