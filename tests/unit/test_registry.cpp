// tests/unit/test_registry.cpp — the pure parts of the registry client:
// hosts and schemes, WWW-Authenticate challenges, platforms, manifests,
// registry errors, config.json. No network, no root. Lesson: 05-images.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "05-images/registry.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "temp_dir.hpp"

namespace registry = skiff::images::registry;
using json = nlohmann::json;

TEST_CASE("Docker Hub's API is on registry-1.docker.io unless a stand-in is named", "[registry]") {
  CHECK(registry::api_host("docker.io", nullptr) == "registry-1.docker.io");
  CHECK(registry::api_host("docker.io", "") == "registry-1.docker.io");
  CHECK(registry::api_host("docker.io", "127.0.0.1:5000") == "127.0.0.1:5000");
  CHECK(registry::api_host("quay.io", "127.0.0.1:5000") == "quay.io");
  CHECK(registry::api_host("127.0.0.1:5000", nullptr) == "127.0.0.1:5000");
}

TEST_CASE("loopback and insecure registries may use plain http, others https only", "[registry]") {
  CHECK(registry::is_loopback("localhost:5000"));
  CHECK(registry::is_loopback("127.0.0.1"));
  CHECK(registry::is_loopback("127.1.2.3:80"));
  CHECK(registry::is_loopback("[::1]:5000"));
  CHECK(!registry::is_loopback("10.0.0.1:5000"));
  CHECK(!registry::is_loopback("127.example.com"));  // not an address: a name
  using V = std::vector<std::string>;
  CHECK(registry::base_urls("127.0.0.1:5000", {}) == V{"https://127.0.0.1:5000", "http://127.0.0.1:5000"});
  CHECK(registry::base_urls("registry-1.docker.io", {}) == V{"https://registry-1.docker.io"});
  CHECK(registry::base_urls("reg.lan:5000", {"reg.lan:5000"}) == V{"https://reg.lan:5000", "http://reg.lan:5000"});
  CHECK(registry::base_urls("reg.lan:5000", {"reg.lan"}) == V{"https://reg.lan:5000"});
}

TEST_CASE("login's server argument is normalized, and Docker Hub's key is Docker's URL", "[registry]") {
  CHECK(registry::normalize_server("http://127.0.0.1:5000/") == "127.0.0.1:5000");
  CHECK(registry::normalize_server("https://reg.lan/v2/") == "reg.lan");
  CHECK(registry::normalize_server("index.docker.io") == "docker.io");
  CHECK(registry::normalize_server("https://index.docker.io/v1/") == "docker.io");
  CHECK(registry::normalize_server("registry-1.docker.io") == "docker.io");
  CHECK(registry::auth_key("docker.io") == "https://index.docker.io/v1/");
  CHECK(registry::auth_key("127.0.0.1:5000") == "127.0.0.1:5000");
}

TEST_CASE("WWW-Authenticate: Bearer and Basic challenges, quoted values, several at once", "[registry]") {
  auto c = registry::parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "bearer");
  CHECK(c[0].params["realm"] == "https://auth.docker.io/token");
  CHECK(c[0].params["service"] == "registry.docker.io");
  CHECK(c[0].params["scope"] == "repository:library/busybox:pull");

  auto basic = registry::parse_www_authenticate(R"(Basic realm="my \"quoted\" realm")");
  REQUIRE(basic.size() == 1);
  CHECK(basic[0].scheme == "basic");
  CHECK(basic[0].params["realm"] == R"(my "quoted" realm)");

  auto two = registry::parse_www_authenticate(R"(Basic realm="a", BEARER Realm=http://t/token , service="s")");
  REQUIRE(two.size() == 2);
  CHECK(two[0].params["realm"] == "a");
  CHECK(two[1].scheme == "bearer");
  CHECK(two[1].params["realm"] == "http://t/token");
  CHECK(two[1].params["service"] == "s");

  CHECK(registry::parse_www_authenticate("").empty());
}

TEST_CASE("a token URL adds service and scope, encoded, to the realm", "[registry]") {
  registry::Challenge c{"bearer", {{"realm", "http://127.0.0.1:1/token"}, {"service", "my reg"}}};
  CHECK(registry::token_url(c, "repository:library/x:pull,push") ==
        "http://127.0.0.1:1/token?service=my%20reg&scope=repository%3Alibrary%2Fx%3Apull%2Cpush");
  registry::Challenge with_query{"bearer", {{"realm", "http://h/token?a=1"}}};
  CHECK(registry::token_url(with_query, "") == "http://h/token?a=1");
  CHECK_THROWS_WITH(registry::token_url({"bearer", {}}, "x"),
                    Catch::Contains("names no realm"));
}

