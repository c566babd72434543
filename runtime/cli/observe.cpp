// cli/observe.cpp — `pause`, `unpause`, `rename`, `top`, `stats`.
//
// `top` and `stats` read the container's cgroup from the host: the cgroup
// knows every process of the container and what they use together.
// Lessons: lessons/01-first-container, lessons/04-cgroups.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "01-lifecycle/lifecycle.hpp"
#include "04-cgroups/cgroups.hpp"
#include "cli/command.hpp"
#include "cli/format.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::cli {
namespace {

std::string resolve_running(const engine::Store& store, const std::string& key) {
  auto id = store.resolve(key);
  if (!id) throw core::Error("No such container: " + key, kExitFailure);
  if (lifecycle::current_state(store, *id).status != engine::Status::running)
    throw core::Error("container " + *id + " is not running", kExitFailure);
  return *id;
}

cgroups::Cgroup cgroup_of(const engine::Store& store, const std::string& id) {
  auto config = store.load_config(id);
  if (config.spec.upto < launch::Upto::cgroups)
    throw core::Error("container " + config.name + " has no cgroup (--upto " +
                          launch::upto_name(config.spec.upto) + ")",
                      kExitFailure);
  return cgroups::Cgroup::open(cgroups::detect(), launch::cgroup_name(config.spec));
}

int pause_or_unpause(Context& ctx, const std::vector<std::string>& args, bool pause) {
  const char* command = pause ? "pause" : "unpause";
  po::options_description o("Options");
  auto p = parse(command, "CONTAINER [CONTAINER...]", o, args);
  if (p.positional.empty())
    throw core::Error(std::string("\"skiff ") + command + "\" requires at least 1 argument", kExitFailure);
  int code = 0;
  for (const auto& key : p.positional) {
    try {
      lifecycle::set_paused(ctx.store, resolve_running(ctx.store, key), pause);
      std::cout << key << "\n";
    } catch (const std::exception& e) {
      std::cerr << "skiff: " << e.what() << "\n";
      code = kExitFailure;
    }
  }
  return code;
}

// Docker's BytesSize: binary units, four significant digits ("1.34MiB").
std::string binary_size(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) bytes /= 1024.0, ++unit;
  char out[32];
  std::snprintf(out, sizeof out, "%.4g%s", bytes, units[unit]);
  return out;
}

int64_t host_memory() {
  auto meminfo = core::fs::read_file_if_exists("/proc/meminfo").value_or("");
  long long kb = 0;
  std::sscanf(meminfo.c_str(), "MemTotal: %lld kB", &kb);
  return kb * 1024;
}

// Bytes received and sent on the container's interfaces other than lo.
std::pair<int64_t, int64_t> network_bytes(pid_t pid) {
  auto dev = core::fs::read_file_if_exists("/proc/" + std::to_string(pid) + "/net/dev").value_or("");
  std::istringstream lines(dev);
  std::string line;
  int64_t rx = 0, tx = 0;
  while (std::getline(lines, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name == "lo") continue;
    std::istringstream fields(line.substr(colon + 1));
    int64_t v[9] = {};
    for (auto& x : v) fields >> x;
    rx += v[0], tx += v[8];
  }
  return {rx, tx};
}

std::vector<std::string> stats_row(const engine::Store& store, const std::string& id,
                                   const cgroups::Usage& before, const cgroups::Usage& after,
                                   double seconds) {
  auto config = store.load_config(id);
  double cpu = seconds > 0 ? (after.cpu_nanos - before.cpu_nanos) / (seconds * 1e9) * 100 : 0;
  int64_t limit = after.memory_limit ? after.memory_limit : host_memory();
  // Only a stack of its own is the container's traffic: with --network
  // host or container:NAME Docker shows 0B / 0B, as here.
  auto [rx, tx] = network::own_namespace(config.spec.network)
                      ? network_bytes(lifecycle::current_state(store, id).pid)
                      : std::pair<int64_t, int64_t>{0, 0};
  char cpu_text[16], mem_pct[16];
  std::snprintf(cpu_text, sizeof cpu_text, "%.2f%%", cpu);
  std::snprintf(mem_pct, sizeof mem_pct, "%.2f%%", limit ? 100.0 * after.memory_bytes / limit : 0);
  return {id.substr(0, 12), config.name, cpu_text,
          binary_size(after.memory_bytes) + " / " + binary_size(limit), mem_pct,
          human_size(rx) + " / " + human_size(tx), "-- / --", std::to_string(after.pids)};
}

}  // namespace

int cmd_pause(Context& ctx, const std::vector<std::string>& args) {
  return pause_or_unpause(ctx, args, true);
}

int cmd_unpause(Context& ctx, const std::vector<std::string>& args) {
  return pause_or_unpause(ctx, args, false);
}

int cmd_rename(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  auto p = parse("rename", "CONTAINER NEW_NAME", o, args);
  if (p.positional.size() != 2)
    throw core::Error("\"skiff rename\" requires exactly 2 arguments", kExitFailure);
  auto id = ctx.store.resolve(p.positional[0]);
  if (!id) throw core::Error("No such container: " + p.positional[0], kExitFailure);
  ctx.store.rename(*id, p.positional[1]);
  return 0;
}

int cmd_top(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  auto p = parse("top", "CONTAINER", o, args);
  if (p.positional.size() != 1) throw core::Error("\"skiff top\" requires exactly 1 argument", kExitFailure);
  auto id = resolve_running(ctx.store, p.positional[0]);
  // As Docker does: the host's ps, limited to the container's processes.
  std::string pids;
  for (pid_t pid : cgroup_of(ctx.store, id).processes())
    pids += (pids.empty() ? "" : ",") + std::to_string(pid);
  std::cout.flush();
  pid_t child = ::fork();
  if (child == 0) {
    ::execlp("ps", "ps", "-f", "-p", pids.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    throw core::Error("top needs ps (Debian package procps), which cannot be run");
  // A ps that does not know -f or -p (busybox's) fails: say so rather than
  // print nothing and succeed.
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw core::Error("top: ps -f -p " + pids + " failed (skiff's top needs procps' ps)");
  return 0;
}

int cmd_stats(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("no-stream", po::bool_switch(), "Print one sample and exit")
      ("all,a", po::bool_switch(), "(accepted for Docker's syntax; only running containers have usage)");
  auto p = parse("stats", "[OPTIONS] [CONTAINER...]", o, args);
  std::vector<std::string> ids;
  for (const auto& key : p.positional) ids.push_back(resolve_running(ctx.store, key));
  if (p.positional.empty())
    for (const auto& id : ctx.store.list())
      if (lifecycle::current_state(ctx.store, id).status == engine::Status::running) ids.push_back(id);
  for (bool first = true;; first = false) {
    // CPU % needs two readings: the share of the time between them.
    std::vector<cgroups::Usage> before;
    for (const auto& id : ids) before.push_back(cgroup_of(ctx.store, id).usage());
    auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<std::vector<std::string>> rows = {{"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT",
                                                   "MEM %", "NET I/O", "BLOCK I/O", "PIDS"}};
    for (size_t i = 0; i < ids.size(); ++i)
      rows.push_back(stats_row(ctx.store, ids[i], before[i], cgroup_of(ctx.store, ids[i]).usage(), seconds));
    if (!first) std::cout << "\033[2J\033[H";
    std::cout << table(rows) << std::flush;
    if (p.options["no-stream"].as<bool>()) return 0;
  }
}

}  // namespace skiff::cli
