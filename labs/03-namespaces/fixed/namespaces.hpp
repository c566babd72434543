// labs/03-namespaces/fixed/namespaces.hpp — the three parts you write in
// namespaces.cpp, and the helpers given to you. Do not change this file: the
// grader compiles its own copy.
//
// Man pages: namespaces(7), clone(2), user_namespaces(7), pid_namespaces(7),
// mount_namespaces(7), uts_namespaces(7), ipc_namespaces(7),
// network_namespaces(7), sethostname(2), setresuid(2), mount(2).
// Lesson: lessons/03-namespaces. skiff's own version:
// runtime/03-namespaces/namespaces.cpp — read it *after* the lab.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace lab {

// The user namespace maps root inside to an unprivileged range outside:
// ids 0 … kIdCount-1 inside are kOutsideId … kOutsideId+kIdCount-1 on the host.
constexpr unsigned kOutsideId = 100000;
constexpr unsigned kIdCount = 65536;

// Part 1 (parent, before clone). The CLONE_NEW* flags for a container with
// its own hostname (uts), process ids (pid), mount table (mount), System V
// IPC (ipc), network devices (net) and user ids (user).
unsigned long clone_flags();

// Part 2 (parent, after clone, while the child waits). Make root inside the
// child's user namespace the host's kOutsideId, for users and for groups,
// through /proc/CHILD/uid_map and gid_map (format: "INSIDE OUTSIDE COUNT").
// Before gid_map, write "deny" to /proc/CHILD/setgroups: root inside must not
// drop its supplementary groups with setgroups(2), or a file that denies
// access to a group ("everyone but g", mode 0705) no longer denies it. The
// kernel demands it of a writer without CAP_SETGID (a rootless runtime); as
// root here it does not, so the grader checks it.
void write_id_maps(pid_t child);

// Part 3 (child, once the maps are written, just before exec). In order:
//  - become root of the user namespace (uid and gid 0 inside): clone does
//    not change the child's ids, it only maps them;
//  - make every mount private, so that mounts never travel between the host
//    and the container, in either direction;
//  - mount a new proc on /proc, which then shows this pid namespace only;
//  - set the container's hostname.
void setup_inside(const std::string& hostname);

// Given: throws std::system_error(errno, WHAT) when RC is -1, the failure
// return of most system calls. main() prints it as "nsbox: WHAT: reason"
// and exits with 125. Wrap every call: check(::sethostname(…), "sethostname …");
inline void check(long rc, const std::string& what) {
  if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
}

// Given: writes TEXT to the file PATH with one write(2), as /proc/PID/uid_map
// requires (the kernel takes a map once, in a single write). Throws like
// check(), naming PATH and TEXT.
void write_proc_file(const std::string& path, const std::string& text);

}  // namespace lab
