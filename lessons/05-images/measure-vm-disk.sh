#!/usr/bin/env bash
# lessons/05-images/measure-vm-disk.sh — the numbers of lesson 05's
# "Compared with a virtual machine": one Debian root filesystem shipped as an
# image (layers in a registry) and as a VM disk (a raw disk, then qcow2).
# Not run by the doc-tests: it takes a few minutes and downloads one package
# (Debian's cloud kernel, about 27 MB) from the machine's apt sources.
#
# Usage, as root:  lessons/05-images/measure-vm-disk.sh [STORE]
#   STORE  a skiff store that holds debian:bookworm, as
#          scripts/build-debian-image.sh makes it (default /var/tmp/deb-root);
#          it is only read (`skiff save`), never changed.
# Needs: skiff (SKIFF_BIN or PATH), docker-registry, curl, python3,
#        qemu-img (qemu-utils), mkfs.ext4, apt-get, gzip.
# Everything it makes is in one temporary directory, removed at the end,
# with the registry and the containers it started.
set -euo pipefail

skiff=${SKIFF_BIN:-$(command -v skiff)}
source_store=${1:-/var/tmp/deb-root}
work=$(mktemp -d /var/tmp/measure-vm-disk.XXXXXX)
export SKIFF_ROOT=$work/store SKIFF_CONFIG=$work/config SKIFF_DOCKER_HUB=127.0.0.1:9
registry_pid=''
cleanup() {
  "$skiff" rm -f vm-a vm-b >/dev/null 2>&1 || true
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# sizes: bytes of a file (apparent), KiB of blocks it really uses (du)
bytes() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
used_kib() { du -sk "$@" | awk '{ s += $1 } END { print s }'; }
# wall-clock seconds of a command
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }'; }
row() { printf '| %-58s | %s |\n' "$1" "$2"; }

echo "machine: $(nproc) CPUs, $(free -g | awk '/^Mem/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), $(date -u +%F)"
echo

# ---- the image --------------------------------------------------------------
# A private copy of debian:bookworm, so that the source store is only read.
SKIFF_ROOT=$source_store "$skiff" save -o debian.tar debian:bookworm
"$skiff" load -i debian.tar >/dev/null
rm debian.tar
"$skiff" images >/dev/null   # makes the built-in busybox

# The root filesystem both sides start from: a fresh container's files.
"$skiff" run --name export-me debian:bookworm true
mkdir rootfs
"$skiff" export export-me | tar -C rootfs --numeric-owner -xf -
"$skiff" rm export-me >/dev/null
tar --numeric-owner -C rootfs -cf rootfs.tar .
gzip -6 -c rootfs.tar >rootfs.tar.gz
# The same files as a gzip-compressed layer, as a registry usually serves them.
"$skiff" import rootfs.tar.gz debian-gz:bookworm >/dev/null

