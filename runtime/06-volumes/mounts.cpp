// 06-volumes/mounts.cpp — see mounts.hpp.
#include "06-volumes/mounts.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.hpp"

namespace skiff::volumes {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!text.empty() && text.back() == sep) parts.emplace_back();
  return parts;
}

// "/a//b/" → "/a/b": the form inspect shows and duplicates are compared in.
std::string clean(const std::string& path) {
  auto p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// Docker's words for a mount that makes no sense, whatever flag made it.
[[noreturn]] void invalid(Kind kind, const std::string& why) {
  throw core::Error("invalid mount config for type \"" + to_string(kind) + "\": " + why);
}

void check_destination(Kind kind, const std::string& destination) {
  if (destination.empty()) invalid(kind, "field Target must not be empty");
  if (destination[0] != '/')
    invalid(kind, "invalid mount path: '" + destination + "' mount path must be absolute");
  auto path = clean(destination);
  if (path == "/") invalid(kind, "invalid specification: destination can't be '/'");
  // The container's /proc is the kernel's window on it (the child checks
  // again once symlinks are followed).
  if (path == "/proc" || path.rfind("/proc/", 0) == 0)
    throw core::Error("invalid mount config: " + path + " cannot be mounted because it is located inside \"/proc\"");
}

const std::set<std::string>& known_modes() {
  static const std::set<std::string> modes = {"ro", "rw", "nocopy", "z", "Z", "private", "rprivate"};
  return modes;
}

bool valid_mode(const std::string& mode) {
  if (mode.empty()) return false;
  for (const auto& m : split(mode, ','))
    if (!known_modes().count(m)) return false;
  return true;
}

void apply_mode(Mount& m, const std::string& mode) {
  if (!valid_mode(mode)) throw core::Error("invalid mode: " + mode);
  m.mode = mode;
  for (const auto& word : split(mode, ',')) {
    if (word == "ro") m.read_only = true;
    if (word == "rw") m.read_only = false;
    if (word == "nocopy") m.copy_up = false;
  }
}

// The first part of a two- or three-part -v: a host path or a volume name.
void set_source(Mount& m, const std::string& source, const std::string& spec) {
  if (source.empty()) throw core::Error("invalid volume specification: '" + spec + "'");
  if (source[0] == '/') {
    m.kind = Kind::bind;
    m.source = clean(source);
    m.create_source = true;  // Docker's -v makes a missing host directory
    m.copy_up = false;
    return;
  }
  m.kind = Kind::volume;
  validate_volume_name(source);
  m.name = source;
}

bool truthy(const std::string& key, const std::string& value) {
  if (value.empty() || value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  throw core::Error("invalid value for " + key + ": " + value);
}

std::string fold_tmpfs_option(const std::string& options, const std::string& key,
                              const std::string& value) {
  return options + (options.empty() ? "" : ",") + key + "=" + value;
}

// One key=value of --mount. Returns false for a key it does not know.
bool apply_mount_key(Mount& m, const std::string& key, const std::string& value, bool& has_value) {
  has_value = !value.empty();
  if (key == "type") {
    if (value == "bind") m.kind = Kind::bind;
    else if (value == "volume") m.kind = Kind::volume;
    else if (value == "tmpfs") m.kind = Kind::tmpfs;
    else throw core::Error("invalid mount type: \"" + value + "\" (bind, volume or tmpfs)");
  } else if (key == "source" || key == "src") {
    m.source = value;
  } else if (key == "target" || key == "destination" || key == "dst") {
    m.destination = value;
  } else if (key == "readonly" || key == "ro") {
    m.read_only = truthy(key, value);
  } else if (key == "volume-nocopy") {
    m.copy_up = !truthy(key, value);
  } else if (key == "tmpfs-size") {
    m.options = fold_tmpfs_option(m.options, "size", value);
  } else if (key == "tmpfs-mode") {
    m.options = fold_tmpfs_option(m.options, "mode", value);
  } else if (key == "bind-propagation") {
    if (value != "private" && value != "rprivate")
      throw core::Error("bind-propagation \"" + value + "\" is not supported by skiff (rprivate only)");
  } else {
    return false;
  }
  return true;
}

// --mount's fields, checked per type once they are all read.
void finish_mount_flag(Mount& m) {
  check_destination(m.kind, m.destination);
  m.destination = clean(m.destination);
  if (m.kind == Kind::tmpfs) {
    if (!m.source.empty()) invalid(m.kind, "field Source must not be specified");
    m.fstype = "tmpfs";
    m.options = "nosuid,nodev" + std::string(m.options.empty() ? "" : ",") + m.options;
  } else if (m.kind == Kind::bind) {
    if (m.source.empty()) invalid(m.kind, "field Source must not be empty");
    if (m.source[0] != '/') invalid(m.kind, "invalid mount path: '" + m.source + "' mount path must be absolute");
    m.source = clean(m.source);
    m.copy_up = false;
  } else if (m.source.empty()) {
    m.anonymous = true;
  } else {
    validate_volume_name(m.source);
    m.name = m.source;
    m.source.clear();
  }
  if (m.kind != Kind::tmpfs && !m.options.empty())
    invalid(m.kind, "tmpfs options are only for type tmpfs");
  m.mode = m.read_only ? "ro" : "";
  if (m.kind == Kind::volume && !m.copy_up) m.mode += m.mode.empty() ? "nocopy" : ",nocopy";
}

}  // namespace

std::string to_string(Kind kind) {
  switch (kind) {
    case Kind::bind: return "bind";
    case Kind::volume: return "volume";
    case Kind::tmpfs: return "tmpfs";
  }
  return "volume";
}

void to_json(nlohmann::json& j, const Mount& m) {
  j = nlohmann::json{{"Type", to_string(m.kind)}, {"Name", m.name}, {"Source", m.source},
                     {"Destination", m.destination}, {"ReadOnly", m.read_only}, {"Mode", m.mode},
                     {"Anonymous", m.anonymous}, {"CopyUp", m.copy_up},
                     {"FsType", m.fstype}, {"Device", m.device}, {"Options", m.options},
                     {"BindSpec", m.bind_spec}};
}

void from_json(const nlohmann::json& j, Mount& m) {
  auto type = j.at("Type").get<std::string>();
  m.kind = type == "bind" ? Kind::bind : type == "tmpfs" ? Kind::tmpfs : Kind::volume;
  m.name = j.value("Name", "");
  m.source = j.value("Source", "");
  m.destination = j.at("Destination").get<std::string>();
  m.read_only = j.value("ReadOnly", false);
  m.mode = j.value("Mode", "");
  m.anonymous = j.value("Anonymous", false);
  m.copy_up = j.value("CopyUp", false);
  m.fstype = j.value("FsType", "");
  m.device = j.value("Device", "");
  m.options = j.value("Options", "");
  m.bind_spec = j.value("BindSpec", "");
}

bool valid_volume_name(const std::string& name) {
  auto ok = [](char c, bool first) {
    return std::isalnum(static_cast<unsigned char>(c)) || (!first && (c == '_' || c == '.' || c == '-'));
  };
  if (name.size() < 2) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!ok(name[i], i == 0)) return false;
  return true;
}

