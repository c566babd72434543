// engine/container.cpp — see container.hpp.
#include "engine/container.hpp"

#include "04-cgroups/device_filter.hpp"

#include <signal.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::chroot {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DeviceNode, path, type, major, minor, mode, uid, gid, host_path,
                                   permissions)
}  // namespace skiff::chroot

namespace skiff::engine {

using nlohmann::json;

std::string to_string(Status s) {
  switch (s) {
    case Status::created: return "created";
    case Status::running: return "running";
    case Status::exited: return "exited";
  }
  return "unknown";
}

namespace {
Status status_from_string(const std::string& s) {
  if (s == "running") return Status::running;
  if (s == "exited") return Status::exited;
  return Status::created;
}
}  // namespace

void to_json(json& j, const ContainerConfig& c) {
  const auto& s = c.spec;
  j = json{{"Id", c.id}, {"Name", c.name}, {"Created", c.created}, {"Image", c.image},
           {"ImageId", c.image_id}, {"Entrypoint", c.entrypoint}, {"Cmd", c.cmd},
           {"Env", c.env}, {"WorkingDir", c.working_dir}, {"User", c.user},
           {"AutoRemove", c.auto_remove},
           {"Spec", {{"Hostname", s.hostname}, {"Argv", s.process.argv},
                     {"ProcessEnv", s.process.env}, {"Cwd", s.process.cwd},
                     {"User", s.process.user}, {"StdinOpen", s.process.stdin_open}, {"Tty", s.process.tty},
                     {"Memory", s.limits.memory_bytes}, {"NanoCpus", s.limits.nano_cpus},
                     {"PidsLimit", s.limits.pids_limit},
                     {"Layers", [&] { std::vector<std::string> v;
                                      for (auto& l : s.layers) v.push_back(l.string());
                                      return v; }()},
                     {"Upto", launch::upto_name(s.upto)}, {"NetworkMode", network::to_string(s.network)},
                     {"Mounts", s.mounts}, {"ReadOnlyRoot", s.read_only_root},
                     {"Security", s.security},
                     {"DeviceRules", [&] { std::vector<std::string> v;
                                           for (auto& r : s.limits.devices) v.push_back(cgroups::to_string(r));
                                           return v; }()},
                     {"AllDevices", s.limits.all_devices}, {"DeviceNodes", s.devices}}}};
}

void from_json(const json& j, ContainerConfig& c) {
  j.at("Id").get_to(c.id);
  j.at("Name").get_to(c.name);
  j.at("Created").get_to(c.created);
  j.at("Image").get_to(c.image);
  j.at("ImageId").get_to(c.image_id);
  j.at("Entrypoint").get_to(c.entrypoint);
  j.at("Cmd").get_to(c.cmd);
  j.at("Env").get_to(c.env);
  j.at("WorkingDir").get_to(c.working_dir);
  j.at("User").get_to(c.user);
  j.at("AutoRemove").get_to(c.auto_remove);
  const json& s = j.at("Spec");
  auto& spec = c.spec;
  spec.id = c.id;
  s.at("Hostname").get_to(spec.hostname);
  s.at("Argv").get_to(spec.process.argv);
  s.at("ProcessEnv").get_to(spec.process.env);
  s.at("Cwd").get_to(spec.process.cwd);
  s.at("User").get_to(spec.process.user);
  s.at("StdinOpen").get_to(spec.process.stdin_open);
  spec.process.tty = s.value("Tty", false);
  s.at("Memory").get_to(spec.limits.memory_bytes);
  s.at("NanoCpus").get_to(spec.limits.nano_cpus);
  s.at("PidsLimit").get_to(spec.limits.pids_limit);
  for (const auto& l : s.at("Layers")) spec.layers.emplace_back(l.get<std::string>());
  spec.upto = launch::parse_upto(s.at("Upto").get<std::string>());
  // Records from before --network have none: they ran with only lo.
  spec.network = network::parse_mode(s.value("NetworkMode", std::string("none")));
  // Records written before volumes existed have neither key.
  if (s.contains("Mounts")) s.at("Mounts").get_to(spec.mounts);
  spec.read_only_root = s.value("ReadOnlyRoot", false);
  if (s.contains("Security")) s.at("Security").get_to(spec.security);
  for (const auto& r : s.value("DeviceRules", std::vector<std::string>{}))
    spec.limits.devices.push_back(cgroups::parse_device_rule(r));
  spec.limits.all_devices = s.value("AllDevices", false);
  if (s.contains("DeviceNodes")) s.at("DeviceNodes").get_to(spec.devices);
}

void to_json(json& j, const ContainerState& s) {
  j = json{{"Status", to_string(s.status)}, {"Pid", s.pid}, {"PidStartTime", s.pid_start_time},
           {"MonitorPid", s.monitor_pid}, {"MonitorStartTime", s.monitor_start_time},
           {"Paused", s.paused}, {"ExitCode", s.exit_code},
           {"OOMKilled", s.oom_killed}, {"Error", s.error}, {"StartedAt", s.started_at},
           {"FinishedAt", s.finished_at}};
  if (!s.endpoint.empty()) {
    const auto& e = s.endpoint;
    j["Network"] = {{"Name", e.network}, {"NetworkID", e.network_id},
                    {"IPAddress", network::to_string_ipv4(e.iface.address)},
                    {"IPPrefixLen", e.iface.prefix}, {"Gateway", network::to_string_ipv4(e.iface.gateway)},
                    {"MacAddress", e.iface.mac}, {"Bridge", e.iface.bridge}, {"HostDevice", e.iface.host_device}};
  }
}

void from_json(const json& j, ContainerState& s) {
  s.status = status_from_string(j.at("Status").get<std::string>());
  j.at("Pid").get_to(s.pid);
  j.at("PidStartTime").get_to(s.pid_start_time);
  j.at("MonitorPid").get_to(s.monitor_pid);
  j.at("MonitorStartTime").get_to(s.monitor_start_time);
  s.paused = j.value("Paused", false);
  j.at("ExitCode").get_to(s.exit_code);
  j.at("OOMKilled").get_to(s.oom_killed);
  j.at("Error").get_to(s.error);
  j.at("StartedAt").get_to(s.started_at);
  j.at("FinishedAt").get_to(s.finished_at);
  if (j.contains("Network")) {
    const auto& n = j.at("Network");
    auto& e = s.endpoint;
    n.at("Name").get_to(e.network);
    n.at("NetworkID").get_to(e.network_id);
    e.iface.address = network::parse_ipv4(n.at("IPAddress").get<std::string>());
    n.at("IPPrefixLen").get_to(e.iface.prefix);
    e.iface.gateway = network::parse_ipv4(n.at("Gateway").get<std::string>());
    n.at("MacAddress").get_to(e.iface.mac);
    n.at("Bridge").get_to(e.iface.bridge);
    n.at("HostDevice").get_to(e.iface.host_device);
  }
}

uint64_t process_start_time(pid_t pid) {
  std::optional<std::string> stat;
  try {  // a process that ends between open and read: ESRCH
    stat = core::fs::read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
  } catch (const core::SystemError&) {
  }
  if (!stat) return 0;
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'. starttime is field 22.
  auto close = stat->rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat->substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && in >> field; ++i) {
    if (i == 3 && (field == "Z" || field == "X")) return 0;  // a zombie has ended
    if (i == 22) return std::stoull(field);
  }
  return 0;
}

bool process_alive(pid_t pid, uint64_t start_time) {
  return pid > 0 && start_time != 0 && process_start_time(pid) == start_time;
}

ContainerState observed(ContainerState state) {
  if (state.status != Status::running) return state;
  if (process_alive(state.pid, state.pid_start_time) ||
      process_alive(state.monitor_pid, state.monitor_start_time))
    return state;
  state.status = Status::exited;
  state.paused = false;
  state.exit_code = 255;
  state.pid = 0;
  return state;
}

}  // namespace skiff::engine
