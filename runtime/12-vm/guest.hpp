// 12-vm/guest.hpp — a guest described, packed and booted: what `skiff-vm`
// and the `vm` tests use, and what `--isolation vm` will build on.
//
// Describe first, then do (STYLE.md): a GuestSpec says which kernel, which
// modules, which host programs and files, which cgroup layout and which
// command; pack() turns it into an initramfs (pure apart from reading the
// host's files); run_guest() obtains the kernel, packs, boots, and removes
// the initramfs again. Where it runs: the host. Lesson: lessons/12-vm-isolation.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "12-vm/initramfs.hpp"
#include "12-vm/kernel.hpp"

namespace skiff::vm {

struct GuestSpec {
  std::string kernel = "debian-6.1";  // see obtain_kernel()
  stdfs::path cache;                  // where kernels are kept (default_cache())
  stdfs::path init;                   // skiff-vm-init on the host
  std::vector<std::string> modules = {"overlay"};  // "NAME" or "NAME PARAM=V…"
  std::vector<stdfs::path> programs;  // host programs, at their host paths, with libraries
  std::vector<std::pair<std::string, stdfs::path>> files;  // guest path, host file or folder
  std::string cgroup = "v2";          // or "hybrid"
  std::vector<std::string> env;       // K=V; PATH, HOME and TERM have defaults
  std::string cwd = "/";
  std::vector<std::string> command;   // empty: an interactive shell
  unsigned memory_mib = 1024;
  unsigned cpus = 2;
  bool interactive = false;
  std::chrono::seconds timeout{600};
};

// $SKIFF_VM_CACHE, else /var/cache/skiff/vm.
stdfs::path default_cache();

// The initramfs for SPEC booting KERNEL: busybox and its applets, the init
// and its instructions, the modules (decompressed), the programs and files.
// Refuses words the init's line format cannot carry (a newline).
Initramfs pack(const GuestSpec& spec, const Kernel& kernel);

// obtain_kernel, pack, boot; returns the command's status (see boot()).
int run_guest(const GuestSpec& spec);

}  // namespace skiff::vm
