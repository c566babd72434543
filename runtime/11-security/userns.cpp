// 11-security/userns.cpp — see userns.hpp.
#include "11-security/userns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"

namespace skiff::security {
namespace {

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using CapState = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

// Enough for every id a Debian image uses, nobody (65534) included.
constexpr uint32_t kMaxIds = 65536;

bool parse_number(const std::string& text, uint32_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Reads one byte from FD; false if the other end went away.
bool await(int fd) {
  char c;
  ssize_t n;
  do n = ::read(fd, &c, 1);
  while (n < 0 && errno == EINTR);
  return n == 1;
}

void signal_to(int fd) {
  const char c = '.';
  (void)!::write(fd, &c, 1);
}

// The helper: makes the user namespace, waits for its maps, makes the
// namespaces it is to own, then waits to be killed.
[[noreturn]] void namespace_holder(int up, int down) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::unshare(CLONE_NEWUSER) < 0) ::_exit(1);
  signal_to(up);
  if (!await(down)) ::_exit(1);
  if (::unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) < 0) ::_exit(2);
  signal_to(up);
  await(down);
  ::_exit(0);
}

core::Fd open_ns(pid_t pid, const char* name) {
  return core::Fd(core::sys::open("/proc/" + std::to_string(pid) + "/ns/" + name, O_RDONLY));
}

}  // namespace

IdRange subordinate_range(const std::string& text, const std::string& user, const std::string& file) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto a = line.find(':'), b = line.find(':', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos || line.substr(0, a) != user) continue;
    uint32_t start = 0, count = 0;
    if (!parse_number(line.substr(a + 1, b - a - 1), start) || !parse_number(line.substr(b + 1), count) ||
        count == 0)
      continue;
    return {start, std::min(count, kMaxIds)};
  }
  throw core::Error("no subordinate range for \"" + user + "\" in " + file + ": add one, e.g. \"" + user +
                    ":100000:65536\" (usermod --add-subuids and --add-subgids do it)");
}

Userns parse_userns(const std::string& value, const std::function<std::string(const std::string&)>& read) {
  Userns u;
  u.mode = value;
  if (value.empty() || value == "host") return u;
  if (value != "remap" && !value.starts_with("remap:"))
    throw core::Error("invalid argument \"" + value + "\" for \"--userns\" flag: expected host or remap[:USER]");
  std::string user = value == "remap" ? "skiff" : value.substr(6);
  auto uid_file = env_or("SKIFF_SUBUID", "/etc/subuid"), gid_file = env_or("SKIFF_SUBGID", "/etc/subgid");
  u.uids = subordinate_range(read(uid_file), user, uid_file);
  u.gids = subordinate_range(read(gid_file), user, gid_file);
  return u;
}

void to_json(nlohmann::json& j, const Userns& u) {
  j = {{"Mode", u.mode}, {"Uid", u.uids.outside}, {"Gid", u.gids.outside}, {"Count", u.uids.count},
       {"GidCount", u.gids.count}};
}

void from_json(const nlohmann::json& j, Userns& u) {
  u.mode = j.value("Mode", std::string());
  u.uids = {j.value("Uid", 0u), j.value("Count", 0u)};
  u.gids = {j.value("Gid", 0u), j.value("GidCount", 0u)};
}

OwnedNamespaces make_user_namespace(const Userns& userns) {
  core::trace::Step step("11-security", "make the user namespace: uid 0 inside is " +
                                            std::to_string(userns.uids.outside) + " outside");
  int up[2], down[2];
  if (::pipe2(up, O_CLOEXEC) < 0 || ::pipe2(down, O_CLOEXEC) < 0) throw core::SystemError(errno, "pipe2");
  core::Fd up_read(up[0]), up_write(up[1]), down_read(down[0]), down_write(down[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw core::SystemError(errno, "fork");
  if (pid == 0) namespace_holder(up_write.get(), down_read.get());
  up_write.reset();
  down_read.reset();
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  } reaper{pid};
  if (!await(up_read.get())) throw core::Error("could not make a user namespace (unshare(CLONE_NEWUSER) failed)");
  std::string proc = "/proc/" + std::to_string(pid);
  // One line each; the kernel needs no newline after the last.
  auto map = [](const IdRange& r) { return "0 " + std::to_string(r.outside) + " " + std::to_string(r.count); };
  core::sys::write_file(proc + "/uid_map", map(userns.uids));
  core::sys::write_file(proc + "/gid_map", map(userns.gids));
  signal_to(down_write.get());
  if (!await(up_read.get())) throw core::Error("could not make the namespaces the user namespace owns");
  core::trace::call("unshare(CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWIPC) inside it");
  OwnedNamespaces ns;
  ns.user = open_ns(pid, "user");
  ns.net = open_ns(pid, "net");
  ns.uts = open_ns(pid, "uts");
  ns.ipc = open_ns(pid, "ipc");
  return ns;
}

void join_owned_namespaces(const OwnedNamespaces& ns) {
  core::sys::setns(ns.net.get(), CLONE_NEWNET, "net, owned by the user namespace");
  core::sys::setns(ns.uts.get(), CLONE_NEWUTS, "uts, owned by the user namespace");
  core::sys::setns(ns.ipc.get(), CLONE_NEWIPC, "ipc, owned by the user namespace");
}

ActAsRangeRoot::ActAsRangeRoot(const Userns& userns) {
  core::trace::call("setfsgid(" + std::to_string(userns.gids.outside) + "), setfsuid(" +
                    std::to_string(userns.uids.outside) + ")");
  ::setfsgid(userns.gids.outside);
  ::setfsuid(userns.uids.outside);
  // A fsuid other than 0 drops the file capabilities from the effective
  // set (capabilities(7)); the overlay needs them to copy any file up.
  CapState caps(cap_get_proc());
  cap_value_t all[CAP_LAST_CAP + 1];
  int n = 0;
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    cap_flag_value_t v;
    if (cap_get_flag(caps.get(), c, CAP_PERMITTED, &v) == 0 && v == CAP_SET) all[n++] = c;
  }
  cap_set_flag(caps.get(), CAP_EFFECTIVE, n, all, CAP_SET);
  if (cap_set_proc(caps.get()) < 0) throw core::SystemError(errno, "capset(effective = permitted)");
}

ActAsRangeRoot::~ActAsRangeRoot() {
  ::setfsuid(0);  // back to the host's root: the file capabilities return
  ::setfsgid(0);
}

void enter_user_namespace(int userns_fd) {
  core::sys::setns(userns_fd, CLONE_NEWUSER, "user");
  // Until now our uid was the host's 0, which this namespace does not map
  // (it reads as 65534): become its root, which is the range's first id.
  if (::setresgid(0, 0, 0) < 0) throw core::SystemError(errno, "setresgid(0) in the user namespace");
  if (::setresuid(0, 0, 0) < 0) throw core::SystemError(errno, "setresuid(0) in the user namespace");
}

}  // namespace skiff::security
