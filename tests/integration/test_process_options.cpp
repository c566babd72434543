// tests/integration/test_process_options.cpp — what `run` sets up for the
// container's process: -e, --env-file, -w, -u, --entrypoint, stdin with -i.
// Lesson: 01-first-container. Needs root.
#include <catch2/catch.hpp>
#include <fstream>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

TEST_CASE("run -e and --env-file set the container's environment") {
  it::require_root();
  it::Sandbox box;
  auto file = box.root() / "env.list";
  std::ofstream(file) << "# a comment\nFROM_FILE=one\n\nSPACED=two words\nBOTH=file\n";
  ::setenv("SKIFF_IT_PASSED", "from-host", 1);
  auto name = box.name("env");
  auto r = box.run({"run", "--name", name, "-e", "A=1", "--env", "BOTH=flag", "-e",
                    "SKIFF_IT_PASSED", "--env-file", file.string(), "busybox", "sh", "-c",
                    "echo $A; echo $FROM_FILE; echo $SPACED; echo $BOTH; echo $SKIFF_IT_PASSED; "
                    "echo $PATH; echo $HOME"});
  auto host = box.run({"run", "-e", "HOSTNAME=chosen", "busybox", "sh", "-c", "echo $HOSTNAME"});
  ::unsetenv("SKIFF_IT_PASSED");
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 7);
  CHECK(out[0] == "1");
  CHECK(out[1] == "one");
  CHECK(out[2] == "two words");
  CHECK(out[3] == "flag");  // -e wins over --env-file
  CHECK(out[4] == "from-host");
  CHECK(contains(out[5], "/bin"));
  CHECK(out[6] == "/root");
  CHECK(host.out == "chosen\n");  // -e HOSTNAME wins over the default, as in Docker
  CHECK(contains(box.inspect(name)["Config"]["Env"].dump(), "\"A=1\""));
}

TEST_CASE("run -w sets the working directory, creating it") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "-w", "/srv/app/data", "busybox", "sh", "-c", "pwd; ls -d ."});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(lines(r.out) == std::vector<std::string>{"/srv/app/data", "."});
  // By default it is /.
  CHECK(trim(box.run({"run", "busybox", "pwd"}).out) == "/");
}

TEST_CASE("run -u runs the process as another user") {
  it::require_root();
  it::Sandbox box;
  auto by_name = box.run({"run", "-u", "nobody", "busybox", "id"});
  INFO(by_name.err);
  REQUIRE(by_name.code == 0);
  CHECK(contains(by_name.out, "uid=65534(nobody)"));
  auto by_ids = box.run({"run", "-u", "1234:5678", "busybox", "sh", "-c", "id -u; id -g"});
  INFO(by_ids.err);
  REQUIRE(by_ids.code == 0);
  CHECK(lines(by_ids.out) == std::vector<std::string>{"1234", "5678"});
  auto root = box.run({"run", "busybox", "id", "-u"});
  CHECK(trim(root.out) == "0");
  // As nobody, root's files stay closed.
  auto denied = box.run({"run", "-u", "nobody", "busybox", "touch", "/root/x"});
  CHECK(denied.code != 0);
  CHECK(contains(denied.err, "denied"));
}

TEST_CASE("run --entrypoint replaces the command, its arguments follow") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "--entrypoint", "echo", "busybox", "hello", "world"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "hello world\n");
  auto name = box.name("ep");
  REQUIRE(box.run({"run", "--name", name, "--entrypoint", "/bin/echo", "busybox"}).code == 0);
  auto j = box.inspect(name);
  CHECK(j["Config"]["Entrypoint"] == nlohmann::json({"/bin/echo"}));
  CHECK(j["Config"]["Cmd"].is_null());  // --entrypoint alone drops the image's Cmd
}

TEST_CASE("run -i passes stdin to the container, without -i stdin is empty") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "-i", "busybox", "sh", "-c", "wc -l"}, "a\nb\nc\n");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(trim(r.out) == "3");
  auto closed = box.run({"run", "busybox", "sh", "-c", "wc -l"}, "a\nb\nc\n");
  REQUIRE(closed.code == 0);
  CHECK(trim(closed.out) == "0");
}
