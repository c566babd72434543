// tests/registry/fixture.hpp — a real registry on loopback for the registry
// tests, and everything it needs, each owned by an object that takes it down
// (process stopped and reaped, directory removed) even when a check fails.
//
//   regtest::LocalRegistry reg;              // docker-registry on 127.0.0.1:<free port>
//   reg.seed_busybox(box, "busybox");        // skopeo copy from box's store
//   reg.make_images("layers");               // tests/registry/make-images.sh
//   regtest::TokenServer tokens(reg);        // Bearer tokens in front of it
//   regtest::EnvVar config("SKIFF_CONFIG", dir);   // restored afterwards
//
// Network safety: every server listens on 127.0.0.1 only; Docker Hub's
// stand-in (SKIFF_DOCKER_HUB) is set by it::Sandbox to a closed loopback port.
// Implemented in tests/integration/test_registry_fixture.cpp. Lesson: 05-images.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "../integration/harness.hpp"

namespace regtest {

namespace stdfs = std::filesystem;

// A directory of the test's own, removed with what is in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "skiff-reg");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const stdfs::path& path() const { return path_; }

 private:
  stdfs::path path_;
};

// Sets an environment variable for the test's lifetime (skiff inherits it).
class EnvVar {
 public:
  EnvVar(std::string name, const std::string& value);
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;
  ~EnvVar();

 private:
  std::string name_;
  std::optional<std::string> before_;
};

// A child process with its output in LOG, stopped (SIGTERM, then SIGKILL)
// and reaped by the destructor.
class Server {
 public:
  Server(const std::vector<std::string>& argv, const stdfs::path& log);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();
  bool running();

 private:
  pid_t pid_ = -1;
};

// Runs ARGV (no shell), its stdout and stderr together; a tool that cannot
// be found gives code 127.
struct ToolResult {
  int code = -1;
  std::string output;
};
ToolResult run_tool(const std::vector<std::string>& argv);

// Debian's docker-registry serving a temporary storage directory over plain
// http on 127.0.0.1:<free port>. With USER set, it asks for Basic
// credentials (an htpasswd file made with bcrypt, as the registry wants).
class LocalRegistry {
 public:
  struct Options {
    std::optional<std::pair<std::string, std::string>> basic_auth;  // user, password
  };
  LocalRegistry() : LocalRegistry(Options{}) {}
  explicit LocalRegistry(const Options& options);
  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"
  stdfs::path storage() const { return dir_.path() / "storage"; }
  std::string log() const;  // every request it served so far
  // The path of blob DIGEST in the registry's storage (to corrupt it).
  stdfs::path blob_data(const std::string& digest) const;
  // Copies the built-in busybox of BOX's store to ADDRESS/NAME:latest.
  void seed_busybox(it::Sandbox& box, const std::string& name) const;
  // tests/registry/make-images.sh: "layers", "multi".
  void make_images(const std::string& what) const;

 private:
  TempDir dir_;
  std::string address_;
  std::optional<std::pair<std::string, std::string>> auth_;
  std::optional<Server> server_;
};

// tests/registry/token_server.py in front of BACKEND: Bearer tokens, anonymous
// for pull; with USER:PASS for push.
class TokenServer {
 public:
  TokenServer(const LocalRegistry& backend, const std::string& user_colon_password);
  const std::string& address() const { return address_; }
  std::string log() const;

 private:
  TempDir dir_;
  std::string address_;
  std::optional<Server> server_;
};

// Occurrences of NEEDLE in HAYSTACK.
size_t count(const std::string& haystack, const std::string& needle);
// Every file under the store's images/ with its size, except the lock: what
// a failed pull must leave as it was.
std::vector<std::string> store_files(const it::Sandbox& box);
// A free TCP port on 127.0.0.1 (bound, read, released).
int free_port();

}  // namespace regtest
