#!/usr/bin/env bash
# Builds the image debian:bookworm (also tagged debian:latest) from Debian's
# own archive, without any container registry: debootstrap downloads the
# packages of a minimal Debian into a directory, tar packs that directory,
# and `skiff import` turns the tarball into a one-layer image. Lesson 05
# explains each step; lessons use the image as `skiff run -it debian bash`.
#
# Usage: scripts/build-debian-image.sh [SKIFF] [MIRROR]
#   SKIFF   the skiff binary (default: build/bin/skiff, then skiff on PATH)
#   MIRROR  a Debian mirror (default: http://deb.debian.org/debian)
# Needs root (debootstrap keeps file owners) and the debootstrap package.
set -euo pipefail

skiff=${1:-}
if [ -z "$skiff" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ -x "$here/build/bin/skiff" ]; then skiff=$here/build/bin/skiff; else skiff=$(command -v skiff); fi
fi
mirror=${2:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then echo "build-debian-image: run as root (debootstrap keeps file owners)" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "build-debian-image: install debootstrap first (apt-get install debootstrap)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/skiff-debian.XXXXXX)
trap 'rm -rf "$work"' EXIT

# minbase: essential packages and apt only (about 80 MB unpacked), what
# Docker's official debian image holds too.
echo "debootstrap bookworm from $mirror (a minute or two)…"
debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }

# What a container does not need: the downloaded .deb files and apt's lists.
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*

# --numeric-owner: the owners are the image's, not this host's names.
tar --numeric-owner --xattrs -C "$work/rootfs" -cf "$work/rootfs.tar" .
# Docker's debian image starts bash when given no command; so does this one.
"$skiff" import -c 'CMD ["bash"]' -m "debootstrap --variant=minbase bookworm" "$work/rootfs.tar" debian:bookworm
"$skiff" tag debian:bookworm debian:latest
echo "Built debian:bookworm: try '$skiff run -it debian bash'"
