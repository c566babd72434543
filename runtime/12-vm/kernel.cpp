// 12-vm/kernel.cpp — see kernel.hpp.
#include "12-vm/kernel.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <random>
#include <sstream>

#include "05-images/archive_owner.hpp"
#include "12-vm/host_tools.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::vm {

using images::ArchiveReader;
using images::archive_message;
using images::check_archive;

namespace {

template <typename T>
T read_le(std::string_view data, size_t offset, const char* field) {
  if (offset + sizeof(T) > data.size())
    throw core::Error(std::string("bzImage too short for its ") + field);
  T value;
  std::memcpy(&value, data.data() + offset, sizeof value);
  return value;
}

// The ELF checks that matter before QEMU maps the file: an x86-64 executable
// whose program headers, and every segment they describe, are inside it.
void check_vmlinux(std::string_view elf) {
  auto header = read_le<Elf64_Ehdr>(elf, 0, "ELF header");
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_machine != EM_X86_64)
    throw core::Error("the bzImage's payload is not an x86-64 ELF kernel");
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0)
    throw core::Error("the kernel ELF has no usable program headers");
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    auto ph = read_le<Elf64_Phdr>(elf, header.e_phoff + i * sizeof(Elf64_Phdr), "program header");
    if (ph.p_offset > elf.size() || ph.p_filesz > elf.size() - ph.p_offset)
      throw core::Error("the kernel ELF is truncated: segment " + std::to_string(i) +
                        " ends past the end of the payload");
  }
}

}  // namespace

std::string decompress(std::string_view data, const std::string& what) {
  ArchiveReader in(archive_read_new());
  archive_read_support_filter_all(in.get());
  archive_read_support_format_raw(in.get());
  check_archive(in.get(), archive_read_open_memory(in.get(), data.data(), data.size()),
                "decompressing " + what);
  archive_entry* entry = nullptr;
  check_archive(in.get(), archive_read_next_header(in.get(), &entry), "decompressing " + what);
  if (archive_filter_count(in.get()) < 2)
    throw core::Error(what + " is not compressed in a format skiff knows (xz, zstd, lz4, gzip)");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(in.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      // A bzImage's payload ends with 4 bytes of size after the stream,
      // which some of libarchive's decoders report as a broken next frame.
      // What came before is kept; the caller checks that it is whole.
      if (out.empty()) throw core::Error("decompressing " + what + ": " + archive_message(in.get()));
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string vmlinux_from_bzimage(std::string_view image) {
  // Documentation/arch/x86/boot.rst: "HdrS" at 0x202, the number of 512-byte
  // setup sectors at 0x1f1, and (protocol 2.08+) the compressed kernel's
  // offset from the start of the protected-mode code and its length.
  if (image.size() < 0x250 || image.substr(0x202, 4) != "HdrS")
    throw core::Error("not a bzImage (no \"HdrS\" boot header at 0x202)");
  if (read_le<uint16_t>(image, 0x206, "boot protocol version") < 0x208)
    throw core::Error("the bzImage's boot protocol is older than 2.08: no payload fields");
  unsigned setup_sectors = read_le<uint8_t>(image, 0x1f1, "setup sector count");
  if (setup_sectors == 0) setup_sectors = 4;
  uint64_t start = (setup_sectors + 1) * 512ull + read_le<uint32_t>(image, 0x248, "payload offset");
  uint64_t length = read_le<uint32_t>(image, 0x24c, "payload length");
  if (start > image.size() || length > image.size() - start || length < 8)
    throw core::Error("the bzImage's payload lies outside the file");
  std::string elf = decompress(image.substr(start, length), "the bzImage's payload");
  check_vmlinux(elf);
  return elf;
}

std::string package_for(const std::string& kernel_name) {
  if (kernel_name == "debian-6.1") return "linux-image-cloud-amd64";
  if (kernel_name == "debian-6.12") return "linux-image-6.12-cloud-amd64";
  return kernel_name;
}

std::string concrete_package(const std::string& package, const std::string& control) {
  std::istringstream in(control);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) break;  // only the first (candidate) stanza
    if (line.rfind("Depends:", 0) != 0) continue;
    std::istringstream deps(line.substr(8));
    for (std::string dep; std::getline(deps, dep, ',');) {
      auto b = dep.find_first_not_of(' ');
      if (b == std::string::npos) continue;
      std::string name = dep.substr(b, dep.find_first_of(" (|", b) - b);
      if (name.rfind("linux-image-", 0) == 0) return name;
    }
  }
  return package;
}

