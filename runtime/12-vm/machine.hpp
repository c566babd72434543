// 12-vm/machine.hpp — one micro-VM: QEMU's microvm machine, booted straight
// into an ELF kernel with skiff's initramfs, until its init reports.
//
// Kernel concept: a VM has its own kernel, its own memory and devices; a
// container has the host's. QEMU's `microvm` machine has almost no devices
// (no PCI, no BIOS tables, no PIT): a serial port for the console, the
// isa-debug-exit port through which the guest's init says how its command
// ended, and virtio-mmio devices when asked. It boots in about 3 s under
// TCG (QEMU translating every instruction) and in well under a second with
// KVM, which skiff uses only where a probe shows it really works: on a host
// that is itself a nested VM, /dev/kvm can accept a trivial guest and still
// run real code a thousand times slower (../shared/notes/microvm.md).
//
// Where it runs: the host, as any user who may open /dev/kvm (else TCG).
// Lesson: lessons/12-vm-isolation. See QEMU's docs/system/i386/microvm.rst.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace skiff::vm {

namespace stdfs = std::filesystem;

enum class Accel { tcg, kvm };

struct Machine {
  stdfs::path vmlinux;
  stdfs::path initramfs;
  unsigned memory_mib = 1024;
  unsigned cpus = 2;
  Accel accel = Accel::tcg;
  bool interactive = false;  // the console is the user's terminal (stdin too)
  std::chrono::seconds timeout{600};
  std::vector<std::string> kernel_args;  // appended to skiff's own
};

// True when /dev/kvm runs a million-iteration loop within 50 ms in a
// throw-away guest (a forked child, killed at the deadline): a usable KVM.
bool kvm_works();

// The host's TSC frequency in kHz (/proc/cpuinfo), for tsc_early_khz=:
// microvm has no timer to calibrate the guest's TSC against, and without
// the value a guest kernel can hang at boot. 0 when unknown.
unsigned long host_tsc_khz();

// QEMU's command line for M (pure: tested without QEMU).
std::vector<std::string> qemu_command(const Machine& m, unsigned long tsc_khz);

// Boots M with the console on this process's stdout and waits. Returns the
// status the guest's init reported: its command's, 126 for 126 and above
// (QEMU keeps 7 bits; the init prints the exact status on the console).
// Throws core::Error when QEMU cannot start, when the guest stops without
// reporting (a kernel panic, a crashed init), or after M.timeout (QEMU is
// killed then).
int boot(const Machine& m);

}  // namespace skiff::vm
