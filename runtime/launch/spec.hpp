// launch/spec.hpp — a container described as plain data.
//
// STYLE.md, "describe first, then do": the CLI turns options into this spec;
// plan.hpp turns the spec into a plan (pure, unit-tested without root); the
// parent and child sides of the pipeline apply the plan. The spec is saved in
// the container's config.json, so `start` can run the same container again.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "02-chroot/rootfs.hpp"
#include "04-cgroups/cgroups.hpp"
#include "06-volumes/mounts.hpp"
#include "07-network/bridge.hpp"
#include "07-network/mode.hpp"
#include "11-security/policy.hpp"

namespace skiff::launch {

namespace stdfs = std::filesystem;

// How far the pipeline goes: `skiff run --upto MODULE`. Ordered as the
// course is, so `upto >= Upto::namespaces` reads "namespaces are on".
enum class Upto { chroot = 2, namespaces = 3, cgroups = 4, all = 99 };

Upto parse_upto(const std::string& module);   // "chroot", "02-chroot", …
std::string upto_name(Upto upto);             // "chroot" … "all"

// The process that becomes the container's PID 1.
struct ProcessSpec {
  std::vector<std::string> argv;   // entrypoint + cmd, resolved by the CLI
  std::vector<std::string> env;    // "K=V", PATH and HOSTNAME included
  std::string cwd = "/";
  std::string user;                // as given to -u: "", "1000", "nobody:users"
  bool stdin_open = false;         // -i
  bool tty = false;                // -t: a terminal of its own (a pty)
};

struct ContainerSpec {
  std::string id;                  // 64 hex digits
  std::string hostname;            // 12-digit id unless --hostname
  ProcessSpec process;
  cgroups::Limits limits;
  std::vector<stdfs::path> layers; // unpacked image layers, bottom first
  std::vector<volumes::Mount> mounts;  // -v, --mount, --tmpfs, --volumes-from: host side resolved, in mount order
  bool read_only_root = false;     // --read-only
  security::Policy security;       // capabilities, no_new_privs, seccomp, --privileged
  std::vector<chroot::DeviceNode> devices;  // --device: nodes made in the container (their rules are in limits)
  stdfs::path dir;                 // the container's directory in the store
  network::Mode network;           // --network: none (default), host, container:<id>
  Upto upto = Upto::all;
  // Worked out at each start, never saved: with container:<id>, that
  // container's PID 1 (and its start time), whose network namespace the
  // child joins.
  pid_t network_pid = 0;
  uint64_t network_pid_start = 0;
  // Worked out at each start: --rm, whose upper dir nobody will ever read
  // again, so overlayfs may skip syncing it (the "volatile" option).
  bool disposable_root = false;
  // Worked out at each start, on a bridge network: the address the CLI
  // took for it, which the launcher plugs in (07-network/bridge.hpp).
  network::Endpoint endpoint;
};

// Where the container's own files live inside spec.dir.
inline stdfs::path upper_dir(const ContainerSpec& s) { return s.dir / "upper"; }
inline stdfs::path work_dir(const ContainerSpec& s) { return s.dir / "work"; }
inline stdfs::path rootfs_dir(const ContainerSpec& s) { return s.dir / "merged"; }
inline std::string cgroup_name(const ContainerSpec& s) { return "skiff/" + s.id; }

}  // namespace skiff::launch
