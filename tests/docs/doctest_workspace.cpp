// tests/docs/doctest_workspace.cpp — see the header.
#include "doctest_workspace.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

extern char** environ;

namespace skiff::doctest {
namespace {

namespace fs = std::filesystem;

fs::path make_temp_dir() {
  std::string templ = (fs::temp_directory_path() / "skiff-doctest.XXXXXX").string();
  if (!mkdtemp(templ.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp " + templ);
  return templ;
}

// The inherited environment minus what would make a lesson behave
// differently on another machine (startup files, locale, a caller's store),
// plus the lesson's own variables.
std::vector<std::string> lesson_env(const fs::path& bin, const fs::path& store,
                                    const fs::path& work, const fs::path& lesson) {
  static const char* dropped[] = {"PATH=", "SKIFF_BIN=", "SKIFF_ROOT=", "LESSON=", "LC_", "LANG=", "LANGUAGE=",
                                  "BASH_ENV=", "ENV=", "CDPATH=", "PWD=", "OLDPWD=", "SHELLOPTS=",
                                  "BASHOPTS=", "GLOBIGNORE=", "BASH_FUNC_"};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    if (std::none_of(std::begin(dropped), std::end(dropped), [&](const char* d) { return v.starts_with(d); }))
      env.emplace_back(v);
  }
  const char* path = std::getenv("PATH");
  env.push_back("PATH=" + bin.string() + ":" +
                (path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  env.push_back("SKIFF_BIN=" + (bin / "skiff").string());
  env.push_back("SKIFF_ROOT=" + store.string());
  env.push_back("LESSON=" + lesson.string());
  env.push_back("LC_ALL=C");
  env.push_back("PWD=" + work.string());
  return env;
}

// Runs ARGV with ENV, stdin from /dev/null; returns its stdout and sets CODE.
std::string capture(const std::vector<std::string>& argv, const std::vector<std::string>& env, int& code) {
  std::vector<char*> a, e;
  for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  for (auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr), e.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) return code = -1, "";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  pid_t pid;
  int err = posix_spawn(&pid, a[0], &fa, nullptr, a.data(), e.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; err == 0 && (n = read(out[0], buf, sizeof buf)) != 0;)
    if (n > 0) text.append(buf, static_cast<size_t>(n));
    else if (errno != EINTR) break;
  close(out[0]);
  int wstatus = 0;
  code = err != 0 ? -1 : (waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
  return text;
}

// /proc/self/mountinfo writes a space in a path as \040 (octal escapes).
std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> mounts_under(const fs::path& dir) {
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string prefix = dir.string() + "/";
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    point = unescape_mountinfo(point);
    if (point == dir.string() || point.starts_with(prefix)) found.push_back(point);
  }
  return found;
}

}  // namespace

int unmount_under(const fs::path& dir) {
  // A few rounds: detaching one mount can uncover another stacked below it.
  for (int round = 0; round < 5; ++round) {
    auto points = mounts_under(dir);
    if (points.empty()) return 0;
    std::sort(points.begin(), points.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
    for (const auto& p : points) umount2(p.c_str(), MNT_DETACH);
  }
  return static_cast<int>(mounts_under(dir).size());
}

Workspace::Workspace(const fs::path& lesson_dir, const fs::path& bin_dir)
    : base_(make_temp_dir()), store_(base_ / "store"), work_(base_ / "work"), ctl_(base_ / "ctl"),
      skiff_(bin_dir / "skiff") {
  for (const auto& d : {store_, work_, ctl_}) fs::create_directory(d);
  env_ = lesson_env(bin_dir, store_, work_, lesson_dir);
}

// `skiff rm -f` for every container of the lesson's store: skiff undoes what
// it made (cgroups, mounts, monitors), which a plain `rm -rf` could not.
void Workspace::remove_containers() const {
  int code = 0;
  std::istringstream ids(capture({skiff_.string(), "ps", "-aq", "--no-trunc"}, env_, code));
  if (code != 0) std::cerr << "cleanup: `skiff ps -aq` exited " << code << "\n";
  for (std::string id; ids >> id;) {
    capture({skiff_.string(), "rm", "-f", id}, env_, code);
    if (code != 0) std::cerr << "cleanup: `skiff rm -f " << id << "` exited " << code << "\n";
  }
}

Workspace::~Workspace() {
  remove_containers();
  // Never remove_all across a mount that is still there: it would delete the
  // files of whatever is mounted (a bind mount of a host directory).
  if (int left = unmount_under(base_); left > 0) {
    std::cerr << "cleanup: " << left << " mount(s) left under " << base_ << "; not removing it\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(base_, ec);
  if (ec) std::cerr << "cleanup: removing " << base_ << ": " << ec.message() << "\n";
}

}  // namespace skiff::doctest