namespace {

bool safe_relative(const std::string& name) {
  stdfs::path p(name);
  if (p.is_absolute() || name.empty()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

// Reads the data.tar.* member of a .deb (an ar archive) as a tar of its own,
// streamed: libarchive reads the inner archive through these callbacks.
la_ssize_t read_member(archive*, void* outer, const void** buffer) {
  static thread_local char chunk[1 << 16];
  *buffer = chunk;
  return archive_read_data(static_cast<archive*>(outer), chunk, sizeof chunk);
}

void write_entry(archive* in, const stdfs::path& target, const std::string& what) {
  core::fs::make_dirs(target.parent_path());
  std::string content;
  char buf[1 << 16];
  for (la_ssize_t n; (n = archive_read_data(in, buf, sizeof buf)) != 0;) {
    if (n < 0) throw core::Error("reading " + what + ": " + archive_message(in));
    content.append(buf, static_cast<size_t>(n));
  }
  core::fs::write_file_atomic(target, content);
}

// From the package's data.tar: boot/vmlinuz-R and boot/config-R into
// DEST, lib/modules/R/** into DEST/lib/modules/R. Only regular files, only under
// those two folders, only names without "..". Returns R.
std::string unpack_kernel_tar(archive* tar, const stdfs::path& dest, const std::string& deb) {
  std::string release;
  archive_entry* entry = nullptr;
  for (int r; (r = archive_read_next_header(tar, &entry)) != ARCHIVE_EOF;) {
    check_archive(tar, r, "reading " + deb);
    std::string name = archive_entry_pathname(entry);
    if (name.rfind("./", 0) == 0) name = name.substr(2);
    if (archive_entry_filetype(entry) != AE_IFREG || !safe_relative(name)) continue;
    stdfs::path path(name);
    if (name.rfind("boot/vmlinuz-", 0) == 0 && path.parent_path() == "boot") {
      release = name.substr(13);
      write_entry(tar, dest / "vmlinuz", name);
    } else if (name.rfind("boot/config-", 0) == 0 && path.parent_path() == "boot") {
      write_entry(tar, dest / "config", name);
    } else if (name.rfind("lib/modules/", 0) == 0 || name.rfind("usr/lib/modules/", 0) == 0) {
      auto rel = name.substr(name.find("modules/") + 8);  // RELEASE/…
      auto slash = rel.find('/');
      if (slash == std::string::npos) continue;
      write_entry(tar, dest / "lib" / "modules" / rel, name);
    }
  }
  if (release.empty()) throw core::Error(deb + " holds no boot/vmlinuz-*: not a kernel package");
  return release;
}

std::string unpack_deb(const stdfs::path& deb, const stdfs::path& dest) {
  ArchiveReader ar(archive_read_new());
  archive_read_support_format_ar(ar.get());
  check_archive(ar.get(), archive_read_open_filename(ar.get(), deb.c_str(), 1 << 16),
                "opening " + deb.string());
  archive_entry* entry = nullptr;
  for (int r; (r = archive_read_next_header(ar.get(), &entry)) != ARCHIVE_EOF;) {
    check_archive(ar.get(), r, "reading " + deb.string());
    if (std::string(archive_entry_pathname(entry)).rfind("data.tar", 0) != 0) continue;
    ArchiveReader tar(archive_read_new());
    archive_read_support_filter_all(tar.get());
    archive_read_support_format_tar(tar.get());
    check_archive(tar.get(), archive_read_open(tar.get(), ar.get(), nullptr, read_member, nullptr),
                  "opening the data of " + deb.string());
    return unpack_kernel_tar(tar.get(), dest, deb.string());
  }
  throw core::Error(deb.string() + " has no data.tar member: not a Debian package");
}

stdfs::path fresh_dir(const stdfs::path& cache) {
  core::fs::make_dirs(cache);
  std::random_device rd;
  auto dir = cache / (".unpacking-" + std::to_string(rd()));
  stdfs::create_directory(dir);
  return dir;
}

// Unpacks DEB into CACHE/RELEASE through a temporary folder renamed at the
// end, so an interrupted unpack leaves no kernel that looks whole.
Kernel install_deb(const stdfs::path& deb, const stdfs::path& cache) {
  auto tmp = fresh_dir(cache);
  try {
    std::string release = unpack_deb(deb, tmp);
    // The package holds no modules.dep: its installation makes it. depmod
    // (Debian's kmod) reads what each module needs from the modules.
    if (stdfs::exists(tmp / "lib" / "modules" / release))
      run_tool_checked({"depmod", "-b", tmp.string(), release}, "indexing the modules of " + release);
    core::fs::write_file_atomic(tmp / "vmlinux",
                                vmlinux_from_bzimage(core::fs::read_file(tmp / "vmlinuz")));
    stdfs::remove(tmp / "vmlinuz");
    auto final_dir = cache / release;
    std::error_code ec;
    stdfs::rename(tmp, final_dir, ec);  // lost a race with another unpack: keep theirs
    if (ec) stdfs::remove_all(tmp);
    return {release, final_dir / "vmlinux", final_dir / "lib" / "modules" / release};
  } catch (...) {
    std::error_code ec;
    stdfs::remove_all(tmp, ec);
    throw;
  }
}

std::optional<Kernel> cached(const stdfs::path& cache, const std::string& release) {
  auto dir = cache / release;
  if (!stdfs::exists(dir / "vmlinux")) return std::nullopt;
  return Kernel{release, dir / "vmlinux", dir / "lib" / "modules" / release};
}

// linux-image-6.1.0-57-cloud-amd64 → 6.1.0-57-cloud-amd64 (Debian names
// each kernel package after the release it installs).
std::string release_of(const std::string& package) {
  const std::string prefix = "linux-image-";
  return package.rfind(prefix, 0) == 0 ? package.substr(prefix.size()) : package;
}

Kernel fetch_package(const std::string& name, const stdfs::path& cache) {
  const std::string wanted = package_for(name);
  auto control = run_tool({"apt-cache", "show", "--no-all-versions", wanted});
  if (control.code != 0 || control.output.empty())
    throw core::Error("no Debian package " + wanted + " for kernel \"" + name +
                      "\" (apt-cache show failed; is the package list up to date?)");
  const std::string package = concrete_package(wanted, control.output);
  if (auto k = cached(cache, release_of(package))) return *k;
  auto tmp = fresh_dir(cache);
  try {
    run_tool_checked({"apt-get", "download", "-qq", "-o", "APT::Sandbox::User=root", package},
                     "downloading " + package, tmp.string());
    stdfs::path deb;
    for (const auto& f : stdfs::directory_iterator(tmp))
      if (f.path().extension() == ".deb") deb = f.path();
    if (deb.empty()) throw core::Error("apt-get download " + package + " gave no .deb");
    Kernel k = install_deb(deb, cache);
    stdfs::remove_all(tmp);
    return k;
  } catch (...) {
    std::error_code ec;
    stdfs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace

Kernel obtain_kernel(const std::string& spec, const stdfs::path& cache) {
  stdfs::path path(spec);
  if (spec.find('/') == std::string::npos) return fetch_package(spec, cache);
  if (!stdfs::is_regular_file(path)) throw core::Error("--kernel " + spec + ": no such file");
  if (path.extension() == ".deb") return install_deb(path, cache);
  // A bare vmlinuz: decompressed next to nothing else, no modules.
  std::string elf = vmlinux_from_bzimage(core::fs::read_file(path));
  auto dir = cache / ("file-" + path.filename().string());
  core::fs::make_dirs(dir);
  core::fs::write_file_atomic(dir / "vmlinux", elf);
  return {path.filename().string(), dir / "vmlinux", {}};
}

}  // namespace skiff::vm
