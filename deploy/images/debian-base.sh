#!/usr/bin/env bash
# A Debian bookworm base image made without any container registry: debootstrap (minbase) from
# the Debian mirror this host's apt already uses, then `docker import`. The local Python,
# RabbitMQ, PostgreSQL and nginx images (deploy/images/local-images.sh) are built on it.
#   bash deploy/images/debian-base.sh            import casebook/debian:bookworm if missing
#   bash deploy/images/debian-base.sh --refresh  debootstrap again (security updates)
# The root filesystem tarball is cached in $CASEBOOK_CACHE (default /var/cache/casebook), so a
# Docker data directory wiped clean costs an import, not a debootstrap. Needs root.
set -euo pipefail

IMAGE="${CASEBOOK_DEBIAN_IMAGE:-casebook/debian:bookworm}"
SUITE=bookworm
CACHE="${CASEBOOK_CACHE:-/var/cache/casebook}/debian"
TARBALL="$CACHE/$SUITE-rootfs.tar.gz"

say() { printf 'debian-base: %s\n' "$*" >&2; }

# The first URI that this host's apt sources (one-line or deb822) use for a suite.
host_mirror() {
  local suite=$1
  {
    sed -E 's/\[[^]]*\] *//' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }'
    awk -v suite="$suite" 'BEGIN { RS = "" } {
        uri = ""; deb = 0; match_suite = 0; enabled = 1
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) {
          split(lines[i], f, /[ \t]+/)
          if (f[1] == "Types:") for (j = 2; j in f; j++) if (f[j] == "deb") deb = 1
          if (f[1] == "URIs:") uri = f[2]
          if (f[1] == "Suites:") for (j = 2; j in f; j++) if (f[j] == suite) match_suite = 1
          if (f[1] == "Enabled:" && f[2] == "no") enabled = 0
        }
        if (deb && match_suite && enabled && uri != "") print uri
      }' /etc/apt/sources.list.d/*.sources 2>/dev/null
  } | head -n 1
}

MIRROR="${DEBIAN_MIRROR:-$(host_mirror "$SUITE")}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-$(host_mirror "$SUITE-security")}"
SECURITY_MIRROR="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

refresh=false
[ "${1:-}" = --refresh ] && refresh=true

if ! $refresh && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "$IMAGE is there"
  exit 0
fi

rootfs=""
# The root filesystem is deleted whatever happens; the tarball is moved in place only whole.
trap 'rm -rf "$rootfs" "$TARBALL.part"' EXIT

make_rootfs() {
  command -v debootstrap >/dev/null || {
    say "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }
  rootfs="$(mktemp -d "${TMPDIR:-/tmp}/casebook-rootfs.XXXXXX")"
  chmod 755 "$rootfs"  # apt's download user reads it
  say "debootstrap $SUITE from $MIRROR"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >&2
  cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -f "$rootfs/etc/apt/sources.list"
  # As in Debian's own container images: packages never start services while an image is
  # built (the build shares the host's network), no recommends, no documentation.
  printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    > "$rootfs/etc/apt/apt.conf.d/90casebook-no-recommends"
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n' \
    > "$rootfs/etc/dpkg/dpkg.cfg.d/90casebook-no-docs"
  say "security updates"
  chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq >&2
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/tmp/* \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  mkdir -p "$CACHE"
  tar --numeric-owner -C "$rootfs" -czf "$TARBALL.part" .
  mv "$TARBALL.part" "$TARBALL"
}

if $refresh || [ ! -s "$TARBALL" ]; then
  make_rootfs
fi
say "importing $TARBALL as $IMAGE"
docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' "$TARBALL" "$IMAGE" >/dev/null
