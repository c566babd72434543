// launch/report.hpp — what the child tells the parent when a step fails.
//
// An exception must never cross the clone boundary: the child is a copy of
// the parent, and unwinding it would run the parent's destructors twice.
// The child sends this one message over the sync socket and _exits; the
// parent rethrows it as the user's error (crun and youki do the same).
#pragma once

namespace skiff::launch {

struct ChildReport {
  int exit_code;        // 125, 126 or 127
  char message[1024];   // "mount /proc, /dev and /sys: mount(…): …"
};

}  // namespace skiff::launch
