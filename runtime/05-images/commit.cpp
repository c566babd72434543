// 05-images/commit.cpp — `skiff commit` (see commit.hpp).
//
// Lesson: lessons/05-images. The steps, the first one while the container is
// frozen, the others under the store lock:
//
//   upper dir → layer tar (diff.cpp) → blob → unpacked layer dir →
//   config (parent's + changes + one diff_id + one history entry) →
//   manifest (parent's layers + this one) → name in index.json
//
// As in import.cpp, everything before the last step only adds files that
// nothing points at yet, so a failure removes them and the store is as it was.
#include "05-images/commit.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>

#include "05-images/diff.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images {

using json = nlohmann::json;
namespace stdfs = std::filesystem;

PendingLayer::~PendingLayer() {
  std::error_code ec;
  if (!file_.empty()) stdfs::remove(file_, ec);
}

namespace {

// What skiff mounts over in every container (launch/child.cpp: the
// container's own /etc/hostname and /etc/hosts; 02-chroot: /dev, /proc,
// /sys). When the image lacks them, overlayfs records the empty mount points
// in the upper dir; they are the runtime's, not the container's changes
// (Docker keeps them in an "init layer" that commit leaves out).
const std::vector<std::string> kMountPoints = {"etc/hostname", "etc/hosts", "etc/resolv.conf",
                                               "dev", "proc", "sys"};

}  // namespace

PendingLayer diff_container(const stdfs::path& images_dir, const stdfs::path& upper) {
  oci::Layout(images_dir).init();
  static std::atomic<int> counter{0};
  auto file = images_dir / ("commit.tmp-" + std::to_string(::getpid()) + "-" +
                            std::to_string(counter++));
  stdfs::remove(file);  // a killed commit of ours, long ago, with the same pid
  DiffId diff = write_layer_from_upper(upper, file, kMountPoints);
  return PendingLayer(file, diff);
}

// ---- --change: Dockerfile instructions ----------------------------------------

namespace {

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Words as a Dockerfile splits them: whitespace separates, quotes group
// (and are removed), a backslash escapes the next character.
std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && quote != '\'') {
      word += text[++i];
      in_word = true;
    } else if (quote != 0) {
      if (c == quote) quote = 0;
      else word += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::exchange(word, {}));
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) throw core::Error("unterminated quote in \"" + text + "\"");
  if (in_word) words.push_back(word);
  return words;
}

