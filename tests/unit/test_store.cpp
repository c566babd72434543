// tests/unit/test_store.cpp — the on-disk store in a temporary directory:
// ids, names, resolving what the user typed, records that round-trip, and
// liveness as the kernel reports it. Modules: runtime/engine,
// runtime/01-lifecycle (exit codes, timestamps); lesson 01.
//
// Docker is the reference for names ([a-zA-Z0-9][a-zA-Z0-9_.-]+, the
// "Conflict." message), for resolving (full id, name, unique id prefix) and
// for exit codes (128 + signal).
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "01-lifecycle/lifecycle.hpp"
#include "cli/format.hpp"
#include "core/error.hpp"
#include "engine/container.hpp"
#include "engine/store.hpp"

namespace {

namespace engine = skiff::engine;
namespace launch = skiff::launch;
namespace stdfs = std::filesystem;
using skiff::core::Error;

// A store root of its own, removed with everything in it at scope exit.
struct StoreDir : skiff::testing::TempDir {
  StoreDir() : TempDir("skiff-store") {}
};

// An id made of one repeated prefix, so tests control which prefixes clash.
std::string id_with_prefix(const std::string& prefix) {
  std::string id = prefix;
  while (id.size() < 64) id += '0';
  return id;
}

engine::ContainerConfig config_named(const std::string& name,
                                     const std::string& id = engine::Store::new_id()) {
  engine::ContainerConfig c;
  c.id = id;
  c.name = name;
  c.created = "2024-01-02T03:04:05.123456789Z";
  c.image = "busybox";
  c.image_id = "sha256:" + std::string(64, 'b');
  c.spec.id = id;
  c.spec.hostname = id.substr(0, 12);
  c.spec.process.argv = {"sleep", "1000"};
  return c;
}

// A child process that exists until release() (or destruction) kills and
// reaps it: from then on its pid is a dead one.
class Sleeper {
 public:
  Sleeper() {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      for (;;) ::pause();
    }
  }
  ~Sleeper() { release(); }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  pid_t pid() const { return pid_; }
  void release() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -pid_;   // remembered, negated: dead
  }
  pid_t dead_pid() const { return -pid_; }

 private:
  pid_t pid_ = 0;
};

// The raw waitpid(2) status of a child that runs BODY.
template <typename Body>
int wait_status_of(Body body) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

// ---- ids and names --------------------------------------------------------

