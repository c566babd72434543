// tests/integration/test_registry.cpp — pull, push and `run` of a missing
// image against a real registry (Debian's docker-registry) on loopback:
// tags and digests, up to date, layers with deleted files, platforms, a
// corrupted blob, mirrors. Lesson: 05-images. Needs root.
#include <catch2/catch.hpp>
#include <regex>

#include "../registry/fixture.hpp"
#include "core/fs.hpp"
#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;
using regtest::EnvVar;
using regtest::LocalRegistry;
using regtest::TempDir;

namespace {

// A client config of the test's own: no user's ~/.skiff is read.
struct ClientConfig {
  TempDir dir{"skiff-reg-config"};
  EnvVar env{"SKIFF_CONFIG", dir.path().string()};
  void write(const std::string& json) const { skiff::core::fs::write_file_atomic(dir.path() / "config.json", json); }
};

std::string digest_in(const std::string& out) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("Digest: (sha256:[0-9a-f]{64})\n")));
  return m[1];
}

std::string image_id(it::Sandbox& box, const std::string& name) {
  auto r = box.run({"images", "-q", "--no-trunc", name});
  REQUIRE(r.code == 0);
  return trim(r.out);
}

bool has_line(const std::string& out, const std::string& pattern) {
  for (const auto& l : lines(out))
    if (std::regex_match(l, std::regex(pattern))) return true;
  return false;
}

// What a refused pull must show: one line on stderr, Docker's exit code,
// and the store exactly as it was.
void check_refused_pull(it::Sandbox& box, const std::vector<std::string>& args, const std::string& message) {
  auto before = regtest::store_files(box);
  auto r = box.run(args);
  INFO("stdout: " << r.out << "stderr: " << r.err);
  CHECK(r.code == 1);
  CHECK(lines(r.err).size() == 1);
  CHECK(contains(r.err, message));
  CHECK(regtest::store_files(box) == before);
}

}  // namespace

TEST_CASE("pull by tag shows Docker's lines, and a second pull is up to date and downloads nothing", "[registry]") {
  it::require_root();
  it::Sandbox seeder, box;
  ClientConfig config;
  LocalRegistry reg;
  reg.seed_busybox(seeder, "busybox");
  auto name = reg.address() + "/busybox";

  auto r = box.run({"pull", name});
  INFO("stdout: " << r.out << "stderr: " << r.err);
  REQUIRE(r.code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() >= 6);
  CHECK(out[0] == "Using default tag: latest");
  CHECK(out[1] == "latest: Pulling from busybox");
  CHECK(has_line(r.out, "[0-9a-f]{12}: Pull complete"));
  CHECK(has_line(r.out, "Digest: sha256:[0-9a-f]{64}"));
  CHECK(has_line(r.out, "Status: Downloaded newer image for " + name + ":latest"));
  CHECK(out.back() == name + ":latest");
  CHECK(image_id(box, name) == image_id(seeder, "busybox"));
  auto ran = box.run({"run", "--rm", name, "echo", "from the registry"});
  CHECK(ran.out == "from the registry\n");

  auto blobs_before = regtest::count(reg.log(), "/blobs/sha256:");
  auto again = box.run({"pull", name + ":latest"});
  INFO("second pull: " << again.out << again.err);
  CHECK(again.code == 0);
  CHECK(contains(again.out, "Status: Image is up to date for " + name + ":latest"));
  CHECK(!contains(again.out, "Pull complete"));
  CHECK(!contains(again.out, "Using default tag"));
  CHECK(digest_in(again.out) == digest_in(r.out));
  CHECK(regtest::count(reg.log(), "/blobs/sha256:") == blobs_before);

  SECTION("-q prints the name only") {
    auto quiet = box.run({"pull", "-q", name});
    CHECK(quiet.code == 0);
    CHECK(quiet.out == name + ":latest\n");
  }
}

