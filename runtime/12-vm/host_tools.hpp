// 12-vm/host_tools.hpp — running the host's own tools: apt-get, objcopy, the
// dynamic loader, QEMU.
//
// The micro-VM is assembled from what Debian already ships, and each of those
// programs is better at its job than anything skiff would rewrite: apt-get
// finds and verifies a package, objcopy strips debug information, the dynamic
// loader lists the libraries a program needs. Runs in: the host, as the user.
// Lesson: lessons/12-vm-isolation.
#pragma once

#include <string>
#include <vector>

namespace skiff::vm {

struct ToolResult {
  int code = -1;       // exit status, or 128+signal
  std::string output;  // what it wrote on stdout (stderr is left to the user)
};

// Runs ARGV (argv[0] looked up in PATH) in directory CWD ("" = here), with
// stdin from /dev/null, and waits for it. Throws only when it cannot start.
ToolResult run_tool(const std::vector<std::string>& argv, const std::string& cwd = "");

// Same, and throws core::Error("WHAT: ARGV[0] exited with N") unless it
// exits 0; returns its stdout.
std::string run_tool_checked(const std::vector<std::string>& argv, const std::string& what,
                             const std::string& cwd = "");

}  // namespace skiff::vm