void validate_volume_name(const std::string& name) {
  if (valid_volume_name(name)) return;
  throw core::Error("create " + name + ": \"" + name +
                    "\" includes invalid characters for a local volume name, only "
                    "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                    "directory, use absolute path");
}

Mount parse_volume_flag(const std::string& spec) {
  auto parts = split(spec, ':');
  Mount m;
  std::string destination, mode;
  // Docker's reading: "DST", "DST:MODE", "SRC:DST", "SRC:DST:MODE".
  if (parts.size() == 1 || (parts.size() == 2 && valid_mode(parts[1]) && parts[0].rfind('/', 0) == 0)) {
    m.kind = Kind::volume;
    m.anonymous = true;
    destination = parts[0];
    if (parts.size() == 2) mode = parts[1];
  } else if (parts.size() == 2 || parts.size() == 3) {
    set_source(m, parts[0], spec);
    destination = parts[1];
    if (parts.size() == 3) mode = parts[2];
  } else {
    throw core::Error("invalid volume specification: '" + spec + "'");
  }
  try {
    check_destination(m.kind, destination);
  } catch (const core::Error& e) {
    throw core::Error("invalid volume specification: '" + spec + "': " + e.what());
  }
  m.destination = clean(destination);
  if (!mode.empty() || parts.size() == 3) apply_mode(m, mode);
  if (!m.anonymous) m.bind_spec = spec;
  return m;
}

Mount parse_mount_flag(const std::string& spec) {
  Mount m;
  m.kind = Kind::volume;
  for (const auto& field : split(spec, ',')) {
    auto eq = field.find('=');
    std::string key = field.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : field.substr(eq + 1);
    bool has_value = false;
    if (!apply_mount_key(m, key, value, has_value))
      throw core::Error("invalid argument \"" + spec + "\" for \"--mount\" flag: unexpected key '" +
                        key + "' in '" + field + "'");
    if (eq == std::string::npos && key != "readonly" && key != "ro" && key != "volume-nocopy")
      throw core::Error("invalid argument \"" + spec + "\" for \"--mount\" flag: invalid field '" +
                        field + "' must be a key=value pair");
  }
  finish_mount_flag(m);
  return m;
}

Mount parse_tmpfs_flag(const std::string& spec) {
  auto colon = spec.find(':');
  Mount m;
  m.kind = Kind::tmpfs;
  m.fstype = "tmpfs";
  std::string destination = spec.substr(0, colon);
  check_destination(m.kind, destination);
  m.destination = clean(destination);
  // Docker's defaults for --tmpfs, then the user's options (later ones win).
  m.options = "noexec,nosuid,nodev";
  if (colon != std::string::npos && colon + 1 < spec.size()) m.options += "," + spec.substr(colon + 1);
  for (const auto& word : split(m.options, ','))
    if (word == "ro") m.read_only = true;
    else if (word == "rw") m.read_only = false;
  m.copy_up = false;
  return m;
}

VolumesFrom parse_volumes_from(const std::string& spec) {
  auto colon = spec.find(':');
  VolumesFrom v{spec.substr(0, colon), colon == std::string::npos ? "" : spec.substr(colon + 1)};
  if (v.container.empty()) throw core::Error("invalid --volumes-from: '" + spec + "'");
  if (!v.mode.empty() && v.mode != "ro" && v.mode != "rw") throw core::Error("invalid mode: " + v.mode);
  return v;
}

std::vector<Mount> ordered(std::vector<Mount> mounts) {
  std::set<std::string> seen;
  for (const auto& m : mounts)
    if (!seen.insert(m.destination).second)
      throw core::Error("Duplicate mount point: " + m.destination);
  auto depth = [](const Mount& m) { return std::count(m.destination.begin(), m.destination.end(), '/'); };
  std::stable_sort(mounts.begin(), mounts.end(),
                   [&](const Mount& a, const Mount& b) { return depth(a) < depth(b); });
  return mounts;
}

namespace {

// mount(8)'s words for the flags a filesystem option list may hold; the
// rest ("size=64m", "mode=1777", "uid=0") goes to the filesystem as data.
struct FlagWord {
  const char* word;
  unsigned long set;
  unsigned long clear;
};
constexpr FlagWord kFlagWords[] = {
    {"ro", MS_RDONLY, 0},   {"rw", 0, MS_RDONLY},     {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC}, {"nosuid", MS_NOSUID, 0}, {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0}, {"dev", 0, MS_NODEV},     {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0}, {"noatime", MS_NOATIME, 0}, {"relatime", MS_RELATIME, 0},
};

void split_options(const std::string& options, MountCall& call) {
  for (const auto& word : split(options, ',')) {
    if (word.empty()) continue;
    auto it = std::find_if(std::begin(kFlagWords), std::end(kFlagWords),
                           [&](const FlagWord& f) { return word == f.word; });
    if (it == std::end(kFlagWords)) {
      call.data += (call.data.empty() ? "" : ",") + word;
      continue;
    }
    call.flags = (call.flags | it->set) & ~it->clear;
  }
}

}  // namespace

MountCall plan_mount(const Mount& m) {
  MountCall call;
  if (!m.fstype.empty()) {
    // A new filesystem: tmpfs, or a volume created with -o type=….
    call.fstype = m.fstype;
    call.source = m.device.empty() ? m.fstype : m.device;
    split_options(m.options, call);
    if (m.read_only) call.flags |= MS_RDONLY;
    if (call.flags & MS_BIND) {
      call.fstype.clear();
      call.remount_read_only = (call.flags & MS_RDONLY) != 0;
      call.flags &= ~MS_RDONLY;
    }
    return call;
  }
  // A bind (a host path, or a volume's _data): MS_REC takes the mounts
  // below the source along (Docker's "rbind"). The kernel ignores MS_RDONLY
  // on a new bind: read-only needs a second, remount call.
  call.source = m.source;
  call.flags = MS_BIND | MS_REC;
  call.remount_read_only = m.read_only;
  return call;
}

}  // namespace skiff::volumes
