// 12-vm/guest_init_main.cpp — skiff-vm-init: the first process of skiff's
// micro-VM (PID 1 in the guest, started by the kernel as rdinit=/skiff/init).
//
// The guest has nothing but the initramfs that skiff packed (initramfs.hpp),
// so this program does the little that a distribution's init would, in
// order, then runs the one command it was given and reports how it ended:
//   1. make / a mount of its own (pivot_root, which containers need, refuses
//      the initramfs root otherwise: it is the kernel's rootfs, never moved)
//   2. mount /proc, /sys, /dev, /dev/pts, /dev/shm, /run, /tmp
//   3. load the kernel modules listed, in the order given (dependencies first)
//   4. mount the cgroup hierarchy asked for: cgroup2 alone, as systemd does
//      on Debian 12 (the default), or the hybrid layout (v1 controllers plus
//      an empty cgroup2 at unified/)
//   5. bring up lo and set the hostname
//   6. run the command, reap every orphan meanwhile (PID 1's duty), then kill
//      what is left and tell QEMU the status through its isa-debug-exit port
//      (it writes status+1 and QEMU exits with that*2+1: 0 and 1 stay QEMU's
//      own, for a guest that never reported and for QEMU's errors).
//
// Its instructions are /skiff/vm.conf, one "KEY VALUE" a line:
//   module PATH [PARAMS] · cgroup v2|hybrid · hostname NAME · env K=V · cwd DIR ·
//   arg WORD (the command, one word a line; none: an interactive shell).
// Static, C library only: it runs before any library path exists.
// Lesson: lessons/12-vm-isolation. Man pages: init(1), mount(2),
// finit_module(2), ioperm(2), reboot(2).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr unsigned short kDebugExitPort = 0xf4;  // -device isa-debug-exit,iobase=0xf4

struct Config {
  std::vector<std::string> modules, env, argv;
  std::string cgroup = "v2", hostname = "skiff-vm", cwd = "/";
};

void say(const std::string& line) {
  std::string out = "skiff-vm-init: " + line + "\n";
  (void)!::write(2, out.data(), out.size());
}

// QEMU exits with (value << 1) | 1 and keeps 8 bits of it; value 0 would
// look like QEMU's own failure (1). So: status + 1, and 126 and above (a
// signal) all as 126, the console line before telling which.
[[noreturn]] void power_off(int status) {
  ::sync();
  unsigned value = static_cast<unsigned>(status > 126 ? 126 : status) + 1;
  if (::ioperm(kDebugExitPort, 4, 1) == 0) outl(value, kDebugExitPort);
  ::reboot(RB_POWER_OFF);  // no debug-exit device: QEMU exits 0 with -no-reboot
  for (;;) ::pause();
}

[[noreturn]] void fail(const std::string& what) {
  say(what + ": " + strerror(errno));
  power_off(125);
}

void must_mount(const char* src, const char* target, const char* type, unsigned long flags,
                const char* data = nullptr) {
  ::mkdir(target, 0755);
  if (::mount(src, target, type, flags, data) != 0) fail(std::string("mount ") + type + " on " + target);
}

Config read_config(const char* path) {
  Config c;
  FILE* f = ::fopen(path, "re");
  if (f == nullptr) fail(std::string("open ") + path);
  char* line = nullptr;
  size_t cap = 0;
  for (ssize_t n; (n = ::getline(&line, &cap, f)) > 0;) {
    std::string l(line, static_cast<size_t>(n));
    if (!l.empty() && l.back() == '\n') l.pop_back();
    auto space = l.find(' ');
    std::string key = l.substr(0, space), value = space == std::string::npos ? "" : l.substr(space + 1);
    if (key == "module") c.modules.push_back(value);
    else if (key == "cgroup") c.cgroup = value;
    else if (key == "hostname") c.hostname = value;
    else if (key == "env") c.env.push_back(value);
    else if (key == "cwd") c.cwd = value;
    else if (key == "arg") c.argv.push_back(value);
  }
  ::free(line);
  ::fclose(f);
  return c;
}

