#!/usr/bin/env bash
# Installs the Debian 12 packages skiff needs, and only those that are
# missing. Says nothing when nothing is missing.
#   install-deps.sh run    what building and running skiff needs (make run)
#   install-deps.sh test   that, and what the tests need (make test)
set -euo pipefail
set_name=${1:-test}

packages=(
  build-essential cmake pkg-config          # compiler, static libc for the monitor
  libboost-program-options-dev              # the CLI's options
  libcap-dev                                # capabilities (lesson 11)
  libseccomp-dev                            # seccomp: the profile compiler (lesson 11), linked statically
  nlohmann-json3-dev                        # the store's records, inspect
  libarchive-dev nettle-dev                 # image layers; sha256 digests (nettle)
  zlib1g-dev libbz2-dev liblzma-dev libzstd-dev liblz4-dev libacl1-dev   # libarchive's own, linked statically
  busybox-static                            # the built-in busybox image
  libcurl4-openssl-dev                      # pull/push: curl.h at build time, libcurl.so.4 dlopen'ed
  libnl-route-3-dev                         # links, addresses, routes: the bridge network (07-network), linked statically
  libnftables-dev                           # NAT and published ports (07-network): libnftables.so.1 dlopen'ed
)
if [ "$set_name" = test ]; then
  packages+=(
    catch2                                  # the tests
    skopeo podman runc                      # save/load read and written by other tools (runc: crun refuses hybrid cgroups)
    docker-registry umoci python3           # a local registry, images made for it, its token server
    curl                                    # lesson 05 talks to its registry's HTTP API by hand
    iproute2 nftables                       # lessons 07-08 build networks by hand with ip and nft
    qemu-system-x86 kmod                    # the micro-VM of the vm tests (12-vm): QEMU, depmod for its modules
  )
elif [ "$set_name" != run ]; then
  echo "usage: install-deps.sh run|test" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "skiff needs these Debian packages: ${missing[*]}; run as root (or install them) first" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Debian's docker-registry package starts a registry for the whole network on
# port 5000 where systemd runs. skiff's tests and lessons start their own, on
# 127.0.0.1 only, when they need one: the service is switched off again.
if [[ " ${missing[*]} " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
fi
