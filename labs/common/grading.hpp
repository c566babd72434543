// labs/common/grading.hpp — what every lab's grader uses to run a student's
// program for real and to leave the machine as it found it.
//
// Each run happens in a mount namespace of its own (made by a small wrapper
// process, see run()), so whatever the student's program mounts, and forgets
// to unmount, dies with that namespace: the host's mount table is never
// touched, even by a wrong submission. The wrapper records its namespace's
// mount table before and after the program, so a check can still see what a
// program would have left behind on a real host.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace lab {

namespace stdfs = std::filesystem;

// A fresh directory under /tmp, removed with everything in it at the end
// (but never across a mount point: if something is still mounted below it,
// it is left in place and a warning is printed).
class TempDir {
 public:
  explicit TempDir(std::string_view tag = "lab");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const stdfs::path& path() const { return path_; }
  stdfs::path operator/(std::string_view name) const { return path_ / name; }

 private:
  stdfs::path path_;
};

// A minimal root under DIR: bin/busybox (the host's busybox-static), bin/sh,
// and empty dev/, proc/, tmp/. Returns DIR.
stdfs::path make_busybox_rootfs(const stdfs::path& dir);
// Copies PROGRAM (a static executable) to ROOTFS/bin/, keeping its name.
void install(const stdfs::path& program, const stdfs::path& rootfs);

// One line of /proc/PID/mountinfo (proc(5)).
struct Mount {
  int id = 0;
  int parent = 0;
  std::string root;         // the part of the filesystem mounted ("/" = all of it)
  std::string mount_point;  // as seen from the reading process's root
  std::string fstype;
  std::string source;
  bool operator==(const Mount&) const = default;
};
std::vector<Mount> parse_mountinfo(const std::string& text);
// The mount table of the grader's own namespace: the host's, for a check.
std::vector<Mount> host_mounts();
// "id mount_point (fstype)" lines, for messages.
std::string describe(const std::vector<Mount>& mounts);

// The namespace a program is started in.
enum class Mounts {
  Private,  // a copy of the host's mounts, all private (Debian without systemd)
  Shared,   // a copy whose mounts are all shared (what systemd makes of "/")
};

struct RunOptions {
  Mounts mounts = Mounts::Private;
  stdfs::path cwd = "/";
  std::chrono::milliseconds timeout{10'000};
  // Called in the wrapper (so in the program's namespace: its "host") right
  // after the program has started, while it runs, e.g. to mount something
  // the program must not see. Empty: nothing.
  std::function<void()> while_running = {};
};

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N; -1 when it never ran
  bool timed_out = false;
  std::string out;
  std::string err;
  std::vector<Mount> mounts_before;  // of the namespace the program started in
  std::vector<Mount> mounts_after;   // the same, after it exited
  // The command, its exit code and its output, for INFO().
  std::string describe() const;
  std::vector<std::string> argv;
};

// Runs ARGV (ARGV[0] an absolute path) with stdin from /dev/null, in a mount
// namespace of its own (see Mounts), and waits for it (killing it at
// OPTIONS.timeout). Never throws for the program's failures: they are in the
// result; throws std::runtime_error only when the wrapper itself cannot work.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

std::string read_file(const stdfs::path& path);
void write_file(const stdfs::path& path, std::string_view text);
// A random lowercase hex string, to make names and contents no one can guess.
std::string random_token(std::size_t length = 16);
// The generator behind it, for a check that needs other random choices.
// Seeded once from LAB_SEED if set, else from the machine, and the seed is
// printed on stderr ("grader: random seed N"): LAB_SEED=N replays a grade.
std::mt19937_64& generator();
// TEXT split at '\n' (a trailing newline makes no empty last line).
std::vector<std::string> lines(const std::string& text);

// For a child process that plays a peer on a network: listens on TCP at
// ADDRESS (network byte order, e.g. htonl(INADDR_LOOPBACK)) on a port the
// kernel picks, writes that port (unsigned short) to READY and closes it,
// then answers every connection with TOKEN, forever. Only system calls; on
// any failure, _exit(1).
[[noreturn]] void serve_token(int ready, uint32_t address, const char* token);

// A peer on a network: a child of the grader that dies with it, in a
// network namespace of its own (lo brought up if LO_UP), serving TOKEN at
// ADDRESS as serve_token does. Throws std::runtime_error naming WHAT when
// it could not get ready (the child is reaped first).
struct TokenServer {
  pid_t pid = -1;
  unsigned short port = 0;
};
TokenServer spawn_token_server(uint32_t address, bool lo_up, const std::string& token, const std::string& what);
// Kills and reaps PID (a TokenServer's) if it is > 0; sets it to -1.
void stop_process(pid_t& pid);

}  // namespace lab
