// cli/volume.cpp — `skiff volume create|ls|inspect|rm|prune`, and the
// volume side of `run`, `rm -v` and `run --rm` (see volume.hpp).
//
// A volume is in use while any container record — running or not — names
// it: the records on disk are the whole truth, as for `ps`.
// Runs in: CLI. Privilege: write access to the store.
// Lesson: lessons/06-volumes.
#include "cli/volume.hpp"

#include <iostream>
#include <map>
#include <optional>

#include "06-volumes/volumes.hpp"
#include "cli/command.hpp"
#include "cli/format.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::cli {
namespace {

namespace stdfs = std::filesystem;
using json = nlohmann::ordered_json;
using volumes::Kind;
using volumes::Mount;

std::vector<std::string> strings(const Parsed& p, const char* key) {
  return p.options.count(key) ? p.options[key].as<std::vector<std::string>>() : std::vector<std::string>{};
}

// --mount type=bind refuses a missing source (-v makes it instead).
Mount checked_mount_flag(const std::string& text) {
  Mount m = volumes::parse_mount_flag(text);
  if (m.kind == Kind::bind && !stdfs::exists(m.source))
    throw core::Error("invalid mount config for type \"bind\": bind source path does not exist: " + m.source);
  return m;
}

// --volumes-from: the other container's volumes and binds (not its tmpfs),
// with its modes unless :ro or :rw says otherwise.
std::vector<Mount> mounts_from(const engine::Store& store, const std::string& text) {
  auto from = volumes::parse_volumes_from(text);
  auto id = store.resolve(from.container);
  if (!id) throw core::Error("No such container: " + from.container);
  std::vector<Mount> out;
  for (auto m : store.load_config(*id).spec.mounts) {
    if (m.kind == Kind::tmpfs) continue;
    if (!from.mode.empty()) {
      m.read_only = from.mode == "ro";
      m.mode = from.mode;
    }
    m.bind_spec.clear();
    m.create_source = false;
    out.push_back(m);
  }
  return out;
}

bool has_destination(const std::vector<Mount>& mounts, const std::string& destination) {
  for (const auto& m : mounts)
    if (m.destination == destination) return true;
  return false;
}

// The directories make_dirs is about to create for PATH, deepest first.
std::vector<stdfs::path> missing_dirs(stdfs::path path) {
  std::vector<stdfs::path> out;
  for (; !path.empty() && path != path.root_path() && !stdfs::exists(path); path = path.parent_path())
    out.push_back(path);
  return out;
}

// What create_with_volumes made, undone if the record cannot be written.
struct Made {
  const volumes::VolumeStore& volumes;
  std::vector<std::string> names;
  std::vector<stdfs::path> dirs;  // deepest first
  bool keep = false;
  ~Made() {
    if (keep) return;
    std::error_code ec;
    for (const auto& n : names) try { volumes.remove(n); } catch (...) {}
    for (const auto& d : dirs) stdfs::remove(d, ec);  // only if still empty
  }
};

void make_host_side(const volumes::VolumeStore& vs, Mount& m, Made& made) {
  if (m.kind == Kind::bind && m.create_source && !stdfs::exists(m.source)) {
    auto dirs = missing_dirs(m.source);
    made.dirs.insert(made.dirs.begin(), dirs.begin(), dirs.end());
    core::fs::make_dirs(m.source);
  }
  if (m.kind != Kind::volume) return;
  if (m.name.empty()) m.name = volumes::VolumeStore::new_anonymous_name();
  auto v = vs.find(m.name);
  if (!v) {
    volumes::Volume fresh;
    fresh.name = m.name;
    if (m.anonymous) fresh.labels[volumes::kAnonymousLabel] = "";
    v = vs.create(fresh);
    made.names.push_back(m.name);
  }
  volumes::attach_volume(vs, *v, m);
}

// ---- skiff volume …

json volume_json(const volumes::VolumeStore& vs, const volumes::Volume& v) {
  auto map_or_null = [](const std::map<std::string, std::string>& m) { return m.empty() ? json(nullptr) : json(m); };
  return {{"CreatedAt", v.created}, {"Driver", v.driver}, {"Labels", map_or_null(v.labels)},
          {"Mountpoint", vs.data_dir(v.name).string()}, {"Name", v.name},
          {"Options", map_or_null(v.options)}, {"Scope", "local"}};
}

std::pair<std::string, std::string> key_value(const std::string& text) {
  auto eq = text.find('=');
  return {text.substr(0, eq), eq == std::string::npos ? "" : text.substr(eq + 1)};
}

int volume_create_checked(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("driver,d", po::value<std::string>()->default_value("local"), "Specify volume driver name")
      ("opt,o", po::value<std::vector<std::string>>()->composing(), "Set driver specific options")
      ("label", po::value<std::vector<std::string>>()->composing(), "Set metadata for a volume")
      ("name", po::value<std::string>(), "Specify volume name");
  auto p = parse("volume create", "[OPTIONS] [VOLUME]", o, args);
  if (p.positional.size() > 1) throw core::Error("\"skiff volume create\" requires at most 1 argument", kExitFailure);
  volumes::Volume v;
  v.name = p.positional.empty() ? (p.options.count("name") ? p.options["name"].as<std::string>() : "")
                                : p.positional[0];
  v.driver = p.options["driver"].as<std::string>();
  if (v.driver != "local") throw core::Error("create " + v.name + ": error looking up volume plugin " + v.driver + ": plugin \"" + v.driver + "\" not found", kExitFailure);
  for (const auto& text : strings(p, "opt")) v.options.insert(volumes::parse_volume_option(text));
  for (const auto& text : strings(p, "label")) v.labels.insert(key_value(text));
  if (v.name.empty()) v.name = volumes::VolumeStore::new_anonymous_name();
  volumes::validate_volume_name(v.name);
  volumes::VolumeStore vs(ctx.store.root());
  core::fs::make_dirs(vs.dir());
  core::fs::FileLock lock(vs.lock_path());
  std::cout << vs.create(v).name << "\n";
  return 0;
}

// Every failure of `volume create` exits 1, as Docker's does.
int volume_create(Context& ctx, const std::vector<std::string>& args) {
  try {
    return volume_create_checked(ctx, args);
  } catch (const core::Error& e) {
    throw core::Error(e.what(), kExitFailure);
  }
}

struct Filters {
  std::optional<bool> dangling;
  std::vector<std::string> names, labels;
  std::optional<std::string> driver;
};

Filters parse_filters(const std::vector<std::string>& texts) {
  Filters f;
  for (const auto& text : texts) {
    auto [key, value] = key_value(text);
    if (key == "dangling" && (value == "true" || value == "1")) f.dangling = true;
    else if (key == "dangling" && (value == "false" || value == "0")) f.dangling = false;
    else if (key == "name") f.names.push_back(value);
    else if (key == "label") f.labels.push_back(value);
    else if (key == "driver") f.driver = value;
    else throw core::Error("invalid filter '" + text + "'", kExitFailure);
  }
  return f;
}

bool has_label(const volumes::Volume& v, const std::string& filter) {
  auto [key, value] = key_value(filter);
  auto it = v.labels.find(key);
  return it != v.labels.end() && (filter.find('=') == std::string::npos || it->second == value);
}

bool matches(const Filters& f, const volumes::Volume& v, bool in_use) {
  if (f.dangling && *f.dangling == in_use) return false;
  if (f.driver && *f.driver != v.driver) return false;
  if (!f.names.empty()) {
    bool any = false;
    for (const auto& n : f.names) any = any || v.name.find(n) != std::string::npos;
    if (!any) return false;
  }
  for (const auto& l : f.labels)
    if (!has_label(v, l)) return false;
  return true;
}

int volume_ls(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("quiet,q", po::bool_switch(), "Only display volume names")
      ("filter,f", po::value<std::vector<std::string>>()->composing(), "Provide filter values (e.g. 'dangling=true')");
  auto p = parse("volume ls", "[OPTIONS]", o, args);
  auto filters = parse_filters(strings(p, "filter"));
  bool quiet = p.options["quiet"].as<bool>();
  std::vector<std::vector<std::string>> rows = {{"DRIVER", "VOLUME NAME"}};
  for (const auto& v : volumes::VolumeStore(ctx.store.root()).list()) {
    bool in_use = !containers_using(ctx.store, v.name).empty();
    if (!matches(filters, v, in_use)) continue;
    if (quiet) std::cout << v.name << "\n";
    else rows.push_back({v.driver, v.name});
  }
  if (!quiet) std::cout << table(rows);
  return 0;
}

int volume_inspect(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  auto p = parse("volume inspect", "VOLUME [VOLUME...]", o, args);
  if (p.positional.empty()) throw core::Error("\"skiff volume inspect\" requires at least 1 argument", kExitFailure);
  volumes::VolumeStore vs(ctx.store.root());
  json out = json::array();
  int code = 0;
  for (const auto& name : p.positional) {
    if (auto v = vs.find(name)) {
      out.push_back(volume_json(vs, *v));
    } else {
      std::cerr << "skiff: Error response from daemon: get " << name << ": no such volume\n";
      code = kExitFailure;
    }
  }
  std::cout << out.dump(4) << "\n";
  return code;
}

std::string in_use_list(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return "[" + out + "]";
}

// Removes NAME unless a container uses it; the caller holds the lock.
void remove_volume(const engine::Store& store, const volumes::VolumeStore& vs, const std::string& name) {
  if (!vs.find(name)) throw core::Error("Error response from daemon: get " + name + ": no such volume", kExitFailure);
  auto users = containers_using(store, name);
  if (!users.empty())
    throw core::Error("Error response from daemon: remove " + name + ": volume is in use - " + in_use_list(users), kExitFailure);
  vs.remove(name);
}

int volume_rm(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("force,f", po::bool_switch(), "Do not error if a volume does not exist");
  auto p = parse("volume rm", "[OPTIONS] VOLUME [VOLUME...]", o, args);
  if (p.positional.empty()) throw core::Error("\"skiff volume rm\" requires at least 1 argument", kExitFailure);
  volumes::VolumeStore vs(ctx.store.root());
  core::fs::make_dirs(vs.dir());
  core::fs::FileLock lock(vs.lock_path());
  int code = 0;
  for (const auto& name : p.positional) {
    try {
      if (p.options["force"].as<bool>() && !vs.find(name)) continue;
      remove_volume(ctx.store, vs, name);
      std::cout << name << "\n";
    } catch (const std::exception& e) {
      std::cerr << "skiff: " << e.what() << "\n";
      code = kExitFailure;
    }
  }
  return code;
}

bool confirmed(const std::string& warning) {
  std::cout << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

int volume_prune(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("all,a", po::bool_switch(), "Remove all unused volumes, not just anonymous ones")
      ("force,f", po::bool_switch(), "Do not prompt for confirmation")
      ("filter", po::value<std::vector<std::string>>()->composing(), "Provide filter values (e.g. 'label=<label>')");
  auto p = parse("volume prune", "[OPTIONS]", o, args);
  bool all = p.options["all"].as<bool>();
  auto filters = parse_filters(strings(p, "filter"));
  std::string warning = all ? "WARNING! This will remove all local volumes not used by at least one container."
                            : "WARNING! This will remove anonymous local volumes not used by at least one container.";
  if (!p.options["force"].as<bool>() && !confirmed(warning)) return 0;
  volumes::VolumeStore vs(ctx.store.root());
  core::fs::make_dirs(vs.dir());
  core::fs::FileLock lock(vs.lock_path());
  std::vector<std::string> deleted;
  uint64_t reclaimed = 0;
  for (const auto& v : vs.list()) {
    if (!all && !volumes::is_anonymous(v)) continue;
    if (!matches(filters, v, false) || !containers_using(ctx.store, v.name).empty()) continue;
    uint64_t size = volumes::disk_usage(vs.data_dir(v.name));
    vs.remove(v.name);
    reclaimed += size;
    deleted.push_back(v.name);
  }
  if (!deleted.empty()) {
    std::cout << "Deleted Volumes:\n";
    for (const auto& n : deleted) std::cout << n << "\n";
    std::cout << "\n";
  }
  std::cout << "Total reclaimed space: " << human_size(static_cast<double>(reclaimed)) << "\n";
  return 0;
}

}  // namespace

std::vector<Mount> parse_run_mounts(const engine::Store& store, const RunMountFlags& flags) {
  std::vector<Mount> all;
  for (const auto& text : flags.volumes) all.push_back(volumes::parse_volume_flag(text));
  for (const auto& text : flags.mounts) all.push_back(checked_mount_flag(text));
  for (const auto& text : flags.tmpfs) all.push_back(volumes::parse_tmpfs_flag(text));
  // What the user mounts explicitly wins over what --volumes-from brings.
  for (const auto& text : flags.volumes_from)
    for (auto& m : mounts_from(store, text))
      if (!has_destination(all, m.destination)) all.push_back(m);
  return volumes::ordered(std::move(all));
}

void create_with_volumes(engine::Store& store, engine::ContainerConfig& config,
                         const std::vector<std::pair<std::string, std::string>>& files) {
  if (config.spec.mounts.empty()) {
    store.create(config, files);
    return;
  }
  volumes::VolumeStore vs(store.root());
  core::fs::make_dirs(vs.dir());
  core::fs::FileLock lock(vs.lock_path());
  Made made{vs, {}, {}};
  for (auto& m : config.spec.mounts) make_host_side(vs, m, made);
  store.create(config, files);
  made.keep = true;
}

std::vector<std::string> containers_using(const engine::Store& store, const std::string& name,
                                          const std::string& except) {
  std::vector<std::string> ids;
  for (const auto& id : store.list()) {
    if (id == except) continue;
    engine::ContainerConfig config;
    try {
      config = store.load_config(id);
    } catch (const std::exception&) {
      continue;  // being removed right now
    }
    for (const auto& m : config.spec.mounts)
      if (m.kind == Kind::volume && m.name == name) {
        ids.push_back(id);
        break;
      }
  }
  return ids;
}

void remove_anonymous_volumes(const engine::Store& store, const engine::ContainerConfig& config) {
  volumes::VolumeStore vs(store.root());
  if (!stdfs::exists(vs.dir())) return;
  core::fs::FileLock lock(vs.lock_path());
  for (const auto& m : config.spec.mounts) {
    if (m.kind != Kind::volume || !m.anonymous || m.name.empty()) continue;
    auto v = vs.find(m.name);
    if (!v || !volumes::is_anonymous(*v) || !containers_using(store, m.name, config.id).empty()) continue;
    vs.remove(m.name);
  }
}

AnonymousVolumesOfRemoved::~AnonymousVolumesOfRemoved() {
  if (!config_.auto_remove || stdfs::exists(store_.container_dir(config_.id))) return;
  try {
    remove_anonymous_volumes(store_, config_);
  } catch (const std::exception& e) {
    std::cerr << "skiff: removing the anonymous volumes of " << config_.id.substr(0, 12) << ": " << e.what() << "\n";
  }
}

int cmd_volume(Context& ctx, const std::vector<std::string>& args) {
  return run_group(ctx, "volume", "Manage volumes",
                   {{"create", volume_create}, {"ls", volume_ls}, {"list", volume_ls}, {"inspect", volume_inspect},
                    {"rm", volume_rm}, {"remove", volume_rm}, {"prune", volume_prune}},
                   args);
}

}  // namespace skiff::cli
