// 12-vm/kernel.hpp — the kernel a micro-VM boots, obtained from Debian.
//
// Kernel concept: a virtual machine runs a kernel of its own, not the host's.
// Debian ships each kernel as a package (linux-image-6.1.0-57-cloud-amd64)
// holding /boot/vmlinuz-RELEASE, a bzImage: a small real-mode setup, a
// decompressor, and the kernel proper, the ELF file `vmlinux`, compressed
// (lz4 for Debian 12's 6.1, zstd for its 6.12). QEMU's microvm machine can
// jump straight into that ELF through its PVH entry note, which skips the
// decompressor and the real-mode setup: the fastest boot there is. The
// package also holds the kernel's modules, /lib/modules/RELEASE/…, with
// modules.dep saying which module needs which.
//
// Where it runs: the host, as root only for `apt-get download` (a plain file
// works as any user). Lesson: lessons/12-vm-isolation. See Documentation/
// arch/x86/boot.rst for the bzImage header, deb(5) for the package format.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace skiff::vm {

namespace stdfs = std::filesystem;

// A kernel unpacked in the cache: CACHE/RELEASE/{vmlinux, config,
// lib/modules/RELEASE/} (the last indexed by depmod, as installing does).
struct Kernel {
  std::string release;      // "6.1.0-57-cloud-amd64", the name in /lib/modules
  stdfs::path vmlinux;      // the uncompressed ELF kernel
  stdfs::path modules_dir;  // CACHE/RELEASE/lib/modules/RELEASE (empty: no modules)
};

// The ELF kernel inside a bzImage (vmlinuz). IMAGE is untrusted: the header,
// the payload's bounds and the ELF result are all checked, and a bzImage
// whose payload is not an x86-64 ELF whose segments lie inside it is
// refused with a message naming what was wrong.
std::string vmlinux_from_bzimage(std::string_view image);

// DATA decompressed by whichever of libarchive's filters recognises it (xz,
// zstd, lz4, gzip…): a kernel payload or a module.ko.xz. Bytes after the
// compressed stream (a bzImage appends the size) are tolerated when the
// stream itself was read whole. WHAT names it in errors.
std::string decompress(std::string_view data, const std::string& what);

// What the user names with --kernel, to the package that provides it:
//   debian-6.1   → linux-image-cloud-amd64 (Debian 12's stock cloud kernel)
//   debian-6.12  → linux-image-6.12-cloud-amd64
// Any other word is taken as a package name itself.
std::string package_for(const std::string& kernel_name);

// The kernel that SPEC names, unpacked in CACHE (made if needed; a kernel
// already there is not fetched again). SPEC is a name for package_for(), a
// path to a linux-image .deb, or a path to a vmlinuz/bzImage (no modules
// then). A failure leaves nothing half-unpacked in CACHE.
Kernel obtain_kernel(const std::string& spec, const stdfs::path& cache);

// The package that a meta-package such as linux-image-cloud-amd64 depends on
// in apt-cache's CONTROL text ("Depends: linux-image-6.1.0-57-cloud-amd64 (=
// 6.1.192-3)"): the concrete kernel package, or PACKAGE itself when it is one.
std::string concrete_package(const std::string& package, const std::string& control);

}  // namespace skiff::vm
