// cli/containers.cpp — `ps`, `rm`, `inspect` and the monitor's `_exited`.
//
// They only read and write the store: the records on disk, checked against
// the kernel for liveness, are the whole truth (there is no daemon to ask).
// Lesson: lessons/01-first-container.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "01-lifecycle/lifecycle.hpp"
#include "05-images/images.hpp"
#include "cli/command.hpp"
#include "cli/format.hpp"
#include "cli/volume.hpp"
#include "core/error.hpp"

namespace skiff::cli {
namespace {

// ordered: keys print in Docker's order (Id, Created, Path, …), not sorted.
using json = nlohmann::ordered_json;

std::string status_cell(const engine::ContainerState& s) {
  switch (s.status) {
    case engine::Status::created: return "Created";
    case engine::Status::running:
      return "Up " + human_duration(seconds_since(s.started_at)) + (s.paused ? " (Paused)" : "");
    case engine::Status::exited:
      return "Exited (" + std::to_string(s.exit_code) + ") " +
             human_duration(seconds_since(s.finished_at)) + " ago";
  }
  return "";
}

std::vector<std::string> ps_row(const engine::ContainerConfig& c,
                                const engine::ContainerState& s, bool no_trunc) {
  return {no_trunc ? c.id : c.id.substr(0, 12), c.image,
          ps_command(c.spec.process.argv, no_trunc),
          human_duration(seconds_since(c.created)) + " ago", status_cell(s), "", c.name};
}

json state_json(const engine::ContainerState& s) {
  bool running = s.status == engine::Status::running;
  return {{"Status", running && s.paused ? "paused" : engine::to_string(s.status)},
          {"Running", running}, {"Paused", s.paused}, {"Restarting", false}, {"OOMKilled", s.oom_killed},
          {"Dead", false}, {"Pid", s.pid}, {"ExitCode", s.exit_code}, {"Error", s.error},
          {"StartedAt", s.started_at}, {"FinishedAt", s.finished_at}};
}

json nullable(int64_t v) { return v ? json(v) : json(nullptr); }
json nullable(const std::vector<std::string>& v) { return v.empty() ? json(nullptr) : json(v); }

// One entry of "Mounts", in Docker's shape for its type (lesson 06).
json mount_json(const volumes::Mount& m) {
  json j = {{"Type", volumes::to_string(m.kind)}};
  if (m.kind == volumes::Kind::volume) j["Name"] = m.name;
  j["Source"] = m.source;
  j["Destination"] = m.destination;
  if (m.kind == volumes::Kind::volume) j["Driver"] = "local";
  j["Mode"] = m.kind == volumes::Kind::volume && m.mode.empty() ? "z" : m.mode;
  j["RW"] = !m.read_only;
  j["Propagation"] = m.kind == volumes::Kind::bind ? "rprivate" : "";
  return j;
}

json mounts_json(const launch::ContainerSpec& spec) {
  json out = json::array();
  for (const auto& m : spec.mounts) out.push_back(mount_json(m));
  return out;
}

// HostConfig.Binds: the -v specs of binds and named volumes, as typed.
json binds_json(const launch::ContainerSpec& spec) {
  std::vector<std::string> binds;
  for (const auto& m : spec.mounts)
    if (!m.bind_spec.empty()) binds.push_back(m.bind_spec);
  return binds.empty() ? json(nullptr) : json(binds);
}

// Config.Volumes: the anonymous volumes' destinations ({"/data": {}}).
json config_volumes_json(const launch::ContainerSpec& spec) {
  json out = json::object();
  for (const auto& m : spec.mounts)
    if (m.anonymous) out[m.destination] = json::object();
  return out.empty() ? json(nullptr) : out;
}

// HostConfig.Devices: what --device gave.
json devices_json(const launch::ContainerSpec& spec) {
  json out = json::array();
  for (const auto& d : spec.devices)
    out.push_back({{"PathOnHost", d.host_path}, {"PathInContainer", d.path},
                   {"CgroupPermissions", d.permissions}});
  return out;
}

// NetworkSettings: on a bridge network, the address while it runs (empty
// once it has stopped, as in Docker, whose addresses are freed at stop);
// the network it is on either way. Other modes: Docker's empty shape.
json network_settings_json(const engine::ContainerConfig& c, const engine::ContainerState& s) {
  const auto& e = s.endpoint;
  bool live = s.status == engine::Status::running && !e.empty();
  auto ip = [&](network::Ipv4 a) { return live ? network::to_string_ipv4(a) : std::string(); };
  json settings = {{"Bridge", ""}, {"Ports", json::object()}, {"Gateway", ip(e.iface.gateway)},
                   {"IPAddress", ip(e.iface.address)}, {"IPPrefixLen", live ? e.iface.prefix : 0},
                   {"MacAddress", live ? e.iface.mac : ""}, {"Networks", json::object()}};
  const auto& mode = c.spec.network;
  if (mode.kind == network::Kind::container) return settings;
  auto name = network::to_string(mode);
  settings["Networks"][name] = {
      {"Aliases", nullptr}, {"MacAddress", live ? e.iface.mac : ""},
      {"NetworkID", live ? e.network_id : ""}, {"EndpointID", live ? e.iface.host_device : ""},
      {"Gateway", ip(e.iface.gateway)}, {"IPAddress", ip(e.iface.address)},
      {"IPPrefixLen", live ? e.iface.prefix : 0}};
  return settings;
}

// Docker's keys, in Docker's shape, for what skiff has.
json inspect_json(const engine::ContainerConfig& c, const engine::ContainerState& s) {
  const auto& spec = c.spec;
  std::string lower;
  for (auto it = spec.layers.rbegin(); it != spec.layers.rend(); ++it)
    lower += (lower.empty() ? "" : ":") + it->string();
  const auto& argv = spec.process.argv;
  return {
      {"Id", c.id}, {"Created", c.created}, {"Path", argv.front()},
      {"Args", std::vector<std::string>(argv.begin() + 1, argv.end())}, {"State", state_json(s)},
      {"Image", c.image_id}, {"HostnamePath", (spec.dir / "hostname").string()},
      {"HostsPath", (spec.dir / "hosts").string()}, {"Name", "/" + c.name},
      {"RestartCount", 0}, {"Driver", "overlay"}, {"Platform", "linux"},
      {"HostConfig", {{"Memory", spec.limits.memory_bytes}, {"NanoCpus", spec.limits.nano_cpus},
                      {"PidsLimit", nullable(spec.limits.pids_limit)},
                      {"AutoRemove", c.auto_remove}, {"Binds", binds_json(spec)},
                      {"ReadonlyRootfs", spec.read_only_root},
                      {"Privileged", spec.security.privileged},
                      {"CapAdd", nullable(spec.security.cap_add)},
                      {"CapDrop", nullable(spec.security.cap_drop)},
                      {"SecurityOpt", nullable(spec.security.security_opt)},
                      {"Devices", devices_json(spec)},
                      {"UsernsMode", spec.security.userns.mode},
                      {"NetworkMode", network::to_string(spec.network)}}},
      {"GraphDriver", {{"Name", "overlay"},
                       {"Data", {{"LowerDir", lower},
                                 {"UpperDir", launch::upper_dir(spec).string()},
                                 {"WorkDir", launch::work_dir(spec).string()},
                                 {"MergedDir", launch::rootfs_dir(spec).string()}}}}},
      {"Mounts", mounts_json(spec)},
      {"NetworkSettings", network_settings_json(c, s)},
      {"Config", {{"Hostname", spec.hostname}, {"Domainname", ""}, {"User", c.user},
                  {"AttachStdin", spec.process.stdin_open}, {"AttachStdout", true},
                  {"AttachStderr", true}, {"Tty", spec.process.tty}, {"OpenStdin", spec.process.stdin_open},
                  {"StdinOnce", spec.process.stdin_open}, {"Env", c.env},
                  {"Cmd", nullable(c.cmd)}, {"Image", c.image}, {"Volumes", config_volumes_json(spec)},
                  {"WorkingDir", c.working_dir}, {"Entrypoint", nullable(c.entrypoint)},
                  {"OnBuild", nullptr}, {"Labels", json::object()}}}};
}

// Waits until the monitor has recorded the end of a killed container.
void wait_until_exited(const engine::Store& store, const std::string& id) {
  for (int i = 0; i < 1000; ++i) {
    if (lifecycle::current_state(store, id).status != engine::Status::running) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw core::Error("container " + id.substr(0, 12) + " did not stop after SIGKILL");
}

void remove_one(const engine::Store& store, const std::string& key, bool force, bool volumes) {
  auto id = store.resolve(key);
  if (!id) throw core::Error("No such container: " + key, kExitFailure);
  auto config = store.load_config(*id);
  auto state = lifecycle::current_state(store, *id);
  if (state.status == engine::Status::running) {
    if (!force)
      throw core::Error("cannot remove container \"/" + config.name +
                            "\": container is running: stop the container before removing or "
                            "force remove",
                        kExitFailure);
    lifecycle::kill(store, *id, SIGKILL);
    wait_until_exited(store, *id);
  }
  // A start that died half-way may have left its cgroup: take it too.
  lifecycle::release_resources(store, config);
  store.remove(*id);
  // -v: its anonymous volumes too; never a named volume, never a bind.
  if (volumes) remove_anonymous_volumes(store, config);
}

}  // namespace

int cmd_ps(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("all,a", po::bool_switch(), "Show all containers (default shows just running)")
      ("quiet,q", po::bool_switch(), "Only display container IDs")
      ("no-trunc", po::bool_switch(), "Don't truncate output");
  auto p = parse("ps", "[OPTIONS]", o, args);
  bool all = p.options["all"].as<bool>(), quiet = p.options["quiet"].as<bool>();
  bool no_trunc = p.options["no-trunc"].as<bool>();
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
  for (const auto& id : ctx.store.list()) {
    engine::ContainerConfig config;
    engine::ContainerState state;
    try {
      config = ctx.store.load_config(id);
      state = lifecycle::current_state(ctx.store, id);
    } catch (const std::exception&) {
      continue;  // being removed right now
    }
    if (!all && state.status != engine::Status::running) continue;
    if (quiet)
      std::cout << (no_trunc ? id : id.substr(0, 12)) << "\n";
    else
      rows.push_back(ps_row(config, state, no_trunc));
  }
  if (!quiet) std::cout << table(rows);
  return 0;
}

int cmd_rm(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("force,f", po::bool_switch(), "Force the removal of a running container (uses SIGKILL)")
      ("volumes,v", po::bool_switch(), "Remove anonymous volumes associated with the container");
  auto p = parse("rm", "[OPTIONS] CONTAINER [CONTAINER...]", o, args);
  if (p.positional.empty()) throw core::Error("\"skiff rm\" requires at least 1 argument", kExitFailure);
  int code = 0;
  for (const auto& key : p.positional) {
    try {
      remove_one(ctx.store, key, p.options["force"].as<bool>(), p.options["volumes"].as<bool>());
      std::cout << key << "\n";
    } catch (const std::exception& e) {
      std::cerr << "skiff: " << e.what() << "\n";
      code = kExitFailure;
    }
  }
  return code;
}

int cmd_inspect(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  auto p = parse("inspect", "NAME|ID [NAME|ID...]", o, args);
  if (p.positional.empty()) throw core::Error("\"skiff inspect\" requires at least 1 argument", kExitFailure);
  json out = json::array();
  int code = 0;
  for (const auto& key : p.positional) {
    if (auto id = ctx.store.resolve(key)) {
      out.push_back(inspect_json(ctx.store.load_config(*id),
                                 lifecycle::current_state(ctx.store, *id)));
    } else if (auto image = image_inspect_json(ctx, key)) {
      out.push_back(*image);
    } else {
      std::cerr << "skiff: No such object: " << key << "\n";
      code = kExitFailure;
    }
  }
  std::cout << out.dump(4) << "\n";
  return code;
}

int cmd_exited(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() != 2) throw core::Error("usage: skiff _exited ID WAIT_STATUS (the monitor's)");
  // Already recorded and removed (--rm) by a CLI that died before it could
  // tell the monitor so: nothing is left to do.
  if (!std::filesystem::exists(ctx.store.container_dir(args[0]))) return 0;
  // A detached `run --rm`: its anonymous volumes go with its record.
  engine::ContainerConfig config;
  try {
    config = ctx.store.load_config(args[0]);
  } catch (const std::exception&) {  // removed meanwhile: record_exit says so
  }
  config.id = args[0];
  AnonymousVolumesOfRemoved anonymous_volumes(ctx.store, config);
  return lifecycle::record_exit(ctx.store, args[0], std::stoi(args[1]));
}

}  // namespace skiff::cli