TEST_CASE("the platform option is os/arch with an optional variant, linux only", "[registry]") {
  auto p = registry::parse_platform("linux/arm64/v8");
  CHECK(p.os == "linux");
  CHECK(p.architecture == "arm64");
  CHECK(p.variant == "v8");
  CHECK(registry::parse_platform("linux/AMD64").text() == "linux/amd64");
  CHECK(registry::parse_platform("arm64").text() == "linux/arm64");
  CHECK_THROWS_WITH(registry::parse_platform("linux//v8"), Catch::Contains("expected os/arch[/variant]"));
  CHECK_THROWS_WITH(registry::parse_platform("a/b/c/d"), Catch::Contains("expected os/arch[/variant]"));
  CHECK_THROWS_WITH(registry::parse_platform("windows/amd64"), Catch::Contains("linux images only"));
  CHECK(registry::host_platform().os == "linux");
  CHECK(!registry::host_platform().architecture.empty());
}

namespace {

json index_of_three() {
  auto entry = [](char fill, json platform) {
    return json{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"digest", "sha256:" + std::string(64, fill)},
                {"size", 500},
                {"platform", platform}};
  };
  return {{"schemaVersion", 2},
          {"mediaType", "application/vnd.oci.image.index.v1+json"},
          {"manifests",
           {entry('a', {{"os", "linux"}, {"architecture", "amd64"}}),
            entry('b', {{"os", "linux"}, {"architecture", "arm64"}}),
            entry('c', {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v7"}})}}};
}

}  // namespace

TEST_CASE("the manifest of an index is chosen by os, architecture and variant", "[registry]") {
  auto index = index_of_three();
  CHECK(registry::choose_platform(index, {"linux", "amd64", ""}).digest == "sha256:" + std::string(64, 'a'));
  // arm64's default variant is v8: an entry without a variant is v8.
  CHECK(registry::choose_platform(index, {"linux", "arm64", "v8"}).digest == "sha256:" + std::string(64, 'b'));
  CHECK(registry::choose_platform(index, {"linux", "arm", "v7"}).digest == "sha256:" + std::string(64, 'c'));
  CHECK(registry::choose_platform(index, {"linux", "arm", ""}).digest == "sha256:" + std::string(64, 'c'));
  CHECK_THROWS_WITH(registry::choose_platform(index, {"linux", "arm", "v6"}),
                    "no matching manifest for linux/arm/v6 in the manifest list entries");
  CHECK_THROWS_WITH(registry::choose_platform(index, {"linux", "s390x", ""}),
                    "no matching manifest for linux/s390x in the manifest list entries");
  index["manifests"][0]["digest"] = "md5:abc";
  CHECK_THROWS_WITH(registry::choose_platform(index, {"linux", "amd64", ""}), Catch::Contains("not a sha256 digest"));
}

TEST_CASE("an image manifest is parsed and checked, its media type taken from it or the header", "[registry]") {
  std::string d1 = "sha256:" + std::string(64, '1'), d2 = "sha256:" + std::string(64, '2');
  json m = {{"schemaVersion", 2},
            {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
            {"config", {{"mediaType", "application/vnd.docker.container.image.v1+json"}, {"digest", d1}, {"size", 10}}},
            {"layers", {{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"}, {"digest", d2}, {"size", 20}}}}};
  auto parts = registry::parse_image_manifest(m.dump());
  CHECK(parts.config.digest == d1);
  REQUIRE(parts.layers.size() == 1);
  CHECK(parts.layers[0].size == 20);
  CHECK(registry::manifest_media_type(m, "text/plain") == "application/vnd.docker.distribution.manifest.v2+json");
  m.erase("mediaType");
  CHECK(registry::manifest_media_type(m, "application/vnd.oci.image.manifest.v1+json; charset=utf-8") ==
        "application/vnd.oci.image.manifest.v1+json");
  CHECK(registry::is_image_manifest_type("application/vnd.oci.image.manifest.v1+json"));
  CHECK(registry::is_index_type("application/vnd.docker.distribution.manifest.list.v2+json"));
  CHECK(!registry::is_index_type("application/vnd.oci.image.manifest.v1+json"));

  CHECK_THROWS_WITH(registry::parse_image_manifest(R"({"schemaVersion": 1, "fsLayers": []})"),
                    Catch::Contains("not an image manifest of schema version 2"));
  m["layers"][0]["digest"] = "sha256:short";
  CHECK_THROWS_WITH(registry::parse_image_manifest(m.dump()), Catch::Contains("not a sha256 digest"));
  CHECK_THROWS(registry::parse_image_manifest("not json"));
  // Every type skiff reads is in the Accept header.
  for (const char* t : {"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json",
                        "application/vnd.docker.distribution.manifest.v2+json"})
    CHECK(registry::accept_header().find(t) != std::string::npos);
}

TEST_CASE("a registry's error body is worded as Docker words it", "[registry]") {
  skiff::images::http::Response r;
  r.status = 404;
  r.body = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]})";
  CHECK(registry::error_text(r) == "manifest unknown: manifest unknown");
  r.status = 401;
  r.body = "<html>nope</html>";
  CHECK(registry::error_text(r) == "401 Unauthorized");
  r.status = 599;
  r.body = "";
  CHECK(registry::error_text(r) == "599");
  CHECK(registry::daemon_error("x") == "Error response from daemon: x");
}

TEST_CASE("config.json: credentials stored 0600 beside the keys skiff does not know, then removed", "[registry]") {
  skiff::testing::TempDir dir;
  auto path = dir.path() / "sub" / "config.json";
  CHECK(registry::load_config(path).raw.empty());  // absent: empty
  skiff::core::fs::make_dirs(path.parent_path());
  skiff::core::fs::write_file_atomic(
      path, R"({"registry-mirrors": ["http://127.0.0.1:5001"], "insecure-registries": ["reg.lan:5000"],)"
            R"( "auths": {"http://127.0.0.1:5000/v2/": {"auth": "b2xkOm9sZA=="}}, "credsStore": "x"})");
  auto config = registry::load_config(path);
  CHECK(config.mirrors == std::vector<std::string>{"http://127.0.0.1:5001"});
  CHECK(config.insecure == std::vector<std::string>{"reg.lan:5000"});
  auto old = config.credentials_for("127.0.0.1:5000");
  REQUIRE(old);
  CHECK(old->username == "old");
  CHECK(old->password == "old");
  CHECK(!config.credentials_for("docker.io"));

  registry::store_credentials(path, "127.0.0.1:5000", {"user", "p:ss"});
  registry::store_credentials(path, "docker.io", {"hub", "secret"});
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  json raw = json::parse(skiff::core::fs::read_file(path));
  CHECK(raw["credsStore"] == "x");
  CHECK(raw["registry-mirrors"][0] == "http://127.0.0.1:5001");
  CHECK(!raw["auths"].contains("http://127.0.0.1:5000/v2/"));  // the old spelling is replaced
  CHECK(raw["auths"]["127.0.0.1:5000"]["auth"] == registry::encode_auth({"user", "p:ss"}));
  CHECK(raw["auths"].contains("https://index.docker.io/v1/"));
  auto creds = registry::load_config(path).credentials_for("127.0.0.1:5000");
  REQUIRE(creds);
  CHECK(creds->password == "p:ss");  // only the first ':' separates

  CHECK(registry::remove_credentials(path, "127.0.0.1:5000"));
  CHECK(!registry::remove_credentials(path, "127.0.0.1:5000"));
  CHECK(!registry::load_config(path).credentials_for("127.0.0.1:5000"));
  CHECK(registry::load_config(path).credentials_for("docker.io")->username == "hub");
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path()))
    CHECK(e.path().filename() == "config.json");  // no temporary file left
}

TEST_CASE("config.json: base64 of user:pass both ways, and a malformed file named in the error", "[registry]") {
  CHECK(registry::encode_auth({"user", "pass"}) == "dXNlcjpwYXNz");
  auto c = registry::decode_auth("dXNlcjpwYXNz");
  CHECK(c.username == "user");
  CHECK(c.password == "pass");
  CHECK_THROWS_WITH(registry::decode_auth("!!!"), Catch::Contains("not base64"));
  CHECK_THROWS_WITH(registry::decode_auth("bm9jb2xvbg=="), Catch::Contains("not base64"));  // "nocolon"
  skiff::testing::TempDir dir;
  auto path = dir.path() / "config.json";
  skiff::core::fs::write_file_atomic(path, "{not json");
  CHECK_THROWS_WITH(registry::load_config(path), Catch::Contains(path.string()));
  skiff::core::fs::write_file_atomic(path, R"({"registry-mirrors": "http://x"})");
  CHECK_THROWS_WITH(registry::load_config(path), Catch::Contains("must be a list"));
}
