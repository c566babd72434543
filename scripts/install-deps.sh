#!/usr/bin/env bash
# Installs the Debian 12 packages skiff needs to build, run and test, and only
# those that are missing. Says nothing when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config          # compiler, static libc for the monitor
  libboost-program-options-dev              # the CLI's options
  libcap-dev                                # capabilities (lesson 11)
  libseccomp-dev                            # seccomp: the profile compiler (lesson 11), linked statically
  nlohmann-json3-dev                        # the store's records, inspect
  libarchive-dev nettle-dev                 # image layers; sha256 digests (nettle)
  zlib1g-dev libbz2-dev liblzma-dev libzstd-dev libacl1-dev   # libarchive's own, linked statically
  catch2                                    # the tests
  busybox-static                            # the built-in busybox image
  skopeo podman runc                        # tests: save/load read and written by other tools (runc: crun refuses hybrid cgroups)
  libcurl4-openssl-dev                      # pull/push: curl.h at build time, libcurl.so.4 dlopen'ed
  docker-registry umoci python3             # tests: a local registry, images made for it, its token server
  curl                                      # lesson 05 talks to its registry's HTTP API by hand
)

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
