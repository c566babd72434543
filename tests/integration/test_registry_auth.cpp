// tests/integration/test_registry_auth.cpp — login, logout and pulls that
// need credentials: a docker-registry asking for Basic credentials
// (htpasswd), and one behind Bearer tokens (tests/registry/token_server.py,
// Docker Hub's flow). Lesson: 05-images. Needs root.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "../registry/fixture.hpp"
#include "core/fs.hpp"
#include "harness.hpp"

using it::contains;
using it::lines;
using regtest::EnvVar;
using regtest::LocalRegistry;
using regtest::TempDir;

namespace {

struct ClientConfig {
  TempDir dir{"skiff-reg-config"};
  EnvVar env{"SKIFF_CONFIG", dir.path().string()};
  std::filesystem::path file() const { return dir.path() / "config.json"; }
  nlohmann::json read() const {
    std::string text = it::read_file(file());
    return text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
  }
};

// base64("user:pass"), as Docker's config.json holds it.
constexpr const char* kUserPassBase64 = "dXNlcjpwYXNz";

}  // namespace

TEST_CASE("basic auth: refused without login, a wrong password stores nothing, login then pull, logout", "[registry]") {
  it::require_root();
  it::Sandbox seeder, box;
  ClientConfig config;
  LocalRegistry reg(LocalRegistry::Options{std::make_pair(std::string("user"), std::string("pass"))});
  reg.seed_busybox(seeder, "private");
  auto name = reg.address() + "/private";

  auto refused = box.run({"pull", name});
  CHECK(refused.code == 1);
  CHECK(lines(refused.err).size() == 1);
  CHECK(contains(refused.err, "unauthorized"));

  auto wrong = box.run({"login", "-u", "user", "--password-stdin", reg.address()}, "wrong\n");
  INFO("wrong: " << wrong.out << wrong.err);
  CHECK(wrong.code == 1);
  CHECK(contains(wrong.err, "Error response from daemon:"));
  CHECK(contains(wrong.err, "401 Unauthorized"));
  CHECK(!contains(wrong.out, "Login Succeeded"));
  CHECK(!std::filesystem::exists(config.file()));

  auto ok = box.run({"login", "-u", "user", "--password-stdin", "http://" + reg.address() + "/"}, "pass\n");
  INFO("login: " << ok.out << ok.err);
  REQUIRE(ok.code == 0);
  CHECK(ok.out == "Login Succeeded\n");
  CHECK(config.read()["auths"][reg.address()]["auth"] == kUserPassBase64);
  struct stat st {};
  REQUIRE(::stat(config.file().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto pulled = box.run({"pull", name});
  INFO("pull: " << pulled.out << pulled.err);
  CHECK(pulled.code == 0);
  CHECK(contains(pulled.out, "Status: Downloaded newer image for " + name + ":latest"));

  auto out = box.run({"logout", reg.address()});
  CHECK(out.code == 0);
  CHECK(out.out == "Removing login credentials for " + reg.address() + "\n");
  CHECK(!config.read()["auths"].contains(reg.address()));
  CHECK(box.run({"logout", reg.address()}).out == "Not logged in to " + reg.address() + "\n");
  CHECK(box.run({"pull", reg.address() + "/private:other"}).code == 1);
}

TEST_CASE("login keeps the rest of config.json and refuses a bad command line", "[registry]") {
  it::require_root();
  it::Sandbox box;
  ClientConfig config;
  LocalRegistry reg(LocalRegistry::Options{std::make_pair(std::string("user"), std::string("pass"))});
  skiff::core::fs::write_file_atomic(config.file(), R"({"registry-mirrors": ["http://127.0.0.1:9"], "x": 1})");
  auto ok = box.run({"login", "-u", "user", "-p", "pass", reg.address()});
  REQUIRE(ok.code == 0);
  CHECK(contains(ok.err, "WARNING! Using --password via the CLI is insecure"));
  auto j = config.read();
  CHECK(j["x"] == 1);
  CHECK(j["registry-mirrors"][0] == "http://127.0.0.1:9");
  CHECK(j["auths"][reg.address()]["auth"] == kUserPassBase64);

  auto both = box.run({"login", "-u", "user", "-p", "x", "--password-stdin", reg.address()}, "x\n");
  CHECK(both.code == 1);
  CHECK(contains(both.err, "--password and --password-stdin are mutually exclusive"));
  auto no_user = box.run({"login", "--password-stdin", reg.address()}, "x\n");
  CHECK(no_user.code == 1);
  CHECK(contains(no_user.err, "Must provide --username with --password-stdin"));
  auto no_tty = box.run({"login", reg.address()});
  CHECK(no_tty.code == 1);
  CHECK(contains(no_tty.err, "Cannot perform an interactive login from a non TTY device"));
  CHECK(config.read()["auths"][reg.address()]["auth"] == kUserPassBase64);
}

TEST_CASE("bearer tokens: an anonymous pull fetches a token, push needs a login through the token server", "[registry]") {
  it::require_root();
  it::Sandbox seeder, box, other;
  ClientConfig config;
  LocalRegistry backend;
  backend.seed_busybox(seeder, "library/tokened");
  regtest::TokenServer front(backend, "user:pass");
  auto name = front.address() + "/library/tokened";

  auto r = box.run({"pull", name});
  INFO("pull: " << r.out << r.err << "\ntoken server: " << front.log());
  REQUIRE(r.code == 0);
  CHECK(contains(front.log(), "GET /token?service=skiff-test&scope=repository%3Alibrary%2Ftokened%3Apull"));
  CHECK(box.run({"run", "--rm", name, "true"}).code == 0);

  // An anonymous token allows pull only.
  auto denied = box.run({"push", name});
  CHECK(denied.code == 1);
  CHECK(lines(denied.err).size() == 1);
  CHECK(contains(denied.err, "unauthorized: authentication required"));

  auto wrong = box.run({"login", "-u", "user", "--password-stdin", front.address()}, "nope\n");
  CHECK(wrong.code == 1);
  CHECK(contains(wrong.err, "unauthorized: incorrect username or password"));

  auto login = box.run({"login", "-u", "user", "--password-stdin", front.address()}, "pass\n");
  INFO("login: " << login.out << login.err);
  REQUIRE(login.code == 0);
  auto pushed = box.run({"push", name});
  INFO("push: " << pushed.out << pushed.err);
  CHECK(pushed.code == 0);
  CHECK(contains(pushed.out, "Layer already exists"));
  CHECK(contains(lines(pushed.out).back(), "latest: digest: sha256:"));
  CHECK(contains(front.log(), "PUT /v2/library/tokened/manifests/latest"));
}