layer_of() { # IMAGE → the path of its (only) layer blob
  local manifest
  manifest=$(python3 - "$SKIFF_ROOT/images" "$1" <<'EOF'
import json, sys
root, name = sys.argv[1], sys.argv[2]
for m in json.load(open(root + "/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name", "").endswith("/" + name):
        man = json.load(open(root + "/blobs/sha256/" + m["digest"][7:]))
        print(root + "/blobs/sha256/" + man["layers"][-1]["digest"][7:])
        break
EOF
)
  echo "$manifest"
}
bb_blob=$(layer_of library/busybox:latest)
deb_blob=$(layer_of library/debian:bookworm)
gz_blob=$(layer_of library/debian-gz:bookworm)

echo "## Images"
row "busybox: layer blob as stored and sent (gzip)" "$(mib "$(bytes "$bb_blob")")"
row "busybox: the layer unpacked (du)" "$(( $(used_kib "$SKIFF_ROOT"/images/layers/"$(gzip -dc "$bb_blob" | sha256sum | cut -c1-64)") )) KiB"
row "debian:bookworm minbase: files (du -s of the root)" "$(( $(used_kib rootfs) / 1024 )) MiB"
row "debian:bookworm: layer blob, plain tar" "$(mib "$(bytes "$deb_blob")")"
row "debian:bookworm: layer blob, gzip -6" "$(mib "$(bytes "$gz_blob")")"
echo

# ---- the VM disk ------------------------------------------------------------
# The same root plus a kernel: Debian's cloud kernel package, unpacked with
# dpkg -x (vmlinuz in /boot, its modules in /lib/modules). A bootable disk
# would need more still (an init system, a boot loader, an initramfs), so
# these numbers are a lower bound for a VM.
kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
(cd "$work" && apt-get download -q "$kernel_pkg" >/dev/null 2>&1)
cp -a rootfs vmroot
mkdir kernel && dpkg -x ./*.deb kernel
# The root is merged-/usr (lib -> usr/lib): keep its directory symlinks.
tar -C kernel -cf - . | tar -C vmroot --keep-directory-symlink -xf -
kernel_kib=$(used_kib kernel)
vm_kib=$(used_kib vmroot)
# A 2 GiB disk holding one ext4 filesystem made from the directory (no
# partition table: it changes nothing to the sizes).
truncate -s 2G disk.raw
mkfs.ext4 -q -F -L root -d vmroot disk.raw
qemu-img convert -O qcow2 disk.raw disk.qcow2
qemu-img convert -c -O qcow2 disk.raw disk-compressed.qcow2

echo "## VM disk (the same root + $kernel_pkg)"
row "kernel package unpacked (du)" "$(( kernel_kib / 1024 )) MiB"
row "files of the VM's root (du -s)" "$(( vm_kib / 1024 )) MiB"
row "raw disk: apparent size / blocks used (sparse)" "$(mib "$(bytes disk.raw)") / $(( $(used_kib disk.raw) / 1024 )) MiB"
row "raw disk, gzip -6" "$(mib "$(gzip -6 -c disk.raw | wc -c)")"
row "qcow2" "$(mib "$(bytes disk.qcow2)")"
row "qcow2, compressed clusters (qemu-img convert -c)" "$(mib "$(bytes disk-compressed.qcow2)")"
echo

# ---- transfer ---------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >registry.yml <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve registry.yml >registry.log 2>&1 &
registry_pid=$!
until curl -sf "http://127.0.0.1:$port/v2/" >/dev/null; do sleep 0.1; done
reg=127.0.0.1:$port
"$skiff" tag debian-gz:bookworm "$reg/debian:gz"
"$skiff" tag debian:bookworm "$reg/debian:tar"

echo "## Transfer on this machine (loopback, warm page cache)"
row "push debian (gzip layer) to the local registry" "$(seconds "$skiff" push "$reg/debian:gz")"
"$skiff" rmi "$reg/debian:gz" debian-gz:bookworm >/dev/null
row "pull it back (download, verify, unpack)" "$(seconds "$skiff" pull "$reg/debian:gz")"
row "push debian (plain tar layer)" "$(seconds "$skiff" push "$reg/debian:tar")"
"$skiff" rmi "$reg/debian:tar" >/dev/null
"$skiff" rmi debian:bookworm >/dev/null 2>&1 || true
row "pull it back (plain tar)" "$(seconds "$skiff" pull "$reg/debian:tar")"
gz_digest=sha256:$(sha256sum "$gz_blob" | cut -c1-64)
row "curl the gzip layer blob from the registry (download only)" "$(seconds curl -sf -o layer.blob "http://$reg/v2/debian/blobs/$gz_digest")"
rm layer.blob
row "cp disk.qcow2, then sync it" "$(seconds sh -c 'cp disk.qcow2 copy.qcow2 && sync copy.qcow2')"
row "cp disk-compressed.qcow2, then sync it" "$(seconds sh -c 'cp disk-compressed.qcow2 copy-compressed.qcow2 && sync copy-compressed.qcow2')"
rm copy.qcow2 copy-compressed.qcow2
# The qcow2 over HTTP on loopback too, as a VM image would be downloaded.
python3 -m http.server --bind 127.0.0.1 0 >http.log 2>&1 &
http_pid=$!
until grep -q 'port' http.log; do sleep 0.1; done
http_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' http.log | head -1)
row "curl disk.qcow2 over HTTP on loopback" "$(seconds curl -sf -o dl.qcow2 "http://127.0.0.1:$http_port/disk.qcow2")"
row "curl disk-compressed.qcow2 over HTTP on loopback" "$(seconds curl -sf -o dl.qcow2 "http://127.0.0.1:$http_port/disk-compressed.qcow2")"
kill "$http_pid"; wait "$http_pid" 2>/dev/null || true
rm -f dl.qcow2
echo

# ---- a second instance -------------------------------------------------------
"$skiff" run -d --name vm-a "$reg/debian:tar" sleep 600 >/dev/null
"$skiff" run -d --name vm-b "$reg/debian:tar" sleep 600 >/dev/null
id_b=$("$skiff" inspect vm-b | sed -n 's/^ *"Id": "\([0-9a-f]*\)".*/\1/p' | head -1)
layer_dir=$SKIFF_ROOT/images/layers/$(basename "$deb_blob")   # a plain tar: digest = diff_id
echo "## A second instance"
row "containers: the image's layer, once (du)" "$(( $(used_kib "$layer_dir") / 1024 )) MiB"
row "containers: 2nd container's directory (upper, work, record)" "$(used_kib "$SKIFF_ROOT/containers/$id_b") KiB"
"$skiff" rm -f vm-a vm-b >/dev/null
cp --sparse=always disk.qcow2 vm-b.qcow2
qemu-img create -q -f qcow2 -b disk.qcow2 -F qcow2 vm-b-overlay.qcow2
row "VMs: 2nd VM as a full copy of disk.qcow2 (du)" "$(( $(used_kib vm-b.qcow2) / 1024 )) MiB"
row "VMs: 2nd VM as a qcow2 overlay on disk.qcow2 (du)" "$(used_kib vm-b-overlay.qcow2) KiB"
