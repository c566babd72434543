#!/usr/bin/env bash
# tests/registry/make-images.sh — builds the images the registry tests pull
# and copies them into a local registry. Lesson: lessons/05-images.
#
#   make-images.sh REGISTRY WORKDIR [WHAT...]
#     REGISTRY   host:port of a plain-http registry on loopback
#     WORKDIR    an empty directory of the caller's (removed by the caller)
#     WHAT       any of: layers multi big (default: layers multi)
#
# layers (REGISTRY/layers:latest) — three layers made by umoci from the
#   static busybox: 1) bin/busybox, bin/sh, etc/gone, etc/kept, etc/dir/old;
#   2) etc/gone deleted (umoci writes the whiteout etc/.wh.gone), etc/added,
#   etc/dir/old replaced by etc/dir/new (etc/dir/.wh.old); 3) srv/data.
# multi (REGISTRY/multi:latest) — an OCI index of two manifests: this
#   machine's architecture, whose /etc/platform says "native", and
#   linux/arm64/v8, whose /etc/platform says "arm64" (the files are this
#   machine's busybox either way: the test reads a file, it runs nothing foreign).
# big (REGISTRY/big:latest) — for the pull benchmark: busybox, then three
#   layers of this machine's own files (Python's standard library, the time
#   zones, gcc's plugin headers): about 70 MB unpacked, 20 MB compressed,
#   thousands of files, the shape of a real application image.
#
# Needs root (umoci unpack keeps file owners), umoci, skopeo, python3.
set -euo pipefail

REGISTRY=$1 WORK=$2
shift 2
WHAT=${*:-layers multi}
L=$WORK/layout
ARCH=$(dpkg --print-architecture)

copy() {  # copy TAG NAME [skopeo options]: layout tag → REGISTRY/NAME:latest
  local tag=$1 name=$2
  shift 2
  skopeo copy -q "$@" --dest-tls-verify=false "oci:$L:$tag" "docker://$REGISTRY/$name:latest" >/dev/null
}

base_rootfs() {  # base_rootfs DIR: busybox, a shell and the files layer 2 changes
  mkdir -p "$1/bin" "$1/etc/dir"
  cp /bin/busybox "$1/bin/busybox"
  ln -s busybox "$1/bin/sh"
  echo gone > "$1/etc/gone"
  echo kept > "$1/etc/kept"
  echo old > "$1/etc/dir/old"
}

umoci init --layout "$L"

make_layers() {
  local b=$WORK/bundle
  umoci new --image "$L:layers"
  umoci unpack --image "$L:layers" "$b" >/dev/null
  base_rootfs "$b/rootfs"
  umoci repack --refresh-bundle --image "$L:layers" "$b"
  rm "$b/rootfs/etc/gone"
  echo added > "$b/rootfs/etc/added"
  rm -r "$b/rootfs/etc/dir" && mkdir "$b/rootfs/etc/dir" && echo new > "$b/rootfs/etc/dir/new"
  umoci repack --refresh-bundle --image "$L:layers" "$b"
  mkdir -p "$b/rootfs/srv" && echo data > "$b/rootfs/srv/data"
  umoci repack --refresh-bundle --image "$L:layers" "$b"
  umoci config --image "$L:layers" --config.cmd sh --config.env PATH=/bin
  copy layers layers
}

make_big() {
  local b=$WORK/bundle-big
  umoci new --image "$L:big"
  umoci unpack --image "$L:big" "$b" >/dev/null
  base_rootfs "$b/rootfs"
  umoci repack --refresh-bundle --image "$L:big" "$b"
  local dir
  for dir in /usr/lib/python3.11 /usr/share/zoneinfo /usr/lib/gcc/x86_64-linux-gnu/12/plugin/include; do
    [ -d "$dir" ] || continue
    mkdir -p "$b/rootfs$(dirname "$dir")"
    cp -a "$dir" "$b/rootfs$dir"
    umoci repack --refresh-bundle --image "$L:big" "$b"
  done
  umoci config --image "$L:big" --config.cmd sh --config.env PATH=/bin
  copy big big
}

# One platform's image: TAG, with /etc/platform holding TEXT.
make_platform() {
  local tag=$1 text=$2 arch=$3 b=$WORK/bundle-$1
  umoci new --image "$L:$tag"
  umoci unpack --image "$L:$tag" "$b" >/dev/null
  base_rootfs "$b/rootfs"
  echo "$text" > "$b/rootfs/etc/platform"
  umoci repack --refresh-bundle --image "$L:$tag" "$b"
  umoci config --image "$L:$tag" --architecture "$arch" --config.cmd sh --config.env PATH=/bin
}

make_multi() {
  make_platform native native "$ARCH"
  make_platform arm arm64 arm64
  # The index, written by hand: skopeo copies it and both manifests (--all).
  python3 - "$L" "$ARCH" <<'PY'
import hashlib, json, os, sys
layout, arch = sys.argv[1], sys.argv[2]
index_path = os.path.join(layout, "index.json")
index = json.load(open(index_path))
by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
def entry(tag, platform):
    m = by_tag[tag]
    return {"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"], "platform": platform}
multi = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [entry("native", {"os": "linux", "architecture": arch}),
                       entry("arm", {"os": "linux", "architecture": "arm64", "variant": "v8"})]}
data = json.dumps(multi).encode()
digest = hashlib.sha256(data).hexdigest()
open(os.path.join(layout, "blobs", "sha256", digest), "wb").write(data)
index["manifests"].append({"mediaType": multi["mediaType"], "digest": "sha256:" + digest, "size": len(data),
                           "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(index, open(index_path, "w"))
PY
  copy multi multi --all
}

for w in $WHAT; do
  case $w in
    layers) make_layers ;;
    multi) make_multi ;;
    big) make_big ;;
    *) echo "make-images.sh: unknown image $w" >&2; exit 2 ;;
  esac
done
