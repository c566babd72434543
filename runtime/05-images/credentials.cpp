// 05-images/credentials.cpp — skiff's config.json: mirrors, insecure
// registries and the credentials login stores (see registry.hpp).
//
// Format: Docker's ~/.docker/config.json, so that a student's file can be
//   copied across: {"auths": {"127.0.0.1:5000": {"auth": base64("user:pass")}},
//   "registry-mirrors": [...], "insecure-registries": [...]}. (Docker keeps
//   the last two in the daemon's daemon.json; skiff has no daemon, so its one
//   file holds both.) The password is only base64-encoded, not encrypted:
//   hence mode 0600, written whole to a temporary file and renamed.
// Man pages: docker-config-json(5), rename(2), open(2).
// Runs in: the CLI. Privilege: the user's own files.
// Lesson: lessons/05-images ("logging in").
#include <fcntl.h>
#include <nettle/base64.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "05-images/registry.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/fs.hpp"

namespace skiff::images::registry {

using json = nlohmann::json;

namespace {

std::vector<std::string> string_list(const json& raw, const char* key) {
  auto it = raw.find(key);
  if (it == raw.end() || it->is_null()) return {};
  if (!it->is_array()) throw core::Error(std::string("config.json: \"") + key + "\" must be a list");
  std::vector<std::string> out;
  for (const auto& v : *it) out.push_back(v.get<std::string>());
  return out;
}

stdfs::path home_dir() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_dir;
  return "/root";
}

// Writes CONTENT to PATH with mode 0600: a temporary file first (created
// 0600, so the password is never readable by others, not even for a moment),
// then rename(2) over PATH.
void write_private_file(const stdfs::path& path, const std::string& content) {
  if (!stdfs::exists(path.parent_path())) core::fs::make_dirs(path.parent_path(), stdfs::perms::owner_all);
  stdfs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a killed login of ours, long ago, with the same pid
  {
    core::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) throw core::SystemError(errno, "open(" + tmp.string() + ")");
    for (size_t done = 0; done < content.size();) {
      ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw core::SystemError(err, "write(" + tmp.string() + ")");
      }
      done += static_cast<size_t>(n);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw core::SystemError(err, "rename(" + tmp.string() + " → " + path.string() + ")");
  }
}

void save(const stdfs::path& path, const json& raw) { write_private_file(path, raw.dump(1, '\t') + "\n"); }

}  // namespace

stdfs::path config_path() {
  const char* dir = std::getenv("SKIFF_CONFIG");
  return (dir && *dir ? stdfs::path(dir) : home_dir() / ".skiff") / "config.json";
}

std::string encode_auth(const Credentials& c) {
  std::string plain = c.username + ":" + c.password;
  std::string out(BASE64_ENCODE_RAW_LENGTH(plain.size()), '\0');
  base64_encode_raw(out.data(), plain.size(), reinterpret_cast<const uint8_t*>(plain.data()));
  return out;
}

Credentials decode_auth(const std::string& auth) {
  std::string plain(BASE64_DECODE_LENGTH(auth.size()), '\0');
  base64_decode_ctx ctx;
  base64_decode_init(&ctx);
  size_t length = plain.size();
  bool ok = base64_decode_update(&ctx, &length, reinterpret_cast<uint8_t*>(plain.data()), auth.size(),
                                 auth.data()) &&
            base64_decode_final(&ctx);
  plain.resize(length);
  auto colon = plain.find(':');
  if (!ok || colon == std::string::npos)
    throw core::Error("config.json: an \"auth\" entry is not base64 of \"user:password\"");
  return {plain.substr(0, colon), plain.substr(colon + 1)};
}

std::optional<Credentials> ClientConfig::credentials_for(const std::string& registry) const {
  auto auths = raw.find("auths");
  if (auths == raw.end() || !auths->is_object()) return std::nullopt;
  for (const auto& [key, entry] : auths->items()) {
    if (normalize_server(key) != registry || !entry.is_object()) continue;
    std::string auth = entry.value("auth", "");
    if (!auth.empty()) return decode_auth(auth);
  }
  return std::nullopt;
}

ClientConfig load_config(const stdfs::path& path) {
  ClientConfig config;
  auto text = core::fs::read_file_if_exists(path);
  if (!text) return config;
  try {
    config.raw = json::parse(*text);
    if (!config.raw.is_object()) throw core::Error("not a JSON object");
    config.mirrors = string_list(config.raw, "registry-mirrors");
    config.insecure = string_list(config.raw, "insecure-registries");
  } catch (const std::exception& e) {
    throw core::Error("read " + path.string() + ": " + e.what());
  }
  return config;
}

void store_credentials(const stdfs::path& path, const std::string& registry, const Credentials& c) {
  json raw = load_config(path).raw;
  if (!raw["auths"].is_object()) raw["auths"] = json::object();
  // Drop any other spelling of the same registry ("http://host", "host/v1/").
  for (auto it = raw["auths"].begin(); it != raw["auths"].end();)
    it = normalize_server(it.key()) == registry ? raw["auths"].erase(it) : std::next(it);
  raw["auths"][auth_key(registry)] = {{"auth", encode_auth(c)}};
  save(path, raw);
}

bool remove_credentials(const stdfs::path& path, const std::string& registry) {
  json raw = load_config(path).raw;
  if (!raw.contains("auths") || !raw["auths"].is_object()) return false;
  bool removed = false;
  for (auto it = raw["auths"].begin(); it != raw["auths"].end();) {
    bool same = normalize_server(it.key()) == registry;
    removed = removed || same;
    it = same ? raw["auths"].erase(it) : std::next(it);
  }
  if (removed) save(path, raw);
  return removed;
}

}  // namespace skiff::images::registry
