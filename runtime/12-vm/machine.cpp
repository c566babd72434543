// 12-vm/machine.cpp — see machine.hpp.
#include "12-vm/machine.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::vm {

namespace {

// Real mode at address 0: mov ecx, 1000000; 1: dec ecx; jnz 1b; hlt.
constexpr unsigned char kProbeCode[] = {0x66, 0xb9, 0x40, 0x42, 0x0f, 0x00,
                                        0x66, 0x49, 0x75, 0xfc, 0xf4};

// In the probe's child: 0 when the loop reached hlt.
int run_probe_guest() {
  int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) return 1;
  int vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) return 1;
  void* mem = ::mmap(nullptr, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 1;
  std::memcpy(mem, kProbeCode, sizeof kProbeCode);
  kvm_userspace_memory_region region = {0, 0, 0, 0x1000, reinterpret_cast<uint64_t>(mem)};
  if (::ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return 1;
  int vcpu = ::ioctl(vm, KVM_CREATE_VCPU, 0);
  int run_size = ::ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (vcpu < 0 || run_size <= 0) return 1;
  auto* run = static_cast<kvm_run*>(
      ::mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
  kvm_sregs sregs;
  if (run == MAP_FAILED || ::ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return 1;
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  if (::ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return 1;
  kvm_regs regs = {};
  regs.rip = 0;
  regs.rflags = 2;
  if (::ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return 1;
  if (::ioctl(vcpu, KVM_RUN, 0) < 0) return 1;
  return run->exit_reason == KVM_EXIT_HLT ? 0 : 1;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

bool kvm_works() {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) return false;
  pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) ::_exit(run_probe_guest());
  // Natively the loop takes under a millisecond. SIGALRM does not always
  // interrupt KVM_RUN, so the parent watches the clock and kills.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return false;
}

unsigned long host_tsc_khz() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("cpu MHz", 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) return 0;
    return static_cast<unsigned long>(std::stod(line.substr(colon + 1)) * 1000.0);
  }
  return 0;
}

std::vector<std::string> qemu_command(const Machine& m, unsigned long tsc_khz) {
  // Kernel arguments: the serial console; quiet; reboot (QEMU then exits,
  // -no-reboot) on panic; no crypto self-tests (~1 s under TCG); the TSC
  // frequency microvm cannot measure, and the TSC trusted as the clock
  // (under TCG the vCPUs' counters drift apart enough for the kernel to
  // drop it for jiffies: time in 4 ms steps, and no machine runs so);
  // skiff's init in the initramfs.
  std::vector<std::string> append = {"console=ttyS0", "quiet", "loglevel=1", "panic=-1",
                                     "cryptomgr.notests", "rdinit=/skiff/init"};
  if (tsc_khz != 0) {
    append.push_back("tsc_early_khz=" + std::to_string(tsc_khz));
    append.push_back("tsc=reliable");
  }
  append.insert(append.end(), m.kernel_args.begin(), m.kernel_args.end());
  std::vector<std::string> cmd = {
      "qemu-system-x86_64", "-M", "microvm", "-accel", m.accel == Accel::kvm ? "kvm" : "tcg",
      "-m", std::to_string(m.memory_mib) + "M", "-smp", std::to_string(m.cpus),
      "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      // signal=off: a Ctrl-C reaches the guest, not QEMU (the shell's exit ends it).
      "-chardev", "stdio,id=console,signal=off",
      "-serial", "chardev:console",
      "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
      "-kernel", m.vmlinux.string(), "-initrd", m.initramfs.string(), "-append", join(append)};
  return cmd;
}

int boot(const Machine& m) {
  auto cmd = qemu_command(m, host_tsc_khz());
  std::vector<char*> args;
  for (auto& a : cmd) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t qemu = ::fork();
  if (qemu < 0) throw core::SystemError(errno, "fork");
  if (qemu == 0) {
    if (!m.interactive) {
      int null = ::open("/dev/null", O_RDONLY);
      if (null < 0 || ::dup2(null, 0) < 0) ::_exit(127);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + m.timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(qemu, &status, WNOHANG);
    if (r == qemu) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(qemu, SIGKILL);
      ::waitpid(qemu, nullptr, 0);
      throw core::Error("the micro-VM did not finish within " + std::to_string(m.timeout.count()) +
                        " s: QEMU was killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status)) throw core::Error("QEMU was killed by signal " + std::to_string(WTERMSIG(status)));
  int code = WEXITSTATUS(status);
  if (code == 127) throw core::Error("cannot run qemu-system-x86_64 (Debian package qemu-system-x86)");
  // isa-debug-exit: QEMU exits with (value << 1) | 1, and the guest's init
  // writes status + 1, so that QEMU's own statuses stay apart: 0 after a
  // guest power-off or reboot (panic=-1), 1 when QEMU itself fails.
  if ((code & 1) == 0 || code < 3)
    throw core::Error(code == 1 ? "QEMU failed before or while booting the micro-VM (see its message above)"
                                : "the micro-VM stopped without its init reporting a status "
                                  "(kernel panic or crashed init)");
  return (code >> 1) - 1;
}

}  // namespace skiff::vm