TEST_CASE("pull by digest checks the digest, and the image runs by name@digest", "[registry]") {
  it::require_root();
  it::Sandbox seeder, first, box;
  ClientConfig config;
  LocalRegistry reg;
  reg.seed_busybox(seeder, "busybox");
  auto name = reg.address() + "/busybox";
  auto digest = digest_in(first.run({"pull", name}).out);

  auto r = box.run({"pull", name + "@" + digest});
  INFO("stdout: " << r.out << "stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(lines(r.out).front() == digest + ": Pulling from busybox");
  CHECK(digest_in(r.out) == digest);
  CHECK(trim(lines(r.out).back()) == name + "@" + digest);
  CHECK(box.run({"run", "--rm", name + "@" + digest, "true"}).code == 0);
  // As docker images shows it: the repository, no tag, and the digest.
  auto row = lines(box.run({"images", "--digests", name}).out);
  REQUIRE(row.size() == 2);
  CHECK(std::regex_search(row[1], std::regex("^" + std::regex_replace(name, std::regex("[.]"), "\\.") +
                                             " +<none> +" + digest + " ")));
  // Named by its repository, it is not dangling: image prune keeps it.
  CHECK(box.run({"images", "-q", "-f", "dangling=true"}).out.empty());

  // A digest the registry does not hold: refused, nothing stored.
  check_refused_pull(box, {"pull", name + "@sha256:" + std::string(64, '0')}, "not found");
}

TEST_CASE("a pulled image of three layers runs without the files its later layers deleted", "[registry]") {
  it::require_root();
  it::Sandbox box;
  ClientConfig config;
  LocalRegistry reg;
  reg.make_images("layers");
  auto name = reg.address() + "/layers";

  auto r = box.run({"pull", name});
  INFO("stdout: " << r.out << "stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(regtest::count(r.out, ": Pull complete") == 3);
  auto ls = box.run({"run", "--rm", name, "sh", "-c", "ls -a /etc /etc/dir; busybox cat /srv/data"});
  INFO("ls: " << ls.out << ls.err);
  REQUIRE(ls.code == 0);
  CHECK(contains(ls.out, "kept"));
  CHECK(contains(ls.out, "added"));
  CHECK(contains(ls.out, "new"));
  CHECK(contains(ls.out, "data"));
  // Deleted by layer 2: neither the files nor their whiteout entries show.
  CHECK(!contains(ls.out, "gone"));
  CHECK(!contains(ls.out, "old"));
  CHECK(!contains(ls.out, ".wh."));
}

TEST_CASE("pull --platform picks the manifest of an index, and a platform it lacks is refused cleanly", "[registry]") {
  it::require_root();
  it::Sandbox native, arm;
  ClientConfig config;
  LocalRegistry reg;
  reg.make_images("multi");
  auto name = reg.address() + "/multi";

  auto r = native.run({"pull", name});
  INFO("stdout: " << r.out << "stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(native.run({"run", "--rm", name, "busybox", "cat", "/etc/platform"}).out == "native\n");

  for (const std::string platform : {"linux/arm64", "linux/arm64/v8"}) {
    auto a = arm.run({"pull", "--platform", platform, name});
    INFO(platform << ": " << a.out << a.err);
    REQUIRE(a.code == 0);
    CHECK(arm.run({"run", "--rm", name, "busybox", "cat", "/etc/platform"}).out == "arm64\n");
    // The index's digest is what was pulled, whichever platform.
    CHECK(digest_in(a.out) == digest_in(r.out));
  }
  check_refused_pull(arm, {"pull", "--platform", "linux/s390x", name},
                     "no matching manifest for linux/s390x in the manifest list entries");
  check_refused_pull(arm, {"pull", "--platform", "linux/arm64/v7", name}, "no matching manifest for linux/arm64/v7");
}

TEST_CASE("Docker's own formats pull too: a schema 2 manifest list of schema 2 manifests", "[registry]") {
  it::require_root();
  it::Sandbox box;
  ClientConfig config;
  LocalRegistry reg;
  reg.make_images("multi");
  // skopeo rewrites the OCI index and manifests as Docker's manifest list
  // and schema 2 manifests (gzip layers), as Docker Hub serves them.
  auto converted = regtest::run_tool({"skopeo", "copy", "-q", "--all", "--format", "v2s2",
                                      "--src-tls-verify=false", "--dest-tls-verify=false",
                                      "docker://" + reg.address() + "/multi:latest",
                                      "docker://" + reg.address() + "/docker-v2:latest"});
  INFO(converted.output);
  REQUIRE(converted.code == 0);
  auto name = reg.address() + "/docker-v2";
  auto r = box.run({"pull", name});
  INFO("stdout: " << r.out << "stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(box.run({"run", "--rm", name, "busybox", "cat", "/etc/platform"}).out == "native\n");
  // The store keeps the manifest as the registry sent it, type included.
  auto index = nlohmann::json::parse(it::read_file(box.root() / "images" / "index.json"));
  bool docker_manifest = false;
  for (const auto& m : index["manifests"])
    docker_manifest = docker_manifest || m["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json";
  CHECK(docker_manifest);
  auto a = box.run({"pull", "--platform", "linux/arm64", name});
  CHECK(a.code == 0);
  CHECK(box.run({"run", "--rm", name, "busybox", "cat", "/etc/platform"}).out == "arm64\n");
}

TEST_CASE("on a terminal, pull redraws one progress line per layer", "[registry]") {
  it::require_root();
  it::Sandbox box;
  ClientConfig config;
  LocalRegistry reg;
  reg.make_images("layers");
  // script(1) gives the pull a pseudo-terminal and copies what it draws.
  auto r = regtest::run_tool({"env", "SKIFF_ROOT=" + box.root().string(), "script", "-qec",
                              std::string(SKIFF_BIN) + " pull " + reg.address() + "/layers", "/dev/null"});
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(regtest::count(r.output, ": Pulling fs layer") == 3);
  // Each layer's line is rewritten in place: cursor up, clear the line.
  CHECK(contains(r.output, "\x1b[3A\r\x1b[2K"));
  CHECK(std::regex_search(r.output, std::regex("[0-9a-f]{12}: Downloading \\[=+>? *\\] +[0-9.]+[kM]?B/")));
  CHECK(regtest::count(r.output, "Pull complete") == 3);
  CHECK(contains(r.output, "Status: Downloaded newer image for " + reg.address() + "/layers:latest"));
}

TEST_CASE("a blob corrupted in the registry is refused and the pull leaves nothing", "[registry]") {
  it::require_root();
  it::Sandbox box;
  ClientConfig config;
  LocalRegistry reg;
  reg.make_images("layers");
  auto name = reg.address() + "/layers";
  // The top layer's bytes change on the registry's disk, its name does not.
  auto manifest = regtest::run_tool({"skopeo", "inspect", "--tls-verify=false", "docker://" + name});
  REQUIRE(manifest.code == 0);
  auto layers = nlohmann::json::parse(manifest.output)["Layers"];
  auto data = reg.blob_data(layers.back().get<std::string>());
  std::string bytes = it::read_file(data);
  REQUIRE(!bytes.empty());
  bytes[bytes.size() / 2] ^= 0x55;
  skiff::core::fs::write_file_atomic(data, bytes);
  REQUIRE(box.run({"images"}).code == 0);  // the store exists before

  check_refused_pull(box, {"pull", name}, "verification failed for digest " + layers.back().get<std::string>());
  CHECK(!contains(box.run({"images"}).out, name));
  std::vector<std::string> temps;
  for (const auto& e : std::filesystem::directory_iterator(box.root() / "images"))
    if (contains(e.path().filename().string(), ".tmp")) temps.push_back(e.path());
  CHECK(temps.empty());
}

TEST_CASE("an unknown repository or tag: Docker's message, exit 1 for pull and 125 for run", "[registry]") {
  it::require_root();
  it::Sandbox seeder, box;
  ClientConfig config;
  LocalRegistry reg;
  reg.seed_busybox(seeder, "busybox");
  REQUIRE(box.run({"images"}).code == 0);
  check_refused_pull(box, {"pull", reg.address() + "/busybox:nope"},
                     "Error response from daemon: manifest for " + reg.address() +
                         "/busybox:nope not found: manifest unknown");
  check_refused_pull(box, {"pull", reg.address() + "/nosuch"}, "not found");

  auto before = regtest::store_files(box);
  auto r = box.run({"run", "--rm", reg.address() + "/busybox:nope", "true"});
  CHECK(r.code == 125);
  CHECK(r.out.empty());
  auto err = lines(r.err);
  REQUIRE(err.size() == 2);
  CHECK(err[0] == "Unable to find image '" + reg.address() + "/busybox:nope' locally");
  CHECK(contains(err[1], "manifest unknown"));
  CHECK(regtest::store_files(box) == before);
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
}

TEST_CASE("run of a missing image pulls it, with the pull's lines on stderr only", "[registry]") {
  it::require_root();
  it::Sandbox seeder, box;
  ClientConfig config;
  LocalRegistry reg;
  reg.seed_busybox(seeder, "tools/busybox");
  auto name = reg.address() + "/tools/busybox";
  auto r = box.run({"run", "--rm", name, "echo", "hello"});
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "hello\n");
  CHECK(lines(r.err).front() == "Unable to find image '" + name + ":latest' locally");
  CHECK(contains(r.err, "latest: Pulling from tools/busybox"));
  CHECK(contains(r.err, "Status: Downloaded newer image for " + name + ":latest"));
  // Now it is there: no pull the second time.
  auto again = box.run({"run", "--rm", name, "echo", "again"});
  CHECK(again.out == "again\n");
  CHECK(again.err.empty());
}

TEST_CASE("push to a local registry, then pull into another store: the same image and digest", "[registry]") {
  it::require_root();
  it::Sandbox from, to;
  ClientConfig config;
  LocalRegistry reg;
  reg.make_images("layers");
  auto pulled = reg.address() + "/layers";
  REQUIRE(from.run({"pull", "-q", pulled}).code == 0);
  // A second image to push: an import of a small tarball under the new name.
  TempDir files("skiff-reg-push");
  auto tarball = files.path() / "rootfs.tar";
  REQUIRE(regtest::run_tool({"tar", "-C", SKIFF_SOURCE_DIR "/tests/registry", "-cf", tarball.string(), "."}).code == 0);
  auto name = reg.address() + "/pushed:v1";
  REQUIRE(from.run({"import", tarball.string(), name}).code == 0);

  auto r = from.run({"push", name});
  INFO("stdout: " << r.out << "stderr: " << r.err);
  REQUIRE(r.code == 0);
  auto out = lines(r.out);
  CHECK(out.front() == "The push refers to repository [" + reg.address() + "/pushed]");
  CHECK(has_line(r.out, "[0-9a-f]{12}: Pushed"));
  std::smatch m;
  REQUIRE(std::regex_match(out.back(), m, std::regex("v1: digest: (sha256:[0-9a-f]{64}) size: ([0-9]+)")));
  std::string pushed_digest = m[1];
  // The push gave the image its repo digest, as Docker records it.
  auto repo_digests = from.inspect(name)["RepoDigests"];
  CHECK(repo_digests == nlohmann::json::array({reg.address() + "/pushed@" + pushed_digest}));

  auto again = from.run({"push", name});
  CHECK(again.code == 0);
  CHECK(has_line(again.out, "[0-9a-f]{12}: Layer already exists"));
  CHECK(!contains(again.out, "Pushed"));

  auto p = to.run({"pull", name});
  INFO("pull: " << p.out << p.err);
  REQUIRE(p.code == 0);
  CHECK(digest_in(p.out) == pushed_digest);
  CHECK(image_id(to, name) == image_id(from, name));

  SECTION("a pulled image pushed under its own name has every layer already") {
    auto back = from.run({"push", pulled});
    CHECK(back.code == 0);
    CHECK(regtest::count(back.out, "Layer already exists") == 3);
  }
  SECTION("pushing a name the store lacks is refused, exit 1") {
    auto none = from.run({"push", reg.address() + "/nothing"});
    CHECK(none.code == 1);
    CHECK(contains(none.err, "An image does not exist locally with the tag: " + reg.address() + "/nothing"));
  }
}

TEST_CASE("Docker Hub names are pulled from the configured mirror, and from Docker Hub's stand-in when it fails", "[registry]") {
  it::require_root();
  it::Sandbox seeder, box, fallback;
  ClientConfig config;
  LocalRegistry mirror;
  mirror.seed_busybox(seeder, "library/hello");
  // The mirror answers: Docker Hub's stand-in is a closed port, never reached.
  EnvVar hub("SKIFF_DOCKER_HUB", "127.0.0.1:9");
  config.write(R"({"registry-mirrors": ["http://)" + mirror.address() + R"("]})");
  auto r = box.run({"pull", "hello"});
  INFO("stdout: " << r.out << "stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(lines(r.out).back() == "docker.io/library/hello:latest");
  CHECK(contains(r.out, "latest: Pulling from library/hello"));
  CHECK(contains(mirror.log(), "GET /v2/library/hello/manifests/latest"));
  CHECK(box.run({"run", "--rm", "hello", "true"}).code == 0);

  // A dead mirror: the pull falls back to Docker Hub, here the same local
  // registry standing in for it.
  EnvVar hub_here("SKIFF_DOCKER_HUB", mirror.address());
  config.write(R"({"registry-mirrors": ["http://127.0.0.1:9"]})");
  auto f = fallback.run({"pull", "hello"});
  INFO("fallback: " << f.out << f.err);
  CHECK(f.code == 0);
  CHECK(lines(f.out).back() == "docker.io/library/hello:latest");
}
