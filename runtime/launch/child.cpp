// launch/child.cpp — the child side of the pipeline: from clone to exec.
//
// Runs in the new namespaces, as a copy of the parent. Each step is a
// function of its module; this file only puts them in order and explains
// the order. Mounts made here live in the container's mount namespace and
// vanish with it: none of them needs undoing.
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <cstring>

#include "02-chroot/rootfs.hpp"
#include "03-namespaces/namespaces.hpp"
#include "05-images/overlay.hpp"
#include "06-volumes/attach.hpp"
#include "11-security/exec_stub.hpp"
#include "11-security/capabilities.hpp"
#include "11-security/kernel_files.hpp"
#include "11-security/privileged.hpp"
#include "11-security/seccomp.hpp"
#include "11-security/userns.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/in_root.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"
#include "launch/launch.hpp"
#include "launch/process.hpp"
#include "launch/report.hpp"

namespace skiff::launch {
namespace {

using core::trace::Step;

bool isolated(const ContainerSpec& spec) { return spec.upto >= Upto::namespaces; }

void wait_for_parent(int sync) {
  // If the parent dies before we exec, so do we: no orphan half-container.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  char go = 0;
  if (::read(sync, &go, 1) != 1) ::_exit(core::kExitRuntimeError);
}

void enter_cgroup_namespace(const ContainerSpec& spec) {
  if (spec.upto < Upto::cgroups) return;
  // Only now: the parent has moved us into our cgroup, and a cgroup
  // namespace takes the creator's current group as its root.
  Step step("04-cgroups", "enter a cgroup namespace rooted at the container's cgroup");
  core::sys::unshare(CLONE_NEWCGROUP);
}

void isolate_mounts(const ContainerSpec& spec) {
  if (!isolated(spec)) return;
  Step step("03-namespaces", "make every mount private to the container's mount namespace");
  ns::make_mounts_private();
}

// The namespaces a remapped container was given by the parent (11-security):
// joined first, while we are still the host's root.
void join_owned_namespaces(const security::OwnedNamespaces* owned) {
  if (!owned) return;
  Step step("11-security", "join the net, uts and ipc namespaces that the user namespace owns");
  security::join_owned_namespaces(*owned);
}

// With --userns=remap, each layer and the container's own directory are
// seen through an idmapped mount (11-security/userns.hpp), attached under
// the container's directory in our mount namespace, and stacked from there.
std::vector<stdfs::path> idmapped_layers(const ContainerSpec& spec, int userns) {
  auto dir = spec.dir / "idmapped";
  core::fs::make_dirs(dir);
  auto attach = [&](const stdfs::path& from, const std::string& name) {
    auto where = dir / name;
    core::fs::make_dirs(where);
    core::Fd mnt(core::sys::clone_mount(from, userns, false, false));
    core::Fd target = core::open_root(where);
    core::sys::move_mount_onto(mnt.get(), target.get(), where.string());
    return where;
  };
  std::vector<stdfs::path> layers;
  for (size_t i = 0; i < spec.layers.size(); ++i) layers.push_back(attach(spec.layers[i], "l" + std::to_string(i)));
  attach(spec.dir, "rw");  // upper and work must share one mount
  return layers;
}

void mount_rootfs(const ContainerSpec& spec, const security::OwnedNamespaces* owned) {
  if (owned) {
    Step step("05-images", "stack the image's layers, each seen through an idmapped mount (overlayfs)");
    try {
      auto layers = idmapped_layers(spec, owned->user.get());
      auto rw = spec.dir / "idmapped/rw";
      images::mount_overlay(layers, rw / "upper", rw / "work", rootfs_dir(spec), spec.disposable_root);
    } catch (...) {
      core::rethrow_with_context("--userns=remap needs idmapped mounts (Linux 5.19 or later, on ext4, xfs, "
                                 "btrfs, or tmpfs from 6.3)");
    }
    return;
  }
  Step step("05-images", spec.disposable_root
                            ? "stack the image's layers and a volatile upper dir, never synced: --rm (overlayfs)"
                            : "stack the image's layers and the container's upper dir (overlayfs)");
  images::mount_overlay(spec.layers, upper_dir(spec), work_dir(spec), rootfs_dir(spec), spec.disposable_root);
}

void mount_system_dirs(const ContainerSpec& spec) {
  if (!isolated(spec)) return;
  Step step("02-chroot", "mount /proc, /dev and /sys inside the new root");
  chroot::mount_system(rootfs_dir(spec), spec.security.privileged);
}

// After /proc, /dev and /sys, as runc does, so that a volume or tmpfs can
// replace one of them (--tmpfs /dev/shm); before the terminal and the
// read-only /proc/sys, which must stay on top.
void mount_volumes(const ContainerSpec& spec, const security::OwnedNamespaces* owned) {
  if (!isolated(spec) || spec.mounts.empty()) return;  // the CLI refuses them with --upto chroot
  Step step("06-volumes", "mount the volumes, binds and tmpfs, each target resolved inside the root");
  volumes::mount_all(rootfs_dir(spec), spec.mounts, owned ? owned->user.get() : -1);
}

// Last before pivot_root: the steps above still create files in the root
// (mount points, /etc/hostname).
void make_root_read_only(const ContainerSpec& spec) {
  if (!isolated(spec) || !spec.read_only_root) return;
  Step step("06-volumes", "remount the root read-only (--read-only): volumes and tmpfs stay writable");
  volumes::make_read_only(rootfs_dir(spec));
}

void send_fd(int sync, int fd) {
  char byte = 'T';
  struct iovec iov {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  auto* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (::sendmsg(sync, &msg, 0) < 0) throw core::SystemError(errno, "sendmsg(terminal)");
}

// The pty's slave side becomes the process's terminal: a new session (so
// it can have a controlling terminal), TIOCSCTTY, and fds 0, 1 and 2. With
// a controlling terminal, Ctrl-C and job control work inside.
void take_terminal_inside(int terminal) {
  if (::setsid() < 0) throw core::SystemError(errno, "setsid");
  if (::ioctl(terminal, TIOCSCTTY, 0) < 0) throw core::SystemError(errno, "ioctl(TIOCSCTTY)");
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(terminal, fd);
  if (terminal > STDERR_FILENO) ::close(terminal);
}

// With -t: a pty in the container's own devpts (so that inside it is
// /dev/pts/0, and no host terminal is reachable), its master side sent to
// the parent for the monitor, its slave side our terminal and, bound, the
// container's /dev/console (the terminal of its "machine").
void make_terminal(const ContainerSpec& spec, int sync) {
  if (!spec.process.tty) return;
  Step step("01-lifecycle", "make the container's terminal (a pty of its devpts, /dev/console)");
  core::Fd pts = isolated(spec) ? core::resolve_in_root(core::open_root(rootfs_dir(spec)).get(),
                                                        "/dev/pts", core::Create::nothing,
                                                        core::Symlinks::refuse)
                                : core::open_root("/dev/pts");
  core::Fd master(::openat(pts.get(), "ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC));
  if (!master.valid()) throw core::SystemError(errno, "open(/dev/pts/ptmx)");
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) throw core::SystemError(errno, "ioctl(TIOCSPTLCK)");
  core::Fd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY));
  if (!slave.valid()) throw core::SystemError(errno, "ioctl(TIOCGPTPEER)");
  send_fd(sync, master.get());
  if (isolated(spec)) {
    // /dev is our own tmpfs: the console is a new file in it (O_EXCL),
    // with the pty bound over it.
    core::Fd dev = core::resolve_in_root(core::open_root(rootfs_dir(spec)).get(), "/dev",
                                         core::Create::nothing, core::Symlinks::refuse);
    core::Fd console = core::create_new_file(dev.get(), "console", 0600);
    core::sys::mount_on_fd(core::fd_path(slave), console.get(), "{root}/dev/console", "", MS_BIND);
  }
  take_terminal_inside(slave.release());
}

void give_host_devices(const ContainerSpec& spec) {
  if (!isolated(spec)) return;
  if (!spec.devices.empty()) {
    Step step("02-chroot", "make the devices given with --device");
    chroot::make_device_nodes(rootfs_dir(spec), spec.devices);
  }
  if (spec.upto < Upto::all || !spec.security.privileged) return;
  Step step("11-security", "make every device of the host in /dev (--privileged)");
  security::add_host_devices(rootfs_dir(spec));
}

void protect_kernel_files(const ContainerSpec& spec) {
  if (spec.upto < Upto::all || spec.security.privileged) return;
  Step step("11-security", "make /proc/sys and friends read-only, mask /proc/kcore and friends");
  security::protect_kernel_files(rootfs_dir(spec));
}

void bind_identity_files(const ContainerSpec& spec) {
  if (!isolated(spec)) return;
  // The container's own /etc/hostname and /etc/hosts live in its directory
  // in the store, bound over the image's copies (which stay untouched).
  // The image decides what /etc is: both are found inside the root (an
  // /etc → /home/you link means the root's /home/you), made if missing
  // with O_EXCL, and never bound over the kernel's /proc or /sys.
  Step step("03-namespaces", spec.endpoint.empty()
                                 ? "bind the container's /etc/hostname and /etc/hosts"
                                 : "bind the container's /etc/hostname, /etc/hosts and /etc/resolv.conf");
  core::Fd root = core::open_root(rootfs_dir(spec));
  const auto& userns = spec.security.userns;
  for (const char* file : {"hostname", "hosts", "resolv.conf"}) {
    // resolv.conf: only on a bridge network, which writes one at each start.
    if (std::string(file) == "resolv.conf" && spec.endpoint.empty()) continue;
    // Root inside a remapped container owns them, as root does elsewhere.
    if (userns.remapped() &&
        ::chown((spec.dir / file).c_str(), userns.uids.outside, userns.gids.outside) < 0)
      throw core::SystemError(errno, "chown(" + (spec.dir / file).string() + ")");
    std::string where = std::string("/etc/") + file;
    core::Fd target = core::resolve_in_root(root.get(), where, core::Create::file);
    if (core::on_kernel_fs(target))
      throw core::Error("the image's " + where + " leads into /proc or /sys: refusing to mount over it");
    core::sys::mount_on_fd(spec.dir / file, target.get(), "{root}" + where, "", MS_BIND);
  }
}

void enter_root(const ContainerSpec& spec) {
  if (!isolated(spec)) {
    Step step("02-chroot", "chroot into the container's root (no mount namespace: escapable)");
    chroot::chroot_into(rootfs_dir(spec));
    return;
  }
  Step step("02-chroot", "pivot_root into the container's root and detach the host's");
  chroot::pivot_into(rootfs_dir(spec));
}

void name_the_host(const ContainerSpec& spec) {
  if (!isolated(spec)) return;
  if (!network::own_namespace(spec.network)) {
    // The host's lo, or the other container's: up already, and not ours.
    Step step("03-namespaces", "set the hostname (uts)");
    ns::set_hostname(spec.hostname);
    return;
  }
  Step step("03-namespaces", "set the hostname (uts) and bring up lo (net)");
  ns::set_hostname(spec.hostname);
  ns::bring_up_loopback();
}

// --network container:NAME: into that container's network namespace, while
// the host's /proc (where its PID 1 has its host pid) is still ours.
void join_network(const ContainerSpec& spec) {
  if (!isolated(spec) || spec.network.kind != network::Kind::container) return;
  Step step("07-network", "join the network namespace of container " + spec.network.container.substr(0, 12));
  network::join_namespace_of(spec.network_pid, spec.network_pid_start, spec.network.container);
}

struct Prepared {
  Identity identity;
  std::string path;
  std::vector<std::string> env;
};

Prepared prepare_process(const ProcessSpec& process) {
  Step step("01-lifecycle", "resolve the user, the working directory and the command");
  Prepared p;
  p.identity = resolve_user(process.user, read_account_file("/etc/passwd"),
                            read_account_file("/etc/group"));
  p.env = process.env;
  if (env_value(p.env, "HOME").empty()) p.env.push_back("HOME=" + p.identity.home);
  enter_working_dir(process.cwd);
  p.path = find_executable(process.argv.at(0), env_value(p.env, "PATH"));
  return p;
}

// The order is the kernel's: the bounding set can only be lowered while we
// hold CAP_SETPCAP, so it goes first; the switch to the container's user
// needs CAP_SETUID and CAP_SETGID even when the set has neither, so the
// process keeps its capabilities across it (PR_SET_KEEPCAPS) and sets its
// final ones after: the policy's set for root, none for another user (as
// Docker does: their bounding set still holds it, for setuid programs).
// The seccomp filter goes as late as it can, so that it has to allow only
// what follows it: after no_new_privs when that is set; without it, loading
// a filter needs CAP_SYS_ADMIN, so before the capabilities go (runc's
// order, and why Docker's profile allows capset, setresuid and prctl).
void drop_privileges(const ContainerSpec& spec, const Identity& identity) {
  const auto& policy = spec.security;
  const bool confine = spec.upto >= Upto::all;
  const bool filtered = confine && policy.seccomp != "unconfined";
  auto filter = [&] {
    Step step("11-security", policy.seccomp.empty() ? "load the seccomp filter: Docker's default profile"
                                                    : "load the seccomp filter: the profile given");
    security::apply_seccomp(policy.seccomp, policy.capabilities);
  };
  if (filtered && !policy.no_new_privileges) filter();
  if (confine) {
    Step step("11-security", policy.privileged ? "keep every capability (--privileged)"
                                               : "drop capabilities to the container's set");
    security::drop_bounding_set(policy.capabilities);
    security::keep_capabilities_across_setuid();
  }
  switch_user(identity);
  if (confine) {
    Step step("11-security", "set the user's capabilities: effective, permitted; inheritable and ambient empty");
    security::set_process_capabilities(identity.uid == 0 ? policy.capabilities
                                                         : std::vector<std::string>{});
  }
  if (confine && policy.no_new_privileges) {
    Step step("11-security", "set no_new_privs: exec can never gain privileges");
    security::set_no_new_privs();
    if (filtered) filter();
  }
}

// Sends the error to the parent; never throws.
void report(int sync, const std::exception& e, int exit_code) {
  ChildReport r{};
  r.exit_code = exit_code;
  std::string text = e.what();
  auto step = core::trace::current_step();
  // Exec failures read best as Docker prints them; every other error names
  // the step that failed.
  if (exit_code == core::kExitRuntimeError && !step.empty()) text = std::string(step) + ": " + text;
  std::strncpy(r.message, text.c_str(), sizeof r.message - 1);
  (void)!::write(sync, &r, sizeof r);
}

}  // namespace

void become_process(const ContainerSpec& spec, const ProcessSpec& process, int userns, int report_fd) {
  if (userns >= 0) {
    Step step("11-security", "join the user namespace: root inside is uid " +
                                 std::to_string(spec.security.userns.uids.outside) + " outside");
    security::enter_user_namespace(userns);
  }
  Prepared p = prepare_process(process);
  drop_privileges(spec, p.identity);  // 11-security
  exec(p.path, process, p.env, security::exec_stub_fd(), report_fd);
}

void take_terminal(int terminal) {
  if (terminal >= 0) take_terminal_inside(terminal);
}

void report_and_exit(int sync, const std::exception& e) {
  const auto* error = dynamic_cast<const core::Error*>(&e);
  report(sync, e, error ? error->exit_code() : core::kExitRuntimeError);
  ::_exit(core::kExitRuntimeError);
}

void child_side(const ContainerSpec& spec, int sync, const security::OwnedNamespaces* owned) {
  try {
    wait_for_parent(sync);
    join_owned_namespaces(owned);   // 11-security (--userns=remap)
    join_network(spec);             // 07-network (--network container:NAME)
    enter_cgroup_namespace(spec);   // 04-cgroups
    isolate_mounts(spec);           // 03-namespaces
    // Remapped: what the steps below create in the root (mount points,
    // /etc/hostname, device nodes) belongs to the container's root.
    std::optional<security::ActAsRangeRoot> as_range_root;
    if (owned) as_range_root.emplace(spec.security.userns);
    mount_rootfs(spec, owned);      // 05-images
    mount_system_dirs(spec);        // 02-chroot
    give_host_devices(spec);        // 11-security
    mount_volumes(spec, owned);     // 06-volumes
    make_terminal(spec, sync);      // 01-lifecycle
    protect_kernel_files(spec);     // 11-security
    bind_identity_files(spec);      // 03-namespaces
    make_root_read_only(spec);      // 06-volumes
    enter_root(spec);               // 02-chroot
    name_the_host(spec);            // 03-namespaces
    as_range_root.reset();
    become_process(spec, spec.process, owned ? owned->user.get() : -1, sync);  // launch, 11-security
  } catch (const std::exception& e) {
    report_and_exit(sync, e);
  }
  ::_exit(core::kExitRuntimeError);
}

}  // namespace skiff::launch
