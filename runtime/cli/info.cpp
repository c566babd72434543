// cli/info.cpp — `skiff info`: the host as skiff sees it, in `docker info`'s
// layout (its server part): containers and images in the store, the cgroup
// version, the kernel, and the security options a container gets.
// Lessons: 04-cgroups (the version), 11-security (the options).
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <set>

#include "01-lifecycle/lifecycle.hpp"
#include "04-cgroups/cgroups.hpp"
#include "05-images/images.hpp"
#include "11-security/userns.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::cli {
namespace {

std::string os_name() {
  auto text = core::fs::read_file_if_exists("/etc/os-release").value_or("");
  auto at = text.find("PRETTY_NAME=\"");
  if (at == std::string::npos) return "Linux";
  at += 13;
  return text.substr(at, text.find('"', at) - at);
}

std::string gib(unsigned long long bytes) {
  char out[32];
  std::snprintf(out, sizeof out, "%.2fGiB", static_cast<double>(bytes) / (1ULL << 30));
  return out;
}

// The subordinate range --userns=remap would use, or why there is none.
std::string remap_range() {
  try {
    auto u = security::parse_userns("remap", [](const std::string& path) {
      return core::fs::read_file_if_exists(path).value_or("");
    });
    return "remap uses skiff's range, uid " + std::to_string(u.uids.outside) + " and " +
           std::to_string(u.uids.count) + " more";
  } catch (const core::Error&) {
    return "remap needs a range for \"skiff\" in /etc/subuid and /etc/subgid (or --userns=remap:USER)";
  }
}

}  // namespace

int cmd_info(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  parse("info", "[OPTIONS]", o, args);
  int running = 0, paused = 0, stopped = 0;
  auto ids = ctx.store.list();
  for (const auto& id : ids) {
    auto state = lifecycle::current_state(ctx.store, id);
    if (state.status != engine::Status::running) ++stopped;
    else if (state.paused) ++paused;
    else ++running;
  }
  std::set<std::string> images;
  for (const auto& image : images::Store(ctx.store.images_dir()).list()) images.insert(image.id);
  struct utsname u {};
  ::uname(&u);
  struct sysinfo si {};
  ::sysinfo(&si);
  auto cgroups = cgroups::detect();
  std::cout << "Server:\n"
            << " Containers: " << ids.size() << "\n  Running: " << running << "\n  Paused: " << paused
            << "\n  Stopped: " << stopped << "\n Images: " << images.size() << "\n"
            << " Storage Driver: overlay\n"
            << " Cgroup Driver: cgroupfs\n"
            << " Cgroup Version: " << (cgroups.version == cgroups::Version::v2 ? "2" : "1") << "\n"
            << " Security Options:\n"
            << "  seccomp\n   Profile: builtin\n"
            << "  cgroupns\n"
            << "  userns: host by default; " << remap_range() << "\n"
            << " Kernel Version: " << u.release << "\n"
            << " Operating System: " << os_name() << "\n"
            << " Architecture: " << u.machine << "\n"
            << " CPUs: " << ::sysconf(_SC_NPROCESSORS_ONLN) << "\n"
            << " Total Memory: " << gib(static_cast<unsigned long long>(si.totalram) * si.mem_unit) << "\n"
            << " Skiff Root Dir: " << ctx.store.root().string() << "\n";
  return 0;
}

}  // namespace skiff::cli
