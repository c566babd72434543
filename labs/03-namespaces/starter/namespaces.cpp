// labs/03-namespaces/starter/namespaces.cpp — your part of nsbox.
//
// fixed/main.cpp clones with your clone_flags(), calls write_id_maps() in the
// parent while the child waits, then setup_inside() in the child, then runs
// the command. Read namespaces.hpp first: it says what each part must achieve
// and gives you check() and write_proc_file().
// Build and grade:   make grade LAB=03 SRC=path/to/your/folder
#include "namespaces.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace lab {

unsigned long clone_flags() {
  // TODO(part 1): return the CLONE_NEW* flags of the six namespaces, or-ed
  // together (see clone(2) and namespaces(7)). With 0 the "container" is
  // just a child process in every namespace of the host.
  return 0;
}

void write_id_maps(pid_t child) {
  // TODO(part 2): three files of /proc/CHILD/, each with write_proc_file():
  //   uid_map     "0 kOutsideId kIdCount\n"   (inside, outside, count)
  //   setgroups   "deny"                      before gid_map (after it, the kernel refuses)
  //   gid_map     the same map as uid_map
  // user_namespaces(7), "User and group ID mappings", says why each rule exists.
  (void)child;
}

void setup_inside(const std::string& hostname) {
  // TODO(part 3): in this order, each call wrapped in check() —
  //   setresgid(0, 0, 0) then setresuid(0, 0, 0)   become root of the namespace;
  //   mount "/" with MS_REC | MS_PRIVATE           nothing crosses to or from the host;
  //   mount a "proc" filesystem on /proc           /proc shows this pid namespace;
  //   sethostname(hostname)                        and name the message after it.
  (void)hostname;
}

}  // namespace lab
