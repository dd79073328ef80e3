#!/usr/bin/env bash
# Makes local stand-ins for the base images deploy/Dockerfile names by default,
# for a machine that has a Docker engine but no registry to pull them from.
#
#   runtime (debian:bookworm-slim)  a debootstrapped minbase Debian, imported
#   builder (rust:…-slim-bookworm)  that runtime plus gcc, libc6-dev, pkg-config
#                                   and this machine's own Rust toolchain, laid
#                                   out as the official Rust image lays it out
#
# The machine's extra CA certificates (/usr/local/share/ca-certificates) are
# trusted inside both, so apt-get and cargo reach their registries from a build.
# An image that is already there and was not made here (a real one, pulled) is
# left alone; a missing one is pulled if a registry answers. A stand-in carries
# a label with a hash of this recipe and is remade only when missing or made by
# another recipe. Making one needs root (debootstrap, chroot).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

dockerfile_default() {
  sed -n "s/^ARG $1=//p" deploy/Dockerfile | head -n 1
}
RUNTIME_IMAGE=$(dockerfile_default RUNTIME_IMAGE)
RUST_IMAGE=$(dockerfile_default RUST_IMAGE)
[ -n "$RUNTIME_IMAGE" ] && [ -n "$RUST_IMAGE" ] || {
  echo "base-images: deploy/Dockerfile has no RUNTIME_IMAGE / RUST_IMAGE defaults" >&2
  exit 1
}

toolchain_dir=$(readlink -f "$(rustc --print sysroot)")
rust_release=$(rustc -vV | sed -n 's/^release: //p')
rust_host=$(rustc -vV | sed -n 's/^host: //p')
label=org.inlet.standin-recipe

# Whether IMAGE is usable as it is: a real image, or a stand-in of this recipe.
usable() {
  local made_by
  docker image inspect "$1" >/dev/null 2>&1 || return 1
  made_by=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$1")
  [ -z "$made_by" ] || [ "$made_by" = "<no value>" ] || [ "$made_by" = "$recipe" ]
}

# Whether IMAGE could be pulled (it can't on a machine with no registry).
pulled() {
  docker image inspect "$1" >/dev/null 2>&1 && return 1
  timeout 300 docker pull --quiet "$1" >/dev/null 2>&1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make_runtime() {
  local mirror rootfs="$work/rootfs"
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "base-images: debootstrap bookworm from $mirror"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    return 1
  }
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  fi
  chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change 'CMD ["bash"]' \
    --change "LABEL $label=$recipe" \
    - "$RUNTIME_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# The builder stand-in: the runtime stand-in plus a C toolchain and ours, laid
# out as the official image lays it out (RUSTUP_HOME, CARGO_HOME on PATH).
BUILDER_DOCKERFILE='
ARG BASE
FROM ${BASE}
ARG TOOLCHAIN
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY bin /usr/local/rustup/toolchains/${TOOLCHAIN}/bin
COPY lib /usr/local/rustup/toolchains/${TOOLCHAIN}/lib
COPY libexec /usr/local/rustup/toolchains/${TOOLCHAIN}/libexec
COPY etc /usr/local/rustup/toolchains/${TOOLCHAIN}/etc
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /usr/local/cargo/bin \
    && for tool in /usr/local/rustup/toolchains/${TOOLCHAIN}/bin/*; do \
         ln -s "$tool" /usr/local/cargo/bin/; \
       done \
    && cargo --version && rustc --version
'

make_builder() {
  # The toolchain itself is the build context; the Dockerfile comes on stdin.
  docker build --quiet --tag "$RUST_IMAGE" --label "$label=$recipe" \
    --build-arg "BASE=$RUNTIME_IMAGE" --build-arg "TOOLCHAIN=$rust_release-$rust_host" \
    -f - "$toolchain_dir" <<<"$BUILDER_DOCKERFILE" >/dev/null 2>"$work/build.log" || {
    cat "$work/build.log" >&2
    return 1
  }
}

# What makes a stand-in: the two recipes, the toolchain, the certificates.
recipe=$( (declare -f make_runtime; echo "$BUILDER_DOCKERFILE $rust_release $rust_host"
  cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true) | sha256sum | cut -c1-16)

started=$SECONDS
if usable "$RUNTIME_IMAGE" || pulled "$RUNTIME_IMAGE"; then
  echo "base-images: $RUNTIME_IMAGE is there"
else
  make_runtime
  echo "base-images: made a stand-in for $RUNTIME_IMAGE"
fi
if usable "$RUST_IMAGE" || pulled "$RUST_IMAGE"; then
  echo "base-images: $RUST_IMAGE is there"
else
  make_builder
  echo "base-images: made a stand-in for $RUST_IMAGE (rust $rust_release)"
fi
echo "base-images: ready in $((SECONDS - started)) s"
