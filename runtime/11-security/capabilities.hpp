// 11-security/capabilities.hpp — root inside, but not the host's root.
//
// Kernel concept: root's power is split into ~41 capabilities (CAP_SYS_ADMIN
//   for mount, CAP_NET_ADMIN for network devices, CAP_MKNOD, …). A process
//   keeps five sets of them; the *bounding* set caps what it and its children
//   can ever regain, even by executing a setuid program. no_new_privs makes
//   execve unable to grant anything at all (setuid bits, file capabilities).
// Man pages: capabilities(7), prctl(2) PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS,
//   cap_set_proc(3), cap_drop_bound(3).
// Runs in: the child, last before exec (dropping earlier would stop the
//   pipeline from mounting). Privilege: CAP_SETPCAP.
// Lesson: lessons/11-security.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace skiff::security {

// Docker's default set, by name ("CAP_CHOWN", …), the same 14 capabilities.
const std::vector<std::string>& default_capabilities();
// The same set as a bit mask, as /proc/PID/status prints CapEff. Pure.
uint64_t capability_mask(const std::vector<std::string>& names);

// Drops every capability not in KEEP from the bounding set; then sets the
// effective and permitted sets to KEEP, empties the inheritable set and
// clears the ambient set (a switch to a non-root user afterwards empties
// the effective and permitted sets too, as the kernel does for setuid).
void drop_bounding_set(const std::vector<std::string>& keep);
void set_process_capabilities(const std::vector<std::string>& keep);

// The next setuid away from root keeps the permitted set (the effective
// set is emptied all the same; set_process_capabilities sets it after).
void keep_capabilities_across_setuid();

// From here on, execve can never add privileges.
void set_no_new_privs();

}  // namespace skiff::security
