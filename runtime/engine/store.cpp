// engine/store.cpp — see store.hpp.
#include "engine/store.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/fs.hpp"

namespace skiff::engine {

std::string random_name();  // names.cpp

stdfs::path default_root() {
  if (const char* env = std::getenv("SKIFF_ROOT"); env && *env) return env;
  return "/var/lib/skiff";
}

Store::Store(stdfs::path root) : root_(std::move(root)) {
  // Layers hold the images' setuid programs and device nodes, upper dirs
  // and volumes what containers wrote: no other user of the host may reach
  // them (a user who could run an image's setuid-root shell from the host
  // would be root). The root itself only lets through (0711), as Docker's
  // /var/lib/docker; what is below is root's alone.
  core::fs::make_private_dir(root_, 0711);
  for (const char* sub : {"containers", "images", "volumes"}) core::fs::make_private_dir(root_ / sub, 0700);
  core::fs::make_dirs(names_dir());
}

std::string Store::new_id() {
  unsigned char bytes[32];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
    throw core::SystemError(errno, "getrandom");
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  return id;
}

void validate_name(const std::string& name) {
  static const std::regex valid("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
  if (!std::regex_match(name, valid))
    throw core::Error("Invalid container name (" + name +
                      "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
}

namespace {

std::optional<std::string> name_holder(const stdfs::path& link) {
  std::error_code ec;
  auto target = stdfs::read_symlink(link, ec);
  if (ec) return std::nullopt;
  return target.filename().string();
}

// Takes NAME for ID, or says who holds it. The caller holds the store lock,
// so "is it free?" and "take it" cannot be split by another skiff.
bool take_name(const stdfs::path& names, const std::string& name, const std::string& id,
               const stdfs::path& containers) {
  auto link = names / name;
  if (auto holder = name_holder(link)) {
    if (stdfs::exists(containers / *holder)) return false;
    stdfs::remove(link);  // left by a skiff killed half-way: the name is free
  }
  if (::symlink(("../" + id).c_str(), link.c_str()) < 0)
    throw core::SystemError(errno, "symlink(" + link.string() + ")");
  return true;
}

}  // namespace

namespace {

// Inside a directory nobody else can see yet, a plain write is enough: the
// directory's rename is what makes all of them appear at once.
void write_new_file(const stdfs::path& path, std::string_view content) {
  core::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid() || ::write(fd.get(), content.data(), content.size()) !=
                         static_cast<ssize_t>(content.size()))
    throw core::SystemError(errno, "write " + path.string());
}

}  // namespace

// A skiff killed inside create() leaves a ".new-…" directory that no
// command lists. Under the store lock, one older than a minute belongs to
// nobody: it goes. (Nothing is ever mounted in one: a container's mounts
// come after the rename.)
static void sweep_abandoned(const stdfs::path& containers) {
  std::error_code ec;
  const auto limit = stdfs::file_time_type::clock::now() - std::chrono::minutes(1);
  for (const auto& entry : stdfs::directory_iterator(containers, ec)) {
    auto name = entry.path().filename().string();
    if (name.rfind(".new-", 0) == 0 && stdfs::last_write_time(entry.path(), ec) < limit)
      stdfs::remove_all(entry.path(), ec);
  }
}

void Store::create(ContainerConfig& config,
                   const std::vector<std::pair<std::string, std::string>>& files) {
  const auto containers = root_ / "containers";
  core::fs::FileLock lock(containers / "lock");
  if (config.name.empty()) {
    do config.name = random_name();
    while (!take_name(names_dir(), config.name, config.id, containers));
  } else if (!take_name(names_dir(), config.name, config.id, containers)) {
    auto holder = name_holder(names_dir() / config.name).value_or("");
    throw core::Error("Conflict. The container name \"/" + config.name +
                      "\" is already in use by container \"" + holder +
                      "\". You have to remove (or rename) that container to be able to reuse "
                      "that name.");
  }
  sweep_abandoned(containers);
  auto tmp = containers / (".new-" + config.id);
  try {
    for (const char* sub : {"upper", "work", "merged"}) core::fs::make_dirs(tmp / sub);
    write_new_file(tmp / "config.json", nlohmann::json(config).dump());
    write_new_file(tmp / "state.json", nlohmann::json(ContainerState{}).dump());
    for (const auto& [name, content] : files) write_new_file(tmp / name, content);
    stdfs::rename(tmp, containers / config.id);
  } catch (...) {
    std::error_code ec;
    stdfs::remove_all(tmp, ec);
    stdfs::remove(names_dir() / config.name, ec);
    throw;
  }
}

void Store::rename(const std::string& id, const std::string& new_name) const {
  validate_name(new_name);
  const auto containers = root_ / "containers";
  core::fs::FileLock lock(containers / "lock");
  auto config = load_config(id);
  if (!take_name(names_dir(), new_name, id, containers)) {
    auto holder = name_holder(names_dir() / new_name).value_or("");
    throw core::Error("Conflict. The container name \"/" + new_name +
                          "\" is already in use by container \"" + holder + "\"",
                      1);
  }
  auto old_name = config.name;
  config.name = new_name;
  core::fs::write_file_atomic(container_dir(id) / "config.json", nlohmann::json(config).dump());
  std::error_code ec;
  stdfs::remove(names_dir() / old_name, ec);
}

std::optional<std::string> Store::resolve(const std::string& key) const {
  if (key.empty()) return std::nullopt;
  if (auto holder = name_holder(names_dir() / key); holder && stdfs::exists(container_dir(*holder)))
    return holder;
  std::vector<std::string> matches;
  for (const auto& id : list())
    if (id.compare(0, key.size(), key) == 0) matches.push_back(id);
  if (matches.size() > 1)
    throw core::Error("multiple IDs found with provided prefix: " + key);
  if (matches.empty()) return std::nullopt;
  return matches.front();
}

ContainerConfig Store::load_config(const std::string& id) const {
  auto config = nlohmann::json::parse(core::fs::read_file(container_dir(id) / "config.json"))
                    .get<ContainerConfig>();
  // Not recorded: the store may have been moved since (--root).
  config.spec.dir = container_dir(id);
  return config;
}

ContainerState Store::load_state(const std::string& id) const {
  return nlohmann::json::parse(core::fs::read_file(container_dir(id) / "state.json"))
      .get<ContainerState>();
}

void Store::save_state(const std::string& id, const ContainerState& state) const {
  core::fs::write_file_atomic(container_dir(id) / "state.json", nlohmann::json(state).dump());
}

std::vector<std::string> Store::list() const {
  std::vector<std::pair<stdfs::file_time_type, std::string>> found;
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(root_ / "containers", ec)) {
    auto name = entry.path().filename().string();
    if (name.size() != 64 || !entry.is_directory()) continue;
    found.emplace_back(stdfs::last_write_time(entry.path() / "config.json", ec), name);
  }
  std::sort(found.begin(), found.end(), std::greater<>());
  std::vector<std::string> ids;
  for (auto& [time, id] : found) ids.push_back(std::move(id));
  return ids;
}

void Store::remove(const std::string& id) const {
  std::error_code ec;
  core::fs::FileLock lock(root_ / "containers" / "lock");
  for (const auto& entry : stdfs::directory_iterator(names_dir(), ec))
    if (name_holder(entry.path()).value_or("") == id) stdfs::remove(entry.path(), ec);
  // Rename first: from here on, no command can find a half-deleted container.
  auto doomed = root_ / "containers" / (".rm-" + id);
  stdfs::rename(container_dir(id), doomed, ec);
  stdfs::remove_all(ec ? container_dir(id) : doomed, ec);
  if (ec) throw core::SystemError(ec.value(), "remove " + container_dir(id).string());
}

}  // namespace skiff::engine