// "K=V K2='v 2'" → pairs; the legacy "K rest of the line" → one pair.
std::vector<std::pair<std::string, std::string>> name_values(const std::string& keyword,
                                                             const std::string& args) {
  auto words = split_words(args);
  std::vector<std::pair<std::string, std::string>> out;
  if (!words.empty() && words[0].find('=') == std::string::npos) {
    size_t space = args.find_first_of(" \t");
    if (space == std::string::npos)
      throw core::Error(keyword + " must have two arguments: " + keyword + " " + args);
    out.emplace_back(words[0], trim(args.substr(space)));
    return out;
  }
  for (const auto& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos)
      throw core::Error("Syntax error - can't find = in \"" + w +
                        "\". Must be of the form: name=value");
    if (eq == 0) throw core::Error(keyword + " names can not be blank");
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

// The exec form ["a","b"] when ARGS is a JSON array of strings; otherwise
// nullopt (Docker then takes the text as the shell form).
std::optional<std::vector<std::string>> exec_form(const std::string& args) {
  if (args.empty() || args[0] != '[') return std::nullopt;
  json j = json::parse(args, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : j) {
    if (!e.is_string()) return std::nullopt;
    out.push_back(e.get<std::string>());
  }
  return out;
}

json command_of(const std::string& args) {
  if (auto exec = exec_form(args)) return *exec;
  return json::array({"/bin/sh", "-c", args});
}

void set_env(json& config, const std::string& key, const std::string& value) {
  json env = config.value("Env", json::array());
  if (!env.is_array()) env = json::array();
  std::string entry = key + "=" + value;
  for (auto& e : env)
    if (e.is_string() && e.get<std::string>().starts_with(key + "=")) {
      e = entry;
      config["Env"] = env;
      return;
    }
  env.push_back(entry);
  config["Env"] = env;
}

// "80", "80/tcp", "53/udp", "8000-8010/tcp" → "80/tcp" …
std::string exposed_port(const std::string& word) {
  std::string port = word, proto = "tcp";
  if (auto slash = word.find('/'); slash != std::string::npos) {
    port = word.substr(0, slash);
    proto = word.substr(slash + 1);
    for (auto& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto valid_number = [](const std::string& n) {
    if (n.empty() || n.size() > 5 || n.find_first_not_of("0123456789") != std::string::npos)
      return false;
    int v = std::stoi(n);
    return v >= 1 && v <= 65535;
  };
  auto dash = port.find('-');
  bool ok = dash == std::string::npos
                ? valid_number(port)
                : valid_number(port.substr(0, dash)) && valid_number(port.substr(dash + 1));
  if (!ok) throw core::Error("invalid containerPort: " + port);
  if (proto != "tcp" && proto != "udp" && proto != "sctp")
    throw core::Error("invalid proto: " + proto);
  return port + "/" + proto;
}

struct ChangeState {
  bool cmd_set = false;
};

void apply_one(json& config, const std::string& keyword, const std::string& args,
               ChangeState& state) {
  if (keyword == "CMD") {
    config["Cmd"] = command_of(args);
    state.cmd_set = true;
  } else if (keyword == "ENTRYPOINT") {
    config["Entrypoint"] = command_of(args);
    if (!state.cmd_set) config.erase("Cmd");  // a new entrypoint drops the old arguments
  } else if (keyword == "ENV") {
    for (const auto& [k, v] : name_values(keyword, args)) set_env(config, k, v);
  } else if (keyword == "LABEL") {
    for (const auto& [k, v] : name_values(keyword, args)) config["Labels"][k] = v;
  } else if (keyword == "WORKDIR") {
    stdfs::path dir = args;
    if (dir.is_relative()) dir = stdfs::path(config.value("WorkingDir", "/")) / dir;
    config["WorkingDir"] = dir.lexically_normal().string();
  } else if (keyword == "USER") {
    config["User"] = args;
  } else if (keyword == "EXPOSE") {
    for (const auto& w : split_words(args)) config["ExposedPorts"][exposed_port(w)] = json::object();
  } else if (keyword == "VOLUME") {
    auto dirs = exec_form(args).value_or(split_words(args));
    for (const auto& d : dirs) config["Volumes"][d] = json::object();
  } else if (keyword == "STOPSIGNAL") {
    config["StopSignal"] = args;
  } else if (keyword == "HEALTHCHECK" || keyword == "ONBUILD") {
    throw core::Error(keyword + " is not supported by skiff commit --change yet");
  } else {
    throw core::Error(keyword + " is not a valid change command");
  }
}

}  // namespace

json apply_changes(json config, const std::vector<std::string>& changes) {
  if (!config.is_object()) config = json::object();
  ChangeState state;
  for (const auto& change : changes) {
    std::string line = trim(change);
    size_t space = line.find_first_of(" \t");
    std::string keyword = line.substr(0, space);
    for (auto& c : keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string args = space == std::string::npos ? "" : trim(line.substr(space));
    if (keyword.empty()) throw core::Error("empty change: expected a Dockerfile instruction");
    if (args.empty()) throw core::Error(keyword + " requires at least one argument");
    apply_one(config, keyword, args, state);
  }
  return config;
}

// ---- the new image ---------------------------------------------------------------

namespace {

void set_or_erase(json& config, const char* key, const std::vector<std::string>& value) {
  if (value.empty()) config.erase(key);
  else config[key] = value;
}
void set_or_erase(json& config, const char* key, const std::string& value) {
  if (value.empty()) config.erase(key);
  else config[key] = value;
}

// Docker's rule: the image gets the container's own settings (its -e, its
// command…), then the --change instructions on top.
json runtime_section(const json& parent, const CommitRequest& r) {
  json config = parent.value("config", json::object());
  if (!config.is_object()) config = json::object();
  set_or_erase(config, "Env", r.container.env);
  set_or_erase(config, "Entrypoint", r.container.entrypoint);
  set_or_erase(config, "Cmd", r.container.cmd);
  set_or_erase(config, "WorkingDir", r.container.working_dir);
  set_or_erase(config, "User", r.container.user);
  return apply_changes(config, r.changes);
}

json history_entry(const CommitRequest& r, const std::string& created) {
  json h = {{"created", created}, {"created_by", r.created_by}};
  if (!r.author.empty()) h["author"] = r.author;
  if (!r.comment.empty()) h["comment"] = r.comment;
  return h;
}

}  // namespace

json committed_config_json(const json& parent, const CommitRequest& r, const std::string& diff_id,
                           const std::string& created) {
  json out = parent;
  out["created"] = created;
  if (!r.author.empty()) out["author"] = r.author;
  else out.erase("author");
  // Docker's image config also carries the message at the top (`inspect`
  // shows it as "Comment"); OCI readers ignore the key.
  if (!r.comment.empty()) out["comment"] = r.comment;
  else out.erase("comment");
  out["config"] = runtime_section(parent, r);
  json diff_ids = parent.contains("rootfs") ? parent["rootfs"].value("diff_ids", json::array())
                                            : json::array();
  diff_ids.push_back(diff_id);
  out["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  json history = parent.value("history", json::array());
  if (!history.is_array()) history = json::array();
  history.push_back(history_entry(r, created));
  out["history"] = history;
  return out;
}

namespace {

using detail::Undo;

// Now, to the nanosecond, as Docker writes it.
std::string now_rfc3339() {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  char nanos[16];
  std::snprintf(nanos, sizeof nanos, ".%09ld", static_cast<long>(now.tv_nsec));
  std::string text = detail::rfc3339(now.tv_sec);
  return text.insert(text.size() - 1, nanos);
}

// The manifest of the image whose id (config digest) is ID.
json parent_manifest(const oci::Layout& layout, const std::string& id) {
  for (const auto& d : layout.read_index()) {
    if (d.media_type != oci::kManifestType && d.media_type != oci::kDockerManifestType) continue;
    json m = oci::parse_json(layout.read_blob(d), "manifest " + d.digest);
    if (m.contains("config") && m["config"].value("digest", "") == id) return m;
  }
  throw core::Error("the container's image " + id + " is no longer in the store");
}

json new_manifest(const json& parent, const oci::Descriptor& config, const oci::Descriptor& layer) {
  json layers = parent.value("layers", json::array());
  layers.push_back(oci::descriptor_to_json(layer));
  return {{"schemaVersion", 2},
          {"mediaType", oci::kManifestType},
          {"config", oci::descriptor_to_json(config)},
          {"layers", layers}};
}

// The layer tar becomes a blob (a rename: it is already in the store) and
// an unpacked layer directory.
oci::Descriptor store_layer(const oci::Layout& layout, const stdfs::path& dir,
                            const PendingLayer& layer, Undo& undo) {
  oci::Descriptor d{oci::kLayerTarType, layer.diff().digest, layer.diff().size, {}};
  auto blob = layout.blob_path(d.digest);
  undo.add_if_new(blob);
  if (::rename(layer.file().c_str(), blob.c_str()) < 0)
    throw core::SystemError(errno, "rename(" + layer.file().string() + " → " + blob.string() + ")");
  auto unpacked = unpacked_layer_dir(dir, d.digest);
  undo.add_if_new(unpacked);
  undo.add_if_new(stdfs::path(unpacked.string() + ".size"));
  install_own_layer(dir, blob, layer.diff());
  return d;
}

std::string commit_locked(const stdfs::path& dir, const PendingLayer& layer,
                          const CommitRequest& request) {
  oci::Layout layout(dir);
  json parent = parent_manifest(layout, request.parent_id);
  oci::Descriptor parent_config = oci::descriptor_from_json(parent.at("config"));
  json parent_config_json = oci::parse_json(layout.read_blob(parent_config), "config " + parent_config.digest);
  json config_json = committed_config_json(parent_config_json, request, layer.diff().digest,
                                           now_rfc3339());
  Undo undo;
  oci::Descriptor layer_desc = store_layer(layout, dir, layer, undo);
  std::string config_text = config_json.dump();
  undo.add_if_new(layout.blob_path("sha256:" + oci::sha256_hex(config_text)));
  auto config = layout.put_blob(oci::kConfigType, config_text);
  std::string manifest_text = new_manifest(parent, config, layer_desc).dump();
  undo.add_if_new(layout.blob_path("sha256:" + oci::sha256_hex(manifest_text)));
  auto manifest = layout.put_blob(oci::kManifestType, manifest_text);
  detail::name_image(layout, manifest, request.name);
  undo.commit();
  return config.digest;
}

}  // namespace

std::string commit_image(const stdfs::path& dir, PendingLayer layer, const CommitRequest& request) {
  if (request.name && !request.name->digest.empty())
    throw core::Error("refusing to create a tag with a digest reference");
  apply_changes(json::object(), request.changes);  // bad input: refused before anything is stored
  core::fs::FileLock lock(dir / "lock");
  return commit_locked(dir, layer, request);
}

}  // namespace skiff::images
