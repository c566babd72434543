// 05-images/registry.hpp — the registry client: pull, push, login.
//
// Concept: a registry stores blobs and manifests under a repository name and
//   serves them over HTTP (the "registry HTTP API v2"). A pull is:
//     GET /v2/                          is it there, and how do I log in? (401 + WWW-Authenticate)
//     GET  token from the auth server   Bearer: a token for repository:NAME:pull
//     GET /v2/NAME/manifests/TAG        a manifest, or an index of one per platform
//     GET /v2/NAME/blobs/DIGEST         the config and each layer, checked against its digest
//   A push is the same backwards: HEAD a blob (is it there?), POST then PUT
//   it if not, PUT the manifest last, so a tag never names missing blobs.
// Spec: github.com/opencontainers/distribution-spec (spec.md); Docker's
//   token flow (distribution/docs/spec/auth/token.md); RFC 7235
//   (WWW-Authenticate); Docker's config.json (docker-config-json(5)).
// Runs in: the CLI. Privilege: write access to the store for pull; none for
//   login and logout (they write the user's config file).
// Lesson: lessons/05-images ("talking to a registry").
//
// The code: registry.cpp (the pure parts: names, hosts, challenges,
// platforms, manifests, errors), credentials.cpp (config.json),
// registry_session.cpp (a connection with its authentication), pull.cpp,
// push.cpp. HTTP itself is http.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "05-images/http.hpp"
#include "05-images/images.hpp"
#include "05-images/oci.hpp"

namespace skiff::images::registry {

namespace stdfs = std::filesystem;

// Media types of the two kinds of index (a manifest per platform).
inline constexpr const char* kDockerListType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
// The Accept header of a manifest request: every type skiff understands.
std::string accept_header();
bool is_index_type(const std::string& media_type);
bool is_image_manifest_type(const std::string& media_type);

// ---- hosts (registry.cpp) -----------------------------------------------------

inline constexpr const char* kDockerHub = "docker.io";
// Docker Hub's API lives on another host than its name.
inline constexpr const char* kDockerHubApiHost = "registry-1.docker.io";
// The key Docker writes Docker Hub's credentials under in config.json.
inline constexpr const char* kDockerHubAuthKey = "https://index.docker.io/v1/";
// Names the registry that stands in for Docker Hub (host[:port]): a
// classroom's local mirror, or the tests, which must never reach the internet.
inline constexpr const char* kDockerHubEnv = "SKIFF_DOCKER_HUB";

// The host[:port] that serves REGISTRY's API: docker.io → registry-1.docker.io
// (or HUB_OVERRIDE when set), any other name is its own host.
std::string api_host(const std::string& registry, const char* hub_override);
// localhost, 127.0.0.0/8 and ::1, with or without a port.
bool is_loopback(const std::string& host);
// The URLs to try for HOST, in order. Like Docker, a loopback registry or one
// listed in "insecure-registries" may answer over plain http (after https
// without certificate checks); any other only over https.
std::vector<std::string> base_urls(const std::string& host, const std::vector<std::string>& insecure);
// What the user typed to login/logout ("http://127.0.0.1:5000/", "docker.io",
// "index.docker.io") → the registry's name ("127.0.0.1:5000", "docker.io").
std::string normalize_server(const std::string& server);
// The config.json key of a registry's credentials (Docker Hub's is a URL).
std::string auth_key(const std::string& registry);

// ---- authentication challenges (registry.cpp) ----------------------------------

// One challenge of a WWW-Authenticate header: `Bearer realm="…",service="…"`.
struct Challenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // names in lower case
};
// Parses every challenge of the header (RFC 7235: quoted strings, escapes,
// several challenges separated by commas).
std::vector<Challenge> parse_www_authenticate(const std::string& header);
// realm?service=…&scope=… for a token request (scope may be empty).
std::string token_url(const Challenge& bearer, const std::string& scope);

// ---- platforms and manifests (registry.cpp) -----------------------------------

struct Platform {
  std::string os = "linux";
  std::string architecture;  // OCI names: amd64, arm64, arm, 386…
  std::string variant;       // "v8", "v7" or empty
  std::string text() const;  // "linux/arm64/v8"
};
// "linux/arm64/v8", "linux/amd64", "arm64" (os linux); throws core::Error.
Platform parse_platform(const std::string& text);
// This machine: linux/<oci_architecture()>.
Platform host_platform();
// The manifest of INDEX (an OCI index or a Docker list) for PLATFORM; throws
// "no matching manifest for linux/arm64 in the manifest list entries".
oci::Descriptor choose_platform(const nlohmann::json& index, const Platform& platform);

// An image manifest's config and layers, checked: sha256 digests, sizes.
struct ImageManifest {
  oci::Descriptor config;
  std::vector<oci::Descriptor> layers;
};
ImageManifest parse_image_manifest(const std::string& bytes);
// The manifest's media type: its "mediaType" field, else CONTENT_TYPE.
std::string manifest_media_type(const nlohmann::json& manifest, const std::string& content_type);

// ---- errors (registry.cpp) ----------------------------------------------------

// A registry's error body ({"errors":[{"code":"MANIFEST_UNKNOWN","message":
// "manifest unknown"}]}) as Docker words it: "manifest unknown: manifest
// unknown"; without one, "STATUS REASON" ("401 Unauthorized").
std::string error_text(const http::Response& response);
// "Error response from daemon: TEXT": Docker's prefix, kept so that what
// students read and grep matches Docker's output.
std::string daemon_error(const std::string& text);

