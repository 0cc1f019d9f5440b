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
# Needs root, podman, runc and debootstrap (apt-get install podman runc debootstrap).
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${PRESENCE_IMAGE_TAG:-presence-gateway:local}
base=localhost/presence-node20-bookworm:$(node -p 'process.versions.node')
work=${PRESENCE_IMAGE_WORK:-/var/tmp/presence-image}
mkdir -p "$(dirname "$work")"
mirror=${PRESENCE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
started=$(date +%s)
# Sandboxed hosts (this project's machines: cgroup v1 + a v2 tmpfs, no CAP_SYS_RESOURCE)
# refuse crun's hybrid cgroups and any raised rlimit: runc with cgroupfs and limits
# at or below the host's work there and anywhere else. PODMAN_GLOBAL/PODMAN_LIMITS override.
read -r -a global <<<"${PODMAN_GLOBAL:---runtime runc --cgroup-manager cgroupfs}"
read -r -a limits <<<"${PODMAN_LIMITS:---ulimit nofile=8192:8192 --ulimit nproc=4096:4096}"
pod() { podman "${global[@]}" "$@"; }

if ! pod image exists "$base"; then
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
  # Node's headers, as the official image has them: node-gyp builds node-rdkafka against
  # them instead of downloading them from nodejs.org (npm_config_nodedir below).
  mkdir -p "$rootfs/usr/local/include"
  cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node" "$rootfs/usr/local/include/node"
  chroot "$rootfs" /usr/sbin/groupadd --gid 1000 node
  chroot "$rootfs" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "$rootfs" /usr/local/bin/node --version
  # This machine's own CAs (a TLS-inspecting egress proxy's, a company's): the build's
  # apt-get installs ca-certificates, which takes them in, and npm (Node) reads that bundle.
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  tar -C "$rootfs" -c . | pod import --change 'CMD ["node"]' --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' --change 'ENV npm_config_nodedir=/usr/local' - "$base"
  rm -rf "$rootfs"
fi

echo "image $tag from $base"
# Host network: the build's apt-get and npm ci reach their registries as this machine does.
pod build "${limits[@]}" --network=host --build-arg NODE_IMAGE="$base" -f infra/image/Dockerfile -t "$tag" .
echo "built in $(($(date +%s) - started)) s: $(pod image inspect "$tag" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"

echo "smoke: --help, decode, topics list"
pod run "${limits[@]}" --rm "$tag" --help >"$work.out" && head -3 "$work.out"
pod run "${limits[@]}" --rm -v "$PWD/test/fixtures:/fixtures:ro" "$tag" decode /fixtures/sip-udp.pcap >"$work.out" && tail -2 "$work.out"
brokers=${PRESENCE_KAFKA_BROKERS:-127.0.0.1:9092}
pod run "${limits[@]}" --rm --network=host -e PRESENCE_KAFKA_BROKERS="$brokers" "$tag" topics list >"$work.out" && head -5 "$work.out"
if pod run "${limits[@]}" --rm --entrypoint sh "$tag" -c 'find /app -name "*.ts" -not -name "*.d.ts" -not -path "*/node_modules/*" | grep -q .'; then
  echo "TypeScript sources in the image" >&2
  exit 1
fi
echo "image $tag: ok in $(($(date +%s) - started)) s"
