// 04-cgroups/device_filter.hpp — which device nodes a container may use, on
// cgroup v2 as on v1.
//
// Kernel concept: a device node is only a name for (type, major, minor);
//   whoever may mknod(2) can make one for the host's disk. cgroup v1 guards
//   nodes with its devices controller (devices.allow, devices.deny). cgroup
//   v2 has no such controller: instead the kernel runs a small eBPF program
//   of type BPF_PROG_TYPE_CGROUP_DEVICE, attached to a cgroup, at every
//   mknod(2) and every open(2) of a device node by a process in that cgroup
//   or below it. The program reads the request (block or character, major,
//   minor, and mknod/read/write) and returns 1 to allow it or 0 to refuse it
//   with EPERM. runc, crun and Docker build that program from the same rules
//   they write to devices.allow on v1; so does skiff, from DeviceRule.
// Man pages: bpf(2); the kernel's Documentation/admin-guide/cgroup-v2.rst
//   ("Device controller") and cgroup-v1/devices.rst (what a rule means).
// Runs in: the parent, in Cgroup::create: after the cgroup directory is made
//   and before the child is moved in, so the policy is there before the
//   container's first instruction.
// Privilege: root: loading needs CAP_BPF (or CAP_SYS_ADMIN) with
//   CAP_NET_ADMIN. A container keeps neither (Docker's default set), so it
//   can neither detach the program nor load one of its own.
// Lessons: lessons/04-cgroups (the rules), lessons/11-security (why a
//   container with CAP_MKNOD must not open what it makes).
//
// Describe, then do: the rules' text and meaning and the program are pure
// (unit-tested without root); load_device_program and attach_device_program
// make the two bpf(2) calls.
#pragma once

#include <linux/bpf.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "04-cgroups/cgroups.hpp"
#include "core/fd.hpp"

namespace skiff::cgroups {

// "c 1:3 rwm", "b *:* m", "a *:* rwm": Docker's --device-cgroup-rule text.
std::string to_string(const DeviceRule& rule);
// The reverse, for --device-cgroup-rule: "TYPE MAJOR:MINOR ACCESS", where a
// number may be "*". Throws core::Error naming the text when it is not one.
DeviceRule parse_device_rule(std::string_view text);
// Throws core::Error unless RULE is well formed: type a, b or c; major and
// minor -1 or in the kernel's range (12 and 20 bits); access a non-empty
// subset of "rwm".
void check_device_rule(const DeviceRule& rule);

// What v1's devices.allow / devices.deny take for RULE, one line a write.
// Usually one line ("c 1:3 rwm"). The kernel reads any line that starts with
// 'a' as "all devices", whatever follows, so an 'a' rule narrower than
// "a *:* rwm" becomes two lines, one for 'b' and one for 'c'.
std::vector<std::string> v1_device_lines(const DeviceRule& rule);

// What the v1 controller holds once "deny a" and RULES have been written in
// order: allow-exceptions of type 'b' or 'c' only. Like the kernel, an allow
// adds its access to the exception for the same type and numbers (or makes
// one); a deny takes access back from that exception only. The kernel never
// splits a wider rule, so a deny that overlaps a wider allow ("deny c 1:3 m"
// under "c *:* m") would not take effect: refused here with a core::Error,
// as is "allow a *:* rwm" (that is Limits::all_devices). The v2 program is
// built from this list, which is why both versions decide alike.
std::vector<DeviceRule> allowed_devices(const std::vector<DeviceRule>& rules);

// The eBPF program for RULES: it allows a request when one exception of
// allowed_devices(RULES) has its type, its major (or *), its minor (or *),
// and every access it asks for; everything else is refused (the last two
// instructions: r0 = 0, exit). Pure: the same rules give the same program.
std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);

// bpf(BPF_PROG_LOAD) of PROGRAM as a BPF_PROG_TYPE_CGROUP_DEVICE program.
// When the kernel's verifier rejects it, the error quotes the verifier's
// log; when the kernel has no cgroup BPF (CONFIG_CGROUP_BPF), it says so.
core::Fd load_device_program(const std::vector<bpf_insn>& program);

// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) of PROGRAM to the cgroup2
// directory DIR, with BPF_F_ALLOW_MULTI. The attachment belongs to the
// cgroup: closing PROGRAM's fd keeps it, and it goes when the cgroup does.
void attach_device_program(const std::filesystem::path& dir, const core::Fd& program);

// The two together: from now on, processes in DIR may use only the devices
// RULES allow. What Cgroup::create does on v2.
void restrict_devices(const std::filesystem::path& dir, const std::vector<DeviceRule>& rules);

}  // namespace skiff::cgroups
