// labs/03-namespaces/grader/checks.cpp — the checks of lab 03 (namespaces).
//
// Each check runs the student's nsbox with the host's /bin/busybox as the
// command, through lab::run() (in a mount namespace of the grader's, so that
// nothing can leak to the host), and compares what the command saw inside
// with what the host sees. A check's points are in its tag.
#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "grading.hpp"

namespace {

using lab::Mounts;
using lab::RunOptions;
namespace stdfs = lab::stdfs;

const std::string kProgram = LAB_PROGRAM;

std::string host_hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// One folder per check, readable by the container's root (the host's uid
// 100000, which the folder's owner, the host's root, is not), with a
// sub-folder it may write to.
struct Box {
  lab::TempDir dir{"lab03"};
  std::string token = lab::random_token(8);
  std::string hostname = "box-" + token;
  stdfs::path shared = dir / "shared";

  Box() {
    stdfs::permissions(dir.path(), stdfs::perms(0755));
    stdfs::create_directory(shared);
    stdfs::permissions(shared, stdfs::perms(0777));
  }
  // nsbox HOSTNAME /bin/busybox sh -c SCRIPT. A wrong nsbox that renames the
  // host gets its name put back (and the uts check says so).
  lab::RunResult sh(const std::string& script, RunOptions options = {},
                    const std::string& name = "") const {
    const auto before = host_hostname();
    auto r = lab::run({kProgram, name.empty() ? hostname : name, "/bin/busybox", "sh", "-c", script},
                      options);
    if (host_hostname() != before) {
      ::sethostname(before.data(), before.size());
      r.err += "\n[grader: the host's hostname was changed; it has been put back]";
    }
    return r;
  }
};

// The first word of every line after the first SKIP lines.
std::vector<std::string> first_words(const std::string& text, std::size_t skip = 0) {
  std::vector<std::string> words;
  const auto all = lab::lines(text);
  for (std::size_t i = skip; i < all.size(); ++i) {
    std::istringstream in(all[i]);
    std::string w;
    if (in >> w) words.push_back(w);
  }
  return words;
}

std::string squeeze(const std::string& text) {  // "  0  100000 65536\n" → "0 100000 65536"
  std::istringstream in(text);
  std::string w, out;
  while (in >> w) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool has_source(const std::vector<lab::Mount>& mounts, const std::string& source) {
  return std::any_of(mounts.begin(), mounts.end(), [&](const auto& m) { return m.source == source; });
}

// A System V message queue of the host's, removed at the end.
struct HostQueue {
  key_t key;
  int id;
  HostQueue() {
    do {
      key = static_cast<key_t>(std::stoul(lab::random_token(7), nullptr, 16) + 1);
      id = ::msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    } while (id < 0 && errno == EEXIST);
  }
  ~HostQueue() {
    if (id >= 0) ::msgctl(id, IPC_RMID, nullptr);
  }
};

}  // namespace

TEST_CASE("uts: the hostname inside is the one given, the host's is unchanged", "[points=15]") {
  Box box;
  const auto host_before = host_hostname();
  const auto r = box.sh("hostname");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("inside, `hostname` must print the name given to nsbox (" << box.hostname << ")");
  CHECK(r.out == box.hostname + "\n");
  INFO("the host's hostname must stay " << host_before);
  CHECK(r.err.find("hostname was changed") == std::string::npos);
}

TEST_CASE("pid: the command is PID 1 of its own pid namespace", "[points=10]") {
  Box box;
  const auto r = box.sh("echo $$");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("inside, the shell's own pid ($$) must be 1");
  CHECK(r.out == "1\n");
}

TEST_CASE("proc: /proc inside lists the container's processes only", "[points=15]") {
  Box box;
  const auto r = box.sh("ls /proc; echo ---; cat /proc/1/cmdline | tr '\\0' ' '");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const auto parts = lab::lines(r.out);
  const auto sep = std::find(parts.begin(), parts.end(), "---");
  REQUIRE(sep != parts.end());
  std::set<long> pids;
  for (auto it = parts.begin(); it != sep; ++it)
    if (!it->empty() && std::all_of(it->begin(), it->end(), ::isdigit)) pids.insert(std::stol(*it));
  std::string listed;
  for (long p : pids) listed += std::to_string(p) + " ";
  INFO("pids listed in /proc inside: " << listed);
  INFO("the shell (PID 1) and the few commands it ran may be there, no process of the host "
       "(the grader is pid " << ::getpid() << " on the host)");
  CHECK(pids.count(1) == 1);
  CHECK(pids.count(::getpid()) == 0);
  CHECK((!pids.empty() && *pids.rbegin() < 10));
  const std::string init = sep + 1 != parts.end() ? *(sep + 1) : "";
  INFO("/proc/1/cmdline inside must be the container's shell, it is: " << init);
  CHECK(init.find("sh -c") != std::string::npos);
}

TEST_CASE("mount: mounts cross neither way between the container and a shared host", "[points=15]") {
  // The host's mounts are shared, as systemd leaves them. The container
  // mounts a tmpfs; once it has started, the host mounts one too; each side
  // then lists what it sees.
  Box box;
  const auto inside_src = "inside-" + box.token, host_src = "host-" + box.token;
  const auto inside_dir = box.dir / "inside", host_dir = box.dir / "host";
  stdfs::create_directory(inside_dir);
  stdfs::create_directory(host_dir);
  const auto started = box.shared / "started", ready = box.dir / "ready";
  const std::string script =
      "mount -t tmpfs " + inside_src + " " + inside_dir.string() + " || exit 3; touch " +
      started.string() + "; i=0; while [ ! -e " + ready.string() +
      " ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; cat /proc/self/mountinfo";
  RunOptions options{.mounts = Mounts::Shared};
  options.while_running = [&] {
    for (int i = 0; i < 200 && !stdfs::exists(started); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (::mount(host_src.c_str(), host_dir.c_str(), "tmpfs", 0, nullptr) != 0)
      throw std::runtime_error("mount tmpfs on " + host_dir.string());
    lab::write_file(ready, "go\n");
  };
  const auto r = box.sh(script, options);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const auto inside = lab::parse_mountinfo(r.out);
  REQUIRE(has_source(inside, inside_src));
  REQUIRE(has_source(r.mounts_after, host_src));
  {
    INFO("a tmpfs mounted inside the container reached the host's mount table:\n"
         << lab::describe(r.mounts_after));
    CHECK_FALSE(has_source(r.mounts_after, inside_src));
  }
  {
    INFO("a tmpfs the host mounted on " << host_dir.string()
         << " after the container started was seen inside: its mounts are not private");
    CHECK_FALSE(has_source(inside, host_src));
  }
}

TEST_CASE("ipc: a System V message queue of the host is not visible inside", "[points=10]") {
  Box box;
  HostQueue queue;
  REQUIRE(queue.id >= 0);
  const auto key = std::to_string(queue.key);
  const auto host_keys = first_words(lab::read_file("/proc/sysvipc/msg"), 1);
  REQUIRE(std::count(host_keys.begin(), host_keys.end(), key) == 1);
  const auto r = box.sh("cat /proc/sysvipc/msg");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const auto keys = first_words(r.out, 1);
  INFO("the host's queue with key " << key << " is listed in /proc/sysvipc/msg inside");
  CHECK(std::count(keys.begin(), keys.end(), key) == 0);
}

TEST_CASE("net: the only network device inside is lo", "[points=10]") {
  Box box;
  const auto r = box.sh("cat /proc/net/dev");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::set<std::string> devices;
  for (const auto& w : first_words(r.out, 2)) devices.insert(w.substr(0, w.find(':')));
  std::string listed;
  for (const auto& d : devices) listed += d + " ";
  INFO("devices in /proc/net/dev inside: " << listed);
  CHECK(devices == std::set<std::string>{"lo"});
}

TEST_CASE("user: root inside is uid and gid 100000 on the host", "[points=15]") {
  Box box;
  const auto file = box.shared / ("made-inside-" + box.token);
  const auto r = box.sh("id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; "
                        "touch " + file.string());
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const auto out = lab::lines(r.out);
  REQUIRE(out.size() == 5);
  INFO("inside, `id -u` and `id -g` must print 0");
  CHECK(out[0] == "0");
  CHECK(out[1] == "0");
  INFO("/proc/self/uid_map and gid_map inside must both read \"0 100000 65536\"");
  CHECK(squeeze(out[2]) == "0 100000 65536");
  CHECK(squeeze(out[3]) == "0 100000 65536");
  INFO("/proc/self/setgroups inside must read \"deny\": root inside may not drop its groups");
  CHECK(out[4] == "deny");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  INFO("a file the container's root made is owned, on the host, by uid " << st.st_uid << " gid "
       << st.st_gid << "; expected 100000 and 100000");
  CHECK(st.st_uid == 100000);
  CHECK(st.st_gid == 100000);
}

TEST_CASE("errors: a hostname the kernel refuses stops nsbox with exit code 125", "[points=10]") {
  Box box;
  const std::string too_long(80, 'x');  // the kernel's limit is 64 bytes
  const auto r = box.sh("echo SHOULD-NOT-RUN", {}, too_long);
  INFO(r.describe());
  const bool command_ran = r.out.find("SHOULD-NOT-RUN") != std::string::npos;
  INFO("the command must not run when its hostname cannot be set");
  CHECK_FALSE(command_ran);
  CHECK(r.exit_code == 125);
  INFO("stderr must say why (strerror: Invalid argument)");
  CHECK(r.err.find("Invalid argument") != std::string::npos);
}
