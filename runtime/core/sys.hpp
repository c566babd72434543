// core/sys.hpp — checked system-call wrappers.
//
// Each wrapper makes one system call; on failure it throws a SystemError
// naming the call and its arguments with readable flag names, and with
// --explain on it narrates the call before making it. Modules call these
// instead of the raw libc functions, so every error a user sees says what
// was being done, on what, and why it failed (DESIGN.md, "Errors").
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace skiff::core::sys {

// Readable names for flag words, used in errors and in --explain.
std::string mount_flags(unsigned long flags);
std::string clone_flags(unsigned long flags);

void mount(const std::string& source, const std::string& target, const std::string& fstype,
           unsigned long flags, const std::string& data = "");
// Mounts on what TARGET_FD holds (an O_PATH fd from core/in_root.hpp),
// through /proc/self/fd/N; SHOWN names it in errors and --explain, as
// "{root}/etc/hostname" for a path inside the container's root.
void mount_on_fd(const std::string& source, int target_fd, const std::string& shown,
                 const std::string& fstype, unsigned long flags, const std::string& data = "");
void umount(const std::string& target, int flags);

// A detached copy of the mount at PATH (open_tree OPEN_TREE_CLONE; with
// what is mounted below it when RECURSIVE), made read-only when asked and,
// with USERNS_FD, idmapped: file owners shifted by that user namespace's
// maps (lesson 11). Attach it with move_mount_onto. Errors name PATH.
int clone_mount(const std::string& path, int userns_fd, bool read_only, bool recursive);
// move_mount(2) of the detached mount MNT onto what TARGET_FD holds.
void move_mount_onto(int mnt, int target_fd, const std::string& shown);
void mkdir(const std::string& path, mode_t mode);  // EEXIST is not an error
void mknod(const std::string& path, mode_t mode, dev_t dev);
void symlink(const std::string& target, const std::string& link);
void chdir(const std::string& path);
void chroot(const std::string& path);
void pivot_root(const std::string& new_root, const std::string& put_old);
void sethostname(const std::string& name);
void unshare(unsigned long flags);
void setns(int fd, int nstype, const std::string& what);
void prctl(int option, unsigned long arg, std::string_view name);
int open(const std::string& path, int flags, mode_t mode = 0);

// Writes `content` to an existing file in one write(2): how cgroup and
// /proc control files are driven. Narrated as "write PATH ← CONTENT".
void write_file(const std::string& path, std::string_view content);

}  // namespace skiff::core::sys
