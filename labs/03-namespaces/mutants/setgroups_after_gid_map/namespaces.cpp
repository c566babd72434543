// labs/03-namespaces/mutants/setgroups_after_gid_map/namespaces.cpp — the
// solution, but "deny" comes after gid_map, when the kernel no longer takes it.
#include "namespaces.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace lab {

unsigned long clone_flags() {
  // All at once: the kernel makes the user namespace first, and it owns the
  // others, so root inside may change them (but not the host's).
  return CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET;
}

void write_id_maps(pid_t child) {
  const std::string proc = "/proc/" + std::to_string(child);
  const std::string map = "0 " + std::to_string(kOutsideId) + " " + std::to_string(kIdCount) + "\n";
  write_proc_file(proc + "/uid_map", map);
  // Without "deny", root inside could setgroups(2) away a group that the
  // host uses to *deny* access ("everyone but group g"). It can only be
  // written before gid_map (EPERM after).
  write_proc_file(proc + "/gid_map", map);
  write_proc_file(proc + "/setgroups", "deny");  // MUTANT: after gid_map: refused (EPERM)
}

void setup_inside(const std::string& hostname) {
  // Our ids are still the host's root's, which the map does not cover: we
  // would look like "nobody" and exec would drop our capabilities. Group
  // first: after setresuid we could no longer change it.
  check(::setresgid(0, 0, 0), "setresgid(0, 0, 0)");
  check(::setresuid(0, 0, 0), "setresuid(0, 0, 0)");
  // The new mount namespace is a copy of the host's; MS_PRIVATE on every
  // mount (MS_REC) cuts it from the host's peer groups both ways.
  check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
        "make every mount private (mount / MS_REC|MS_PRIVATE)");
  // A proc filesystem shows the pid namespace of whoever mounts it: ours,
  // where we are PID 1.
  check(::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
        "mount proc on /proc");
  check(::sethostname(hostname.data(), hostname.size()), "sethostname " + hostname);
}

}  // namespace lab
