// 11-security/sealed_exe.hpp — the container can never write skiff's binary.
//
// Kernel concept: until it execs the command, the process that becomes the
//   container runs skiff's code, and /proc/self/exe names skiff's file on
//   the host. An image whose command is a script starting "#!/proc/self/exe"
//   makes the kernel run that file again, inside the container; skiff is
//   linked against the C library, so the kernel then loads the *image's*
//   /lib64/ld-linux-x86-64.so.2 to start it: the image's code runs with
//   /proc/self/exe pointing at the host's binary. It keeps an fd of it and
//   writes it once no skiff runs (ETXTBSY until then): the next `skiff run`
//   on the host runs the attacker's code as root. That is runc's
//   CVE-2019-5736. The defence is to never run from the host's file when a
//   container is near: commands that start a process in a container first
//   re-execute skiff from a read-only view of its binary, so /proc/self/exe
//   names that view. The view is a private overlayfs with only lower
//   layers (the binary's directory and an empty one): nothing can be
//   written through it, not even by remounting, and it is never attached
//   to any mount table, so it costs no copy and leaves nothing behind. Where
//   overlayfs cannot be made, a sealed memfd copy serves (F_SEAL_WRITE).
// Man pages: execveat(2), fsopen(2), fsmount(2), memfd_create(2),
//   fcntl(2) F_ADD_SEALS, proc(5) /proc/PID/exe.
// Runs in: the CLI, first thing for exec (which joins a running container);
//   for run, start and restart only where the lighter exec stub cannot be
//   made (exec_stub.hpp). Not for run --upto below 11-security, nor exec
//   into such a container: the lesson shows the attack against them.
// Privilege: CAP_SYS_ADMIN (a private overlay mount).
// Lesson: lessons/11-security.
#pragma once

#include <filesystem>

#include "core/fd.hpp"

namespace skiff::security {

// The command line to run again (main's argv, kept as it is).
void remember_command_line(char** argv);

// Unless this process already runs from a read-only view of its binary,
// re-executes it from one with the same command line and environment
// (plus a marker). Returns only when already sealed; throws core::Error
// when no view can be made (skiff never starts a container from the bare
// file). Called before the command has changed anything, since the command
// starts again from the beginning.
void run_from_sealed_binary();

// The directory of skiff's own binary on the host (where skiff-monitor
// lives), also when running sealed and /proc/self/exe says otherwise.
std::filesystem::path host_binary_dir();

// The two views, for tests: an O_PATH fd of BINARY through a lower-only
// overlay, and a sealed memfd copy of it.
core::Fd overlay_view(const std::filesystem::path& binary);
core::Fd sealed_copy(const std::filesystem::path& binary);

// A memfd meant to be exec'd once sealed: MFD_EXEC where the kernel knows
// it (Linux 6.3), so that vm.memfd_noexec=1 does not make it
// non-executable. Throws core::SystemError.
core::Fd executable_memfd(const char* name);

// Seals MEMFD for good: no write, no resize, no more seals. Throws.
void seal_for_good(int memfd);

// True when /proc/self/exe can be written through by nobody: a read-only
// overlay view, or a memfd sealed against writes.
bool running_sealed();

}  // namespace skiff::security