// Step 1. The initramfs is the kernel's rootfs: bind it onto a folder of
// itself, move that mount onto /, and chroot into it. / is then an ordinary
// mount, which pivot_root (every container start) can leave.
void root_as_a_mount() {
  must_mount("/", "/newroot", nullptr, MS_BIND | MS_REC);
  if (::chdir("/newroot") != 0) fail("chdir /newroot");
  if (::mount("/newroot", "/", nullptr, MS_MOVE, nullptr) != 0) fail("mount --move /newroot /");
  if (::chroot(".") != 0 || ::chdir("/") != 0) fail("chroot into the new root");
}

bool empty_dir(const char* path) {
  DIR* d = ::opendir(path);
  if (d == nullptr) return true;
  bool empty = true;
  for (dirent* e; empty && (e = ::readdir(d)) != nullptr;)
    empty = std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0;
  ::closedir(d);
  return empty;
}

// Step 2.
void mount_api_filesystems() {
  must_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  must_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  must_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  must_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=000");
  must_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV);
  must_mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  // /tmp gets a tmpfs of its own unless the initramfs put files there (a
  // host program packed at its path under /tmp): a mount would hide them,
  // and the initramfs' root is a tmpfs already.
  if (empty_dir("/tmp")) must_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  ::symlink("/proc/self/fd", "/dev/fd");
  ::mount("", "/", nullptr, MS_SHARED | MS_REC, nullptr);  // as systemd leaves a host
}

// Step 3. finit_module(2) reads the module from a descriptor; the host
// decompressed the .ko.xz files when it packed them.
void load_modules(const Config& c) {
  for (const auto& line : c.modules) {
    auto space = line.find(' ');
    std::string path = line.substr(0, space), params = space == std::string::npos ? "" : line.substr(space + 1);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open module " + path);
    if (::syscall(SYS_finit_module, fd, params.c_str(), 0) != 0 && errno != EEXIST)
      fail("finit_module " + path + " " + params);
    ::close(fd);
  }
}

// Step 4.
void mount_cgroups(const Config& c) {
  if (c.cgroup == "v2") {
    must_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "nsdelegate,memory_recursiveprot");
    return;
  }
  must_mount("tmpfs", "/sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
  must_mount("cgroup2", "/sys/fs/cgroup/unified", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "nsdelegate");
  // The same controllers, and the same pairs, as systemd's hybrid layout.
  const char* hierarchies[] = {"cpu,cpuacct", "memory", "pids", "freezer", "devices", "blkio", "cpuset"};
  for (const char* h : hierarchies) {
    std::string target = std::string("/sys/fs/cgroup/") + h;
    must_mount("cgroup", target.c_str(), "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, h);
  }
  ::symlink("cpu,cpuacct", "/sys/fs/cgroup/cpu");
  ::symlink("cpu,cpuacct", "/sys/fs/cgroup/cpuacct");
}

// Step 5.
void network_and_name(const Config& c) {
  if (::sethostname(c.hostname.data(), c.hostname.size()) != 0) fail("sethostname");
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {};
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) fail("SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP;
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail("SIOCSIFFLAGS lo up");
  ::close(s);
}

// Step 6. The command's status, as a shell reports it (128+N for signal N).
int run_command(const Config& c) {
  std::vector<std::string> argv = c.argv;
  if (argv.empty()) argv = {"/bin/sh", "-l"};
  pid_t child = ::fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    ::setsid();
    ::ioctl(0, TIOCSCTTY, 1);  // ^C reaches the command, not init
    std::vector<char*> args, envp;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env = c.env;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (::chdir(c.cwd.c_str()) != 0) fail("chdir " + c.cwd);
    ::execve(args[0], args.data(), envp.data());
    say("cannot run " + argv[0] + ": " + strerror(errno));
    ::_exit(errno == ENOENT ? 127 : 126);
  }
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) fail("waitpid");
    if (pid == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

}  // namespace

int main() {
  if (::getpid() != 1) {
    say("this is the micro-VM's init; it runs only as PID 1 inside the guest");
    return 125;
  }
  Config c = read_config("/skiff/vm.conf");
  root_as_a_mount();
  mount_api_filesystems();
  load_modules(c);
  mount_cgroups(c);
  network_and_name(c);
  int status = run_command(c);
  ::kill(-1, SIGKILL);
  while (::waitpid(-1, nullptr, 0) > 0) {
  }
  say("command exited with " + std::to_string(status));
  power_off(status);
}
