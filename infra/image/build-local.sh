#!/usr/bin/env bash
# Builds and smoke-runs the gateway image with podman on a machine that can pull
# no base image: the base is made here, from Debian's packages (debootstrap)
# plus this machine's own Node.js, and passed to the Dockerfile as NODE_IMAGE.
# Then the image runs: --help, decode of a generated fixture (no Kafka), and
# `topics list` against the local stack's broker (host network).
#
#   infra/image/build-local.sh            # base (once, cached), image, smoke run
#   PRESENCE_IMAGE_TAG=x infra/image/build-local.sh
#
# Needs root, podman and debootstrap (apt-get install podman debootstrap).
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${PRESENCE_IMAGE_TAG:-presence-gateway:local}
base=localhost/presence-node20-bookworm:$(node -p 'process.versions.node')
work=${PRESENCE_IMAGE_WORK:-/var/tmp/presence-image}
mirror=${PRESENCE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
started=$(date +%s)

if ! podman image exists "$base"; then
  echo "base $base: debootstrap bookworm (minbase) + node $(node --version) from this machine"
  rootfs="$work/rootfs"
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work.debootstrap.log" 2>&1 ||
    { tail -20 "$work.debootstrap.log"; exit 1; }
  # The official node image's layout: node and npm on PATH, a `node` user (uid 1000).
  install -m 0755 "$(command -v node)" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$(npm root -g)/npm" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" /usr/sbin/groupadd --gid 1000 node
  chroot "$rootfs" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "$rootfs" /usr/local/bin/node --version
  tar -C "$rootfs" -c . | podman import --change 'CMD ["node"]' - "$base"
  rm -rf "$rootfs"
fi

echo "image $tag from $base"
# Host network: the build's apt-get and npm ci reach their registries as this machine does.
podman build --network=host --build-arg NODE_IMAGE="$base" -f infra/image/Dockerfile -t "$tag" .
echo "built in $(($(date +%s) - started)) s: $(podman image inspect "$tag" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"

echo "smoke: --help, decode, topics list"
podman run --rm "$tag" --help | head -3
podman run --rm -v "$PWD/test/fixtures:/fixtures:ro" "$tag" decode /fixtures/sip-udp.pcap | tail -2
brokers=${PRESENCE_KAFKA_BROKERS:-127.0.0.1:9092}
podman run --rm --network=host -e PRESENCE_KAFKA_BROKERS="$brokers" "$tag" topics list | head -5
if podman run --rm "$tag" ls /app/dist >/dev/null 2>&1 && podman run --rm --entrypoint sh "$tag" -c 'find /app -name "*.ts" -not -path "*/node_modules/*" | grep -q .'; then
  echo "TypeScript sources in the image" >&2
  exit 1
fi
echo "image $tag: ok in $(($(date +%s) - started)) s"
