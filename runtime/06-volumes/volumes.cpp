// 06-volumes/volumes.cpp — see volumes.hpp.
#include "06-volumes/volumes.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::volumes {
namespace {

using json = nlohmann::json;

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json record_json(const Volume& v) {
  return {{"CreatedAt", v.created}, {"Driver", v.driver}, {"Labels", v.labels}, {"Options", v.options}};
}

Volume from_record(const std::string& name, const json& j) {
  Volume v;
  v.name = name;
  v.created = j.value("CreatedAt", "");
  v.driver = j.value("Driver", "local");
  v.labels = j.value("Labels", std::map<std::string, std::string>{});
  v.options = j.value("Options", std::map<std::string, std::string>{});
  return v;
}

// Entries of volumes/ that are not volumes: the lock, and half-made or
// half-removed ones.
bool is_volume_entry(const stdfs::directory_entry& e) {
  auto name = e.path().filename().string();
  return e.is_directory() && !name.empty() && name[0] != '.';
}

std::string suffix() { return "-" + std::to_string(::getpid()); }

}  // namespace

bool is_anonymous(const Volume& v) { return v.labels.count(kAnonymousLabel) > 0; }

std::pair<std::string, std::string> parse_volume_option(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos) throw core::Error("invalid option: \"" + text + "\" (expected KEY=VALUE)");
  std::string key = text.substr(0, eq);
  if (key != "type" && key != "device" && key != "o" && key != "size")
    throw core::Error("invalid option key: \"" + key + "\"");
  return {key, text.substr(eq + 1)};
}

VolumeStore::VolumeStore(const stdfs::path& skiff_root) : dir_(skiff_root / "volumes") {}

std::optional<Volume> VolumeStore::find(const std::string& name) const {
  if (!valid_volume_name(name)) return std::nullopt;  // never a path into the store
  auto record = core::fs::read_file_if_exists(dir_ / name / "volume.json");
  if (!record) return std::nullopt;
  return from_record(name, json::parse(*record));
}

std::vector<Volume> VolumeStore::list() const {
  std::vector<Volume> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir_, ec)) {
    if (!is_volume_entry(e)) continue;
    try {
      if (auto v = find(e.path().filename().string())) out.push_back(*v);
    } catch (const std::exception&) {  // a record being rewritten: skip it
    }
  }
  std::sort(out.begin(), out.end(), [](const Volume& a, const Volume& b) { return a.name < b.name; });
  return out;
}

Volume VolumeStore::create(Volume v) const {
  validate_volume_name(v.name);
  if (auto existing = find(v.name)) return *existing;
  if (v.options.count("type") && !v.options.count("device"))
    throw core::Error("create " + v.name + ": missing required option: \"device\"");
  if (v.created.empty()) v.created = now_utc();
  core::fs::make_dirs(dir_);
  auto tmp = dir_ / (".new-" + v.name + suffix());
  stdfs::remove_all(tmp);
  core::fs::make_dirs(tmp / "_data", stdfs::perms::owner_all | stdfs::perms::group_read |
                                         stdfs::perms::group_exec | stdfs::perms::others_read |
                                         stdfs::perms::others_exec);
  core::fs::write_file_atomic(tmp / "volume.json", record_json(v).dump(2) + "\n");
  std::error_code ec;
  stdfs::rename(tmp, dir_ / v.name, ec);
  if (ec) {
    stdfs::remove_all(tmp);
    throw core::Error("create " + v.name + ": " + ec.message());
  }
  return v;
}

void VolumeStore::remove(const std::string& name) const {
  validate_volume_name(name);
  auto doomed = dir_ / (".rm-" + name + suffix());
  std::error_code ec;
  stdfs::rename(dir_ / name, doomed, ec);
  if (ec) throw core::Error("remove " + name + ": " + ec.message(), 1);
  stdfs::remove_all(doomed, ec);
}

std::string VolumeStore::new_anonymous_name() {
  unsigned char bytes[32];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
    throw core::SystemError(errno, "getrandom");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

void attach_volume(const VolumeStore& store, const Volume& v, Mount& m) {
  m.kind = Kind::volume;
  m.name = v.name;
  m.source = store.data_dir(v.name).string();
  auto option = [&](const char* key) {
    auto it = v.options.find(key);
    return it == v.options.end() ? std::string() : it->second;
  };
  m.fstype = option("type");
  m.device = option("device");
  m.options = option("o");
  if (!option("size").empty()) m.options += (m.options.empty() ? "size=" : ",size=") + option("size");
  if (!m.fstype.empty()) m.copy_up = false;  // a fresh filesystem each time: nothing to keep
}

uint64_t disk_usage(const stdfs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::end(it); it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  return total;
}

}  // namespace skiff::volumes