// ---- config.json: mirrors, insecure registries, credentials (credentials.cpp) ---

struct Credentials {
  std::string username;
  std::string password;
};

// ${SKIFF_CONFIG:-$HOME/.skiff}/config.json
stdfs::path config_path();

struct ClientConfig {
  nlohmann::json raw = nlohmann::json::object();  // the whole file: unknown keys survive a write
  std::vector<std::string> mirrors;               // "registry-mirrors": URLs
  std::vector<std::string> insecure;              // "insecure-registries": host[:port]
  std::optional<Credentials> credentials_for(const std::string& registry) const;
};
// An absent file is an empty config; a malformed one is an error naming it.
ClientConfig load_config(const stdfs::path& path);
// Adds or replaces REGISTRY's credentials; the file is written atomically
// with mode 0600 (it holds a password), its directory made 0700.
void store_credentials(const stdfs::path& path, const std::string& registry, const Credentials& c);
// Removes them; false when there were none.
bool remove_credentials(const stdfs::path& path, const std::string& registry);
// "user:pass" in base64, as "auth" holds it, and back.
std::string encode_auth(const Credentials& c);
Credentials decode_auth(const std::string& auth);

// ---- a connection to one repository of one registry (registry_session.cpp) ---

// Speaks to REPOSITORY on a registry, authenticating as it asks: it pings
// /v2/ to learn the scheme (http or https) and the challenge, fetches a
// Bearer token for "repository:REPOSITORY:ACTIONS" or sends Basic
// credentials, and renews the token once if a request is refused with 401.
// Safe to use from several threads (the download threads of a pull).
class Session {
 public:
  struct Target {
    std::vector<std::string> base_urls;  // tried in order by ping()
    bool verify_tls = true;
    std::string repository;              // "library/busybox"; empty for login
    std::string actions = "pull";        // "pull" or "pull,push"
  };
  Session(Target target, std::optional<Credentials> credentials);

  // GET /v2/; throws daemon_error(…) when no base URL answers.
  void ping();
  // Checks the credentials as login does: 401 from the registry or its token
  // server → "…: unauthorized: incorrect username or password".
  void check_login();
  // Sends REQUEST to base URL + PATH ("/v2/…"), or to an absolute URL, with
  // authentication and retries.
  http::Response send(http::Request request, const std::string& path_or_url);
  const std::string& base_url() const { return base_; }
  const std::string& repository() const { return target_.repository; }

 private:
  std::string authorization();
  void authenticate(const std::vector<Challenge>& challenges, const std::string& scope);
  std::string fetch_token(const Challenge& bearer, const std::string& scope);

  Target target_;
  std::optional<Credentials> credentials_;
  std::string base_;
  std::mutex mutex_;            // guards authorization_
  std::string authorization_;   // "Bearer …", "Basic …" or empty
};

// Where REPOSITORY of REGISTRY is served (api_host, base_urls; certificates
// are checked unless the host is loopback or listed as insecure).
Session::Target target_for(const std::string& registry, const std::string& repository,
                           const std::string& actions, const ClientConfig& config);
// A Docker Hub mirror from "registry-mirrors" ("http://127.0.0.1:5001").
Session::Target mirror_target(const std::string& mirror_url, const std::string& repository,
                              const ClientConfig& config);

// ---- what pull and push report as they go -------------------------------------

// Implemented by the CLI: plain lines, or one line per layer redrawn on a
// terminal. Called from several threads at once.
class Progress {
 public:
  virtual ~Progress() = default;
  // A line of its own: "latest: Pulling from library/busybox".
  virtual void line(const std::string& text) = 0;
  // The state of one layer, by its short id: "Pulling fs layer",
  // "Downloading" (with DONE and TOTAL bytes), "Download complete",
  // "Extracting", "Pull complete", "Already exists", "Pushed"…
  virtual void layer(const std::string& id, const std::string& status, int64_t done = 0,
                     int64_t total = 0) = 0;
};

// ---- pull (pull.cpp) --------------------------------------------------------

struct PullOptions {
  std::optional<Platform> platform;  // default: this machine's
  int parallel_downloads = 3;
};

struct PullResult {
  std::string digest;  // what REF resolved to (the index's digest for an index)
  bool downloaded = false;  // false: "Image is up to date"
  Image image;
};

// Pulls REF into the store IMAGES_DIR (the steps are in pull.cpp). Docker
// Hub's names go to the config's mirrors first, then to Docker Hub (or what
// SKIFF_DOCKER_HUB names). On failure nothing is named and every file the
// pull added is removed again.
PullResult pull(const stdfs::path& images_dir, const Reference& ref, const ClientConfig& config,
                const PullOptions& options, Progress& progress);

// ---- push (push.cpp) --------------------------------------------------------

struct PushResult {
  std::string digest;  // the manifest's
  int64_t size = 0;    // its bytes
};

// Pushes the image named REF (a tag) to its registry: the layers the
// registry lacks, the config, then the manifest under REF's tag.
PushResult push(const stdfs::path& images_dir, const Reference& ref, const ClientConfig& config,
                Progress& progress);

// ---- login (registry_session.cpp) -------------------------------------------

// Checks CREDENTIALS against REGISTRY's /v2/ (Basic, or a token from its auth
// server); throws the registry's refusal.
void check_login(const std::string& registry, const Credentials& credentials, const ClientConfig& config);

}  // namespace skiff::images::registry
