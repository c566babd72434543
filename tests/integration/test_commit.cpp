// tests/integration/test_commit.cpp — `skiff commit`: a container's changes
// become an image that runs with them (lesson 05-images). What was created,
// changed and deleted (a file of the image, a directory replaced by a new
// one) is what the next container sees; the new image shares its parent's
// layers; a running container is frozen only while it is read. Needs root.
#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "05-images/images.hpp"
#include "harness.hpp"
#include "image_helpers.hpp"

using it::contains;
using it::image_store_files;
using it::trim;
namespace images = skiff::images;
namespace stdfs = std::filesystem;

namespace {

bool is_image_id(const std::string& out) {
  return std::regex_match(out, std::regex("sha256:[0-9a-f]{64}\n"));
}

// Runs a container named WHAT that runs SCRIPT, and commits it as IMAGE.
std::string run_and_commit(it::Sandbox& box, const std::string& what, const std::string& from,
                           const std::string& script, const std::string& image) {
  auto r = box.run({"run", "--name", box.name(what), from, "sh", "-c", script});
  INFO("run stderr: " << r.err);
  REQUIRE(r.code == 0);
  auto c = box.run({"commit", box.name(what), image});
  INFO("commit stderr: " << c.err);
  REQUIRE(c.code == 0);
  CHECK(is_image_id(c.out));
  return trim(c.out);
}

}  // namespace

TEST_CASE("commit keeps what a container created, changed and deleted", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  std::string base = box.name("base") + ":v1";
  run_and_commit(box, "c1", "busybox", "mkdir /data && echo a > /data/a && echo b > /data/b", base);
  std::string next = box.name("next") + ":v2";
  run_and_commit(box, "c2", base,
                 "echo new > /new.txt && chmod 700 /new.txt && echo mod >> /etc/passwd && "
                 "rm /bin/ls && rm -rf /data && mkdir /data && echo c > /data/c",
                 next);
  auto r = box.run({"run", "--rm", next, "sh", "-c",
                    "cat /new.txt; stat -c %a /new.txt; tail -n 1 /etc/passwd; ls /data; "
                    "test -e /bin/ls && echo has-ls || echo no-ls"});
  INFO("stderr: " << r.err);
  CHECK(r.code == 0);
  CHECK(r.out == "new\n700\nmod\nc\nno-ls\n");
  // The parent image is unchanged: its /data still holds a and b.
  r = box.run({"run", "--rm", base, "ls", "/data"});
  CHECK(r.out == "a\nb\n");
}

TEST_CASE("commit -c CMD sets the command the new image runs, and it shares its parent's layers") {
  it::require_root();
  it::Sandbox box;
  std::string image = box.name("cmd") + ":latest";
  auto r = box.run({"run", "--name", box.name("c"), "busybox", "touch", "/made"});
  REQUIRE(r.code == 0);
  auto c = box.run({"commit", "-a", "Ada <ada@example.com>", "-m", "a message", "-c",
                    R"(CMD ["echo","hi"])", box.name("c"), image});
  INFO("commit stderr: " << c.err);
  REQUIRE(c.code == 0);
  CHECK(is_image_id(c.out));
  CHECK(c.err.empty());
  r = box.run({"run", "--rm", image});
  CHECK(r.code == 0);
  CHECK(r.out == "hi\n");

  images::Store store(box.root() / "images");
  auto parent = store.find("busybox");
  auto child = store.find(image);
  REQUIRE(parent);
  REQUIRE(child);
  CHECK(child->id == trim(c.out));
  REQUIRE(child->layers.size() == parent->layers.size() + 1);
  for (size_t i = 0; i < parent->layers.size(); ++i) CHECK(child->layers[i] == parent->layers[i]);
  CHECK(stdfs::exists(child->layers.back() / "made"));
}

TEST_CASE("committing a running container leaves it running, unpaused") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("live");
  auto r = box.run({"run", "-d", "--name", name, "busybox", "sleep", "1000"});
  REQUIRE(r.code == 0);
  box.wait_running(name);
  REQUIRE(box.run({"exec", name, "sh", "-c", "echo alive > /state"}).code == 0);
  for (const std::string pause : {"-p=true", "-p=false"}) {
    std::string image = box.name("live") + (pause == "-p=true" ? ":paused" : ":unpaused");
    auto c = box.run({"commit", pause, name, image});
    INFO(pause << " stderr: " << c.err);
    CHECK(c.code == 0);
    auto state = box.inspect(name)["State"];
    CHECK(state["Running"] == true);
    CHECK(state["Paused"] == false);
    r = box.run({"run", "--rm", image, "cat", "/state"});
    CHECK(r.out == "alive\n");
  }
  CHECK(box.run({"exec", name, "true"}).code == 0);  // not frozen
}

TEST_CASE("commit refuses an unknown container and a bad --change, and stores nothing") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"commit", "no-such-container-x"});
  CHECK(r.code == 1);
  CHECK(trim(r.err) == "skiff: No such container: no-such-container-x");

  auto name = box.name("bad");
  REQUIRE(box.run({"run", "--name", name, "busybox", "touch", "/x"}).code == 0);
  auto before = image_store_files(box);
  r = box.run({"commit", "-c", "FROM busybox", name, box.name("bad") + ":v1"});
  CHECK(r.code == 1);
  CHECK(trim(r.err) == "skiff: FROM is not a valid change command");
  r = box.run({"commit", "-c", "EXPOSE nope", name});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "invalid containerPort: nope"));
  CHECK(image_store_files(box) == before);
  CHECK_FALSE(contains(box.run({"images"}).out, box.name("bad")));
  r = box.run({"commit"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "\"commit\" requires at least 1 and at most 2 arguments"));
}
