// launch/process.cpp — see process.hpp.
#include "launch/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "11-security/exec_stub.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/fs.hpp"
#include "core/trace.hpp"

namespace skiff::launch {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

bool parse_id(const std::string& text, unsigned& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// A line of passwd(5) or group(5) whose field 0 (name) or 2 (id) matches.
std::vector<std::string> find_entry(const std::string& file, const std::string& key) {
  for (const auto& line : split(file, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() >= 3 && (fields[0] == key || fields[2] == key)) return fields;
  }
  return {};
}

}  // namespace

std::string read_account_file(const std::string& path) {
  // The image wrote this file: a FIFO would block the start for ever, and
  // /dev/zero would never end. Only a regular file, and only so much of it.
  constexpr size_t kLimit = 4 << 20;
  core::Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return "";
  std::string out(std::min(static_cast<size_t>(st.st_size), kLimit), '\0');
  ssize_t n = ::read(fd.get(), out.data(), out.size());
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

Identity resolve_user(const std::string& spec, const std::string& passwd,
                      const std::string& group) {
  auto colon = spec.find(':');
  std::string user = spec.substr(0, colon);
  std::string grp = colon == std::string::npos ? "" : spec.substr(colon + 1);
  Identity id;
  unsigned number = 0;
  if (user.empty()) user = "0";
  if (auto pw = find_entry(passwd, user); pw.size() >= 4) {
    unsigned uid = 0, gid = 0;
    parse_id(pw[2], uid);
    parse_id(pw[3], gid);
    id.uid = uid;
    id.gid = gid;
    if (pw.size() >= 6 && !pw[5].empty()) id.home = pw[5];
  } else if (parse_id(user, number)) {
    id.uid = number;
  } else {
    throw core::Error("unable to find user " + user + ": no matching entries in passwd file");
  }
  if (!grp.empty()) {
    if (auto gr = find_entry(group, grp); gr.size() >= 3 && parse_id(gr[2], number))
      id.gid = number;
    else if (parse_id(grp, number))
      id.gid = number;
    else
      throw core::Error("unable to find group " + grp + ": no matching entries in group file");
  }
  // Supplementary groups: the primary group, then, unless a group was
  // given with -u, every group that lists the user's name.
  id.groups.push_back(id.gid);
  if (!grp.empty()) return id;
  auto pw = find_entry(passwd, user);
  for (const auto& line : split(group, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() < 4 || pw.empty()) continue;
    for (const auto& member : split(fields[3], ','))
      if (member == pw[0] && parse_id(fields[2], number) && number != id.gid)
        id.groups.push_back(number);
  }
  return id;
}

std::string find_executable(const std::string& argv0, const std::string& path_var) {
  auto fail = [&](const std::string& why, int code) -> std::string {
    throw core::Error("exec: \"" + argv0 + "\": " + why, code);
  };
  struct stat st {};
  if (argv0.find('/') != std::string::npos) {
    if (::stat(argv0.c_str(), &st) < 0) fail("stat " + argv0 + ": no such file or directory", 127);
    if (S_ISDIR(st.st_mode)) fail("is a directory", 126);
    return argv0;
  }
  for (const auto& dir : split(path_var, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + argv0;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
      return candidate;
  }
  return fail("executable file not found in $PATH", 127);
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& kv : env)
    if (kv.size() > name.size() && kv.compare(0, name.size(), name) == 0 && kv[name.size()] == '=')
      return kv.substr(name.size() + 1);
  return "";
}

void switch_user(const Identity& id) {
  core::trace::call("setgroups, setgid(" + std::to_string(id.gid) + "), setuid(" +
                    std::to_string(id.uid) + ")");
  if (::setgroups(id.groups.size(), id.groups.data()) < 0)
    throw core::SystemError(errno, "setgroups");
  if (::setresgid(id.gid, id.gid, id.gid) < 0)
    throw core::SystemError(errno, "setgid(" + std::to_string(id.gid) + ")");
  if (::setresuid(id.uid, id.uid, id.uid) < 0)
    throw core::SystemError(errno, "setuid(" + std::to_string(id.uid) + ")");
}

void enter_working_dir(const std::string& cwd) {
  core::fs::make_dirs(cwd);
  if (::chdir(cwd.c_str()) < 0) throw core::SystemError(errno, "chdir(" + cwd + ")");
}

void close_inherited_fds() {
  // Whatever the caller of skiff had open (`exec 7</etc/shadow; skiff
  // run …`), and any descriptor of ours that missed O_CLOEXEC, must not
  // reach the command: a leaked directory fd of the host is a way out of
  // the root (runc's CVE-2024-21626). Marked close-on-exec rather than
  // closed, so that a failing execve can still report on the sync socket.
  core::trace::call("close_range(3, ~0, CLOSE_RANGE_CLOEXEC)");
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Before Linux 5.11: the same, one descriptor at a time.
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::atoi(e.path().filename().c_str());
    if (fd > STDERR_FILENO) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

void exec(const std::string& path, const ProcessSpec& process,
          const std::vector<std::string>& env, int stub, int report_fd) {
  std::vector<char*> argv, envp;
  for (const auto& a : process.argv) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  close_inherited_fds();
  // An ignored signal stays ignored across execve: give the command the
  // default SIGPIPE the launcher set aside.
  ::signal(SIGPIPE, SIG_DFL);
  if (stub >= 0 && report_fd >= 0) {
    security::exec_through_stub(stub, report_fd, path, argv.data(), envp.data());
    int err = errno;
    throw core::Error("cannot run skiff's exec stub for \"" + process.argv[0] + "\": " +
                      std::system_category().message(err));
  }
  core::trace::call("execve(\"" + path + "\")");
  ::execve(path.c_str(), argv.data(), envp.data());
  int err = errno;
  std::string why = err == EACCES ? "permission denied" : std::system_category().message(err);
  throw core::Error("exec: \"" + process.argv[0] + "\": " + why,
                    err == ENOENT ? core::kExitNotFound : core::kExitCannotInvoke);
}

}  // namespace skiff::launch
