// labs/06-volumes/fixed/main.cpp — mount-target [--create] [--bind SOURCE] ROOT PATH
//
// Finds PATH inside the directory ROOT the way a container that has ROOT as
// "/" sees it, with your resolve_in_root() (mount_target.cpp), and prints
// what the kernel says the result is:
//
//   path: /the/host/path/of/the/target      (readlink of /proc/self/fd/N)
//   type: directory | file | symlink | other
//
// --create  makes the missing directories on the way (a mount point to be);
// --bind SOURCE  then, in a mount namespace of its own (nothing reaches the
//           host's mount table), bind-mounts SOURCE on the target through
//           /proc/self/fd/N, as skiff does, and prints the mount point the
//           kernel recorded: "mounted on: …".
// This file is given. Exit codes: 0 found, 125 refused or failed (the message
// says why), 2 usage.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>

#include "mount_target.hpp"

namespace {

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#if defined(__x86_64__)
constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#else
#error "mount-target: add your architecture's AUDIT_ARCH_ here"
#endif

// openat2(2) fails with ENOSYS from here on, as on a kernel older than 5.6:
// the walk is yours to write. A seccomp filter: a tiny BPF program the kernel
// runs on every system call of this process (lesson 11).
void block_openat2() {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
    lab::fail(errno, "seccomp");
}

const char* type_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) lab::fail(errno, "fstat of the result");
  if (S_ISDIR(st.st_mode)) return "directory";
  if (S_ISREG(st.st_mode)) return "file";
  if (S_ISLNK(st.st_mode)) return "symlink";
  return "other";
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string kernel_path(int fd) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(fd_path(fd).c_str(), buf, sizeof buf - 1);
  if (n < 0) lab::fail(errno, "readlink " + fd_path(fd));
  return std::string(buf, static_cast<size_t>(n));
}

// The mount point of the newest mount of this namespace (the last line of
// mountinfo, field 5).
std::string newest_mount_point() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, last;
  while (std::getline(in, line)) last = line;
  std::string field;
  std::size_t pos = 0;
  for (int i = 0; i < 5; ++i) {
    std::size_t end = last.find(' ', pos);
    field = last.substr(pos, end - pos);
    pos = end + 1;
  }
  return field;
}

// Before the walk: a descriptor keeps the mount it was opened in, and mount(2)
// refuses a target that belongs to another namespace's mounts (EINVAL).
void private_mount_namespace() {
  if (::unshare(CLONE_NEWNS) < 0) lab::fail(errno, "unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) lab::fail(errno, "make / private");
}

void bind(const std::string& source, int target) {
  if (::mount(source.c_str(), fd_path(target).c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    lab::fail(errno, "mount --bind " + source + " " + fd_path(target));
  std::cout << "mounted on: " << newest_mount_point() << '\n';
}

}  // namespace

int main(int argc, char* argv[]) {
  bool create = false;
  std::string source;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    std::string opt = argv[i];
    if (opt == "--create") create = true;
    else if (opt == "--bind" && i + 1 < argc) source = argv[++i], create = true;
    else break;
  }
  if (argc - i != 2) {
    std::cerr << "usage: mount-target [--create] [--bind SOURCE] ROOT PATH\n";
    return 2;
  }
  const std::string root = argv[i], path = argv[i + 1];
  try {
    if (!source.empty()) private_mount_namespace();
    lab::Fd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (root_fd.get() < 0) lab::fail(errno, "open " + root);
    block_openat2();
    lab::Fd target = lab::resolve_in_root(root_fd.get(), path, create);
    if (target.get() < 0) lab::fail(EBADF, "resolve_in_root returned no file descriptor");
    if (target.get() == root_fd.get()) lab::fail(EBADF, "resolve_in_root returned the root's own descriptor");
    std::cout << "path: " << kernel_path(target.get()) << '\n' << "type: " << type_of(target.get()) << '\n';
    if (!source.empty()) bind(source, target.get());
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "mount-target: " << path << ": " << e.what() << '\n';
    return 125;
  }
  return 0;
}
