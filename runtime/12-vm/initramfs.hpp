// 12-vm/initramfs.hpp — the micro-VM's whole root file system, as one cpio.
//
// Kernel concept: an initramfs is a cpio archive ("newc" format) that the
// kernel unpacks into its first root, a tmpfs, before it runs anything;
// /init (here /skiff/init, given by rdinit=) is the first process. skiff's
// guest needs no disk: busybox for a shell, skiff and what the run needs,
// the shared libraries of each program, and the kernel modules to load.
// Memory is the only storage, so everything written in the guest is gone
// when it stops.
//
// Where it runs: the host, as any user. Lesson: lessons/12-vm-isolation.
// See the kernel's Documentation/driver-api/early-userspace/buffer-format.rst.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace skiff::vm {

namespace stdfs = std::filesystem;

class Initramfs {
 public:
  // Each path is absolute in the guest; missing parent folders are made.
  void add_directory(const std::string& path, mode_t mode = 0755);
  void add_bytes(const std::string& path, std::string content, mode_t mode = 0644);
  void add_symlink(const std::string& path, const std::string& target);
  // The host file HOST (symlinks followed) at PATH, with its permissions.
  // An ELF file with debug sections is stripped of them (objcopy): the
  // guest's memory holds every byte of the archive.
  void add_file(const std::string& path, const stdfs::path& host);
  // A program at its host path, and every shared library it loads, at their
  // host paths, as the host's dynamic loader resolves them.
  void add_program(const stdfs::path& host);
  bool contains(const std::string& path) const { return entries_.count(path) != 0; }

  // The archive, uncompressed (the kernel unpacks that fastest).
  void write(const stdfs::path& out) const;

 private:
  struct Entry {
    mode_t mode = 0;  // with the file type bits
    std::string content;  // file content or symlink target
  };
  void add_parents(const std::string& path);
  std::map<std::string, Entry> entries_;  // sorted: a folder before what it holds
};

// The shared libraries PROGRAM needs (its loader included), as the host's
// dynamic loader would map them; none for a static program.
std::vector<stdfs::path> shared_libraries(const stdfs::path& program);

// modules.dep's answer for NAMES (overlay, veth…): every module file to load,
// a dependency before what needs it, each once, relative to MODULES_DIR.
// A name built into the kernel (modules.builtin) needs nothing; an unknown
// one is an error naming it. '-' and '_' are the same in module names.
std::vector<std::string> module_load_order(const stdfs::path& modules_dir,
                                           const std::vector<std::string>& names);

// The module name of a file such as kernel/fs/overlayfs/overlay.ko.xz.
std::string module_name(const std::string& file);

}  // namespace skiff::vm