TEST_CASE("Store::new_id: 64 lowercase hex digits, never the same twice", "[unit][store]") {
  static const std::regex hex64("[0-9a-f]{64}");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = engine::Store::new_id();
    CHECK(std::regex_match(id, hex64));
    seen.insert(id);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("validate_name: Docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+", "[unit][store]") {
  for (const char* good : {"web-1", "a.b_c", "ab", "0x", "Web_1.2-3", "db--", "x.."}) {
    INFO(good);
    CHECK_NOTHROW(engine::validate_name(good));
  }
  // At least two characters; the first alphanumeric; nothing else allowed.
  for (const char* bad : {"", "a", "-x", "_ab", ".ab", "a/b", "a b", "a:b", "wéb", "web\n"}) {
    INFO(bad);
    CHECK_THROWS_AS(engine::validate_name(bad), Error);
  }
  CHECK_THROWS_WITH(engine::validate_name("-x"),
                    "Invalid container name (-x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
}

// ---- create and resolve ---------------------------------------------------

TEST_CASE("Store: a created container is found by name, id and prefix", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  auto c = config_named("web-1");
  store.create(c);
  CHECK(c.name == "web-1");
  CHECK(stdfs::is_directory(store.container_dir(c.id)));

  CHECK(store.resolve("web-1") == std::optional<std::string>(c.id));
  CHECK(store.resolve(c.id) == std::optional<std::string>(c.id));
  CHECK(store.resolve(c.id.substr(0, 12)) == std::optional<std::string>(c.id));
  CHECK(store.resolve(c.id.substr(0, 1)) == std::optional<std::string>(c.id));
  CHECK(store.resolve("web-2") == std::nullopt);
  CHECK(store.resolve("") == std::nullopt);
  // A prefix of the name is not the name.
  CHECK(store.resolve("web") == std::nullopt);
}

TEST_CASE("Store: a name in use is a Conflict naming the holder", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  auto first = config_named("web");
  store.create(first);
  auto second = config_named("web");
  CHECK_THROWS_WITH(store.create(second),
                    "Conflict. The container name \"/web\" is already in use by container \"" +
                        first.id +
                        "\". You have to remove (or rename) that container to be able to reuse "
                        "that name.");
  // The failed create left nothing behind and did not move the name.
  CHECK_FALSE(stdfs::exists(store.container_dir(second.id)));
  CHECK(store.list() == std::vector<std::string>{first.id});
  CHECK(store.resolve("web") == std::optional<std::string>(first.id));
}

TEST_CASE("Store: no name gets a random adjective_noun", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  static const std::regex docker_like("[a-z]+_[a-z]+[0-9]?");
  std::set<std::string> names;
  for (int i = 0; i < 5; ++i) {
    auto c = config_named("");
    store.create(c);
    INFO(c.name);
    CHECK(std::regex_match(c.name, docker_like));
    CHECK_NOTHROW(engine::validate_name(c.name));
    CHECK(store.resolve(c.name) == std::optional<std::string>(c.id));
    CHECK(store.load_config(c.id).name == c.name);
    names.insert(c.name);
  }
  CHECK(names.size() == 5);
}

TEST_CASE("Store: an ambiguous id prefix is an error", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  auto a = config_named("first", id_with_prefix("abc1"));
  auto b = config_named("second", id_with_prefix("abc2"));
  store.create(a);
  store.create(b);
  CHECK_THROWS_AS(store.resolve("abc"), Error);
  CHECK_THROWS_WITH(store.resolve("ab"), "multiple IDs found with provided prefix: ab");
  CHECK(store.resolve("abc1") == std::optional<std::string>(a.id));
  CHECK(store.resolve("abc2") == std::optional<std::string>(b.id));
  CHECK(store.resolve("abd") == std::nullopt);
  // A name wins over an id prefix it happens to look like.
  auto c = config_named("abc", id_with_prefix("fff"));
  store.create(c);
  CHECK(store.resolve("abc") == std::optional<std::string>(c.id));
}

TEST_CASE("Store::list: every container, newest first", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  CHECK(store.list().empty());
  std::vector<std::string> created;
  for (const char* name : {"one", "two", "three"}) {
    auto c = config_named(name);
    store.create(c);
    created.push_back(c.id);
    // File times tick coarsely (a jiffy): keep the creations apart.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  CHECK(store.list() == std::vector<std::string>{created[2], created[1], created[0]});
}

// ---- records --------------------------------------------------------------

TEST_CASE("Store: config.json round-trips every field", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  auto c = config_named("full");
  c.entrypoint = {"/entry.sh", "--flag"};
  c.cmd = {"serve", "--port", "80"};
  c.env = {"PATH=/usr/bin:/bin", "A=1 2"};
  c.working_dir = "/srv";
  c.user = "nobody:users";
  c.auto_remove = true;
  c.spec.hostname = "myhost";
  c.spec.process.argv = {"/entry.sh", "--flag", "serve", "--port", "80"};
  c.spec.process.env = {"PATH=/usr/bin:/bin", "HOSTNAME=myhost", "A=1 2"};
  c.spec.process.cwd = "/srv";
  c.spec.process.user = "nobody:users";
  c.spec.process.stdin_open = true;
  c.spec.limits = {.memory_bytes = 64LL << 20, .nano_cpus = 1'500'000'000, .pids_limit = 20};
  c.spec.layers = {"/images/layers/aa", "/images/layers/bb"};
  c.spec.upto = launch::Upto::namespaces;
  c.spec.dir = "/somewhere/else";   // not recorded: load_config sets it
  store.create(c);

  auto l = store.load_config(c.id);
  CHECK(l.id == c.id);
  CHECK(l.name == "full");
  CHECK(l.created == c.created);
  CHECK(l.image == "busybox");
  CHECK(l.image_id == c.image_id);
  CHECK(l.entrypoint == c.entrypoint);
  CHECK(l.cmd == c.cmd);
  CHECK(l.env == c.env);
  CHECK(l.working_dir == "/srv");
  CHECK(l.user == "nobody:users");
  CHECK(l.auto_remove);
  CHECK(l.spec.id == c.id);
  CHECK(l.spec.hostname == "myhost");
  CHECK(l.spec.process.argv == c.spec.process.argv);
  CHECK(l.spec.process.env == c.spec.process.env);
  CHECK(l.spec.process.cwd == "/srv");
  CHECK(l.spec.process.user == "nobody:users");
  CHECK(l.spec.process.stdin_open);
  CHECK(l.spec.limits.memory_bytes == 67108864);
  CHECK(l.spec.limits.nano_cpus == 1500000000);
  CHECK(l.spec.limits.pids_limit == 20);
  CHECK(l.spec.layers == std::vector<stdfs::path>{"/images/layers/aa", "/images/layers/bb"});
  CHECK(l.spec.upto == launch::Upto::namespaces);
  CHECK(l.spec.dir == store.container_dir(c.id));
  CHECK(l.spec.dir == dir.path() / "containers" / c.id);

  // The defaults come back as defaults.
  auto d = config_named("plain");
  store.create(d);
  auto ld = store.load_config(d.id);
  CHECK_FALSE(ld.auto_remove);
  CHECK(ld.entrypoint.empty());
  CHECK(ld.spec.upto == launch::Upto::all);
  CHECK(ld.spec.limits.memory_bytes == 0);
  CHECK(ld.spec.process.cwd == "/");
  CHECK_FALSE(ld.spec.process.stdin_open);
}

TEST_CASE("Store: state.json starts as created and round-trips", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  auto c = config_named("stateful");
  store.create(c);

  auto fresh = store.load_state(c.id);
  CHECK(fresh.status == engine::Status::created);
  CHECK(fresh.pid == 0);
  CHECK(fresh.exit_code == 0);
  CHECK_FALSE(fresh.oom_killed);
  CHECK(fresh.error.empty());
  CHECK(fresh.started_at == "0001-01-01T00:00:00Z");
  CHECK(fresh.finished_at == "0001-01-01T00:00:00Z");

  engine::ContainerState s;
  s.status = engine::Status::exited;
  s.pid = 4321;
  s.pid_start_time = 12345678901234ULL;   // wider than 32 bits
  s.monitor_pid = 4320;
  s.monitor_start_time = 12345678901000ULL;
  s.exit_code = 137;
  s.oom_killed = true;
  s.error = "oom: \"quoted\"\nand a newline";
  s.started_at = "2024-01-02T03:04:05.5Z";
  s.finished_at = "2024-01-02T03:04:06.000000001Z";
  store.save_state(c.id, s);

  auto l = store.load_state(c.id);
  CHECK(l.status == engine::Status::exited);
  CHECK(l.pid == 4321);
  CHECK(l.pid_start_time == 12345678901234ULL);
  CHECK(l.monitor_pid == 4320);
  CHECK(l.monitor_start_time == 12345678901000ULL);
  CHECK(l.exit_code == 137);
  CHECK(l.oom_killed);
  CHECK(l.error == s.error);
  CHECK(l.started_at == s.started_at);
  CHECK(l.finished_at == s.finished_at);

  s.status = engine::Status::running;
  store.save_state(c.id, s);
  CHECK(store.load_state(c.id).status == engine::Status::running);
  CHECK(engine::to_string(engine::Status::running) == "running");
  CHECK(engine::to_string(engine::Status::exited) == "exited");
  CHECK(engine::to_string(engine::Status::created) == "created");
}

// ---- remove and stale names -----------------------------------------------

TEST_CASE("Store::remove: the directory and the name go, the name is free", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  auto c = config_named("gone");
  auto keep = config_named("kept");
  store.create(c);
  store.create(keep);
  store.remove(c.id);
  CHECK_FALSE(stdfs::exists(store.container_dir(c.id)));
  CHECK_FALSE(stdfs::exists(stdfs::symlink_status(dir.path() / "containers" / "by-name" / "gone")));
  CHECK(store.resolve("gone") == std::nullopt);
  CHECK(store.resolve(c.id) == std::nullopt);
  CHECK(store.list() == std::vector<std::string>{keep.id});
  CHECK(store.resolve("kept") == std::optional<std::string>(keep.id));

  auto again = config_named("gone");
  CHECK_NOTHROW(store.create(again));
  CHECK(store.resolve("gone") == std::optional<std::string>(again.id));
  // Removing what is already gone is fine.
  CHECK_NOTHROW(store.remove(c.id));
}

TEST_CASE("Store: a name left pointing at nothing does not block it", "[unit][store]") {
  StoreDir dir;
  engine::Store store(dir.path());
  // What a skiff killed between taking the name and renaming the directory
  // into place leaves behind.
  const auto missing = id_with_prefix("dead");
  stdfs::create_directory_symlink("../" + missing, dir.path() / "containers" / "by-name" / "ghost");
  CHECK(store.resolve("ghost") == std::nullopt);
  auto c = config_named("ghost");
  CHECK_NOTHROW(store.create(c));
  CHECK(store.resolve("ghost") == std::optional<std::string>(c.id));
}

// ---- liveness ---------------------------------------------------------------

TEST_CASE("process_start_time: of a live process, and of a gone one", "[unit][store]") {
  CHECK(engine::process_start_time(::getpid()) > 0);
  CHECK(engine::process_start_time(::getpid()) == engine::process_start_time(::getpid()));
  Sleeper child;
  auto start = engine::process_start_time(child.pid());
  CHECK(start > 0);
  CHECK(start >= engine::process_start_time(::getpid()));
  CHECK(engine::process_alive(child.pid(), start));
  CHECK_FALSE(engine::process_alive(child.pid(), start + 1));   // a reused pid
  child.release();
  CHECK(engine::process_start_time(child.dead_pid()) == 0);
  CHECK_FALSE(engine::process_alive(child.dead_pid(), start));
  CHECK_FALSE(engine::process_alive(0, 0));
}

TEST_CASE("observed: running with nothing alive is exited (255)", "[unit][store]") {
  Sleeper container, monitor;
  engine::ContainerState s;
  s.status = engine::Status::running;
  s.pid = container.pid();
  s.pid_start_time = engine::process_start_time(container.pid());
  s.monitor_pid = monitor.pid();
  s.monitor_start_time = engine::process_start_time(monitor.pid());
  s.started_at = "2024-01-02T03:04:05Z";

  // Both alive: running.
  auto both = engine::observed(s);
  CHECK(both.status == engine::Status::running);
  CHECK(both.pid == s.pid);
  CHECK(both.exit_code == 0);

  // The container's process gone, its monitor still there (about to
  // record the exit): still running.
  container.release();
  auto monitor_only = engine::observed(s);
  CHECK(monitor_only.status == engine::Status::running);

  // Both gone (the monitor was SIGKILLed): exited 255, never "Up".
  monitor.release();
  auto none = engine::observed(s);
  CHECK(none.status == engine::Status::exited);
  CHECK(none.exit_code == 255);
  CHECK(none.pid == 0);
  CHECK(none.started_at == s.started_at);
}

TEST_CASE("observed: a live pid keeps running, a reused one does not", "[unit][store]") {
  engine::ContainerState s;
  s.status = engine::Status::running;
  s.pid = ::getpid();
  s.pid_start_time = engine::process_start_time(::getpid());
  auto alive = engine::observed(s);
  CHECK(alive.status == engine::Status::running);
  CHECK(alive.pid == ::getpid());
  CHECK(alive.exit_code == 0);

  // Same number, other start time: some other process got the pid.
  s.pid_start_time += 1;
  auto reused = engine::observed(s);
  CHECK(reused.status == engine::Status::exited);
  CHECK(reused.exit_code == 255);

  // Only "running" records are checked against the kernel.
  engine::ContainerState exited;
  exited.status = engine::Status::exited;
  exited.exit_code = 3;
  CHECK(engine::observed(exited).status == engine::Status::exited);
  CHECK(engine::observed(exited).exit_code == 3);
  engine::ContainerState created;
  CHECK(engine::observed(created).status == engine::Status::created);
  CHECK(engine::observed(created).exit_code == 0);
}

// ---- 01-lifecycle: exit codes and timestamps --------------------------------

TEST_CASE("exit_code_from_wait_status: the code, or 128 + signal", "[unit][store]") {
  namespace lc = skiff::lifecycle;
  CHECK(lc::exit_code_from_wait_status(3 << 8) == 3);
  CHECK(lc::exit_code_from_wait_status(0) == 0);
  CHECK(lc::exit_code_from_wait_status(SIGKILL) == 137);
  // Real statuses from waitpid(2).
  CHECK(lc::exit_code_from_wait_status(wait_status_of([] { ::_exit(3); })) == 3);
  CHECK(lc::exit_code_from_wait_status(wait_status_of([] { ::_exit(255); })) == 255);
  CHECK(lc::exit_code_from_wait_status(wait_status_of([] { ::kill(::getpid(), SIGKILL); })) ==
        137);
  CHECK(lc::exit_code_from_wait_status(wait_status_of([] {
          ::signal(SIGTERM, SIG_DFL);
          ::kill(::getpid(), SIGTERM);
        })) == 143);
}

TEST_CASE("now_rfc3339: UTC, nanoseconds without trailing zeros", "[unit][store]") {
  // Go's RFC3339Nano: up to nine digits, trailing zeros (and a bare '.')
  // dropped, 'Z' for UTC.
  static const std::regex format(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,8}[1-9])?Z)");
  for (int i = 0; i < 20; ++i) {
    auto now = skiff::lifecycle::now_rfc3339();
    INFO(now);
    CHECK(std::regex_match(now, format));
    CHECK(skiff::cli::seconds_since(now) < 2.0);
  }
  auto before = skiff::lifecycle::now_rfc3339();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto after = skiff::lifecycle::now_rfc3339();
  CHECK(skiff::cli::parse_rfc3339(after) > skiff::cli::parse_rfc3339(before));
}
