// tests/unit/test_vm.cpp — the micro-VM's pure parts (runtime/12-vm, lesson
// 12): a bzImage's kernel found and checked, hostile ones refused; Debian's
// meta-package resolved; modules.dep ordered; the initramfs as the kernel
// will read it; QEMU's command line. No root, no QEMU, no network.
#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>

#include "05-images/archive_owner.hpp"
#include "12-vm/initramfs.hpp"
#include "12-vm/kernel.hpp"
#include "12-vm/machine.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "temp_dir.hpp"

namespace vm = skiff::vm;
namespace stdfs = std::filesystem;
using skiff::testing::TempDir;

namespace {

// A minimal x86-64 ELF: the header, one PT_LOAD of FILESZ bytes at 0x1000.
std::string tiny_elf(uint64_t filesz, size_t actual_size = 0x1100) {
  std::string elf(actual_size, '\0');
  Elf64_Ehdr h = {};
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS64;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_type = ET_EXEC;
  h.e_machine = EM_X86_64;
  h.e_phoff = sizeof h;
  h.e_phentsize = sizeof(Elf64_Phdr);
  h.e_phnum = 1;
  Elf64_Phdr ph = {};
  ph.p_type = PT_LOAD;
  ph.p_offset = 0x1000;
  ph.p_filesz = filesz;
  std::memcpy(elf.data(), &h, sizeof h);
  std::memcpy(elf.data() + sizeof h, &ph, sizeof ph);
  return elf;
}

std::string gzip(const std::string& data) {
  skiff::images::ArchiveWriter a(archive_write_new());
  archive_write_set_format_raw(a.get());
  archive_write_add_filter_gzip(a.get());
  std::string out(data.size() + 4096, '\0');
  size_t used = 0;
  REQUIRE(archive_write_open_memory(a.get(), out.data(), out.size(), &used) == ARCHIVE_OK);
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_pathname(e.get(), "data");
  REQUIRE(archive_write_header(a.get(), e.get()) == ARCHIVE_OK);
  REQUIRE(archive_write_data(a.get(), data.data(), data.size()) == static_cast<la_ssize_t>(data.size()));
  REQUIRE(archive_write_close(a.get()) == ARCHIVE_OK);
  out.resize(used);
  return out;
}

// A bzImage as Documentation/arch/x86/boot.rst lays it out: one setup
// sector after the boot sector, then the payload (with the 4 bytes of
// size a real one carries after it).
std::string bzimage(const std::string& payload, uint32_t offset = 0, uint32_t length = 0) {
  std::string img(1024, '\0');
  img[0x1f1] = 1;
  std::memcpy(img.data() + 0x202, "HdrS", 4);
  uint16_t version = 0x20f;
  std::memcpy(img.data() + 0x206, &version, 2);
  uint32_t len = length != 0 ? length : static_cast<uint32_t>(payload.size());
  std::memcpy(img.data() + 0x248, &offset, 4);
  std::memcpy(img.data() + 0x24c, &len, 4);
  return img + payload + std::string("\x10\x11\0\0", 4);
}

}  // namespace

TEST_CASE("vmlinux_from_bzimage finds the compressed ELF kernel through the boot header", "[vm]") {
  auto elf = tiny_elf(0x100);
  CHECK(vm::vmlinux_from_bzimage(bzimage(gzip(elf))) == elf);
}

TEST_CASE("vmlinux_from_bzimage refuses hostile or broken images, naming what is wrong", "[vm]") {
  auto refuses = [](const std::string& image, const std::string& words) {
    CHECK_THROWS_WITH(vm::vmlinux_from_bzimage(image), Catch::Contains(words));
  };
  refuses("not a kernel at all", "no \"HdrS\"");
  refuses(bzimage(gzip(tiny_elf(0x100)), 0, 0x7fffffff), "outside the file");
  refuses(bzimage(gzip(tiny_elf(0x100)), 0x7ffffff0), "outside the file");
  refuses(bzimage(std::string(64, 'x')), "not compressed");
  refuses(bzimage(gzip(std::string(256, 'x'))), "not an x86-64 ELF");
  refuses(bzimage(gzip(tiny_elf(0x10000))), "truncated");  // a segment past the end
}

TEST_CASE("a Debian meta-package resolves to the kernel package it depends on", "[vm]") {
  CHECK(vm::package_for("debian-6.1") == "linux-image-cloud-amd64");
  CHECK(vm::package_for("debian-6.12") == "linux-image-6.12-cloud-amd64");
  CHECK(vm::package_for("linux-image-6.1.0-57-amd64") == "linux-image-6.1.0-57-amd64");
  const std::string control =
      "Package: linux-image-cloud-amd64\nVersion: 6.1.192-3\n"
      "Depends: linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)\n\n"
      "Package: linux-image-cloud-amd64\nDepends: linux-image-6.1.0-50-cloud-amd64\n";
  CHECK(vm::concrete_package("linux-image-cloud-amd64", control) == "linux-image-6.1.0-57-cloud-amd64");
  CHECK(vm::concrete_package("linux-image-6.1.0-57-cloud-amd64",
                             "Package: linux-image-6.1.0-57-cloud-amd64\nDepends: kmod, linux-base\n") ==
        "linux-image-6.1.0-57-cloud-amd64");
}

TEST_CASE("modules.dep gives dependencies first, each once, and built-ins need nothing", "[vm]") {
  TempDir dir("skiff-vm-modules");
  skiff::core::fs::write_file_atomic(dir.path() / "modules.dep",
      "kernel/net/bridge/bridge.ko.xz: kernel/net/802/stp.ko.xz kernel/net/llc/llc.ko.xz\n"
      "kernel/net/802/stp.ko.xz: kernel/net/llc/llc.ko.xz\n"
      "kernel/net/llc/llc.ko.xz:\n"
      "kernel/drivers/net/veth.ko.xz:\n"
      "kernel/net/netfilter/nf-tables.ko:\n");
  skiff::core::fs::write_file_atomic(dir.path() / "modules.builtin", "kernel/fs/overlayfs/overlay.ko\n");
  auto order = vm::module_load_order(dir.path(), {"bridge", "veth", "overlay", "nf_tables", "llc"});
  CHECK(order == std::vector<std::string>{"kernel/net/llc/llc.ko.xz", "kernel/net/802/stp.ko.xz",
                                          "kernel/net/bridge/bridge.ko.xz",
                                          "kernel/drivers/net/veth.ko.xz",
                                          "kernel/net/netfilter/nf-tables.ko"});
  CHECK_THROWS_WITH(vm::module_load_order(dir.path(), {"ipvlan"}), Catch::Contains("\"ipvlan\""));
  CHECK(vm::module_name("kernel/net/netfilter/nf-tables.ko.zst") == "nf_tables");
}

TEST_CASE("the initramfs is a newc cpio with every parent folder before its files", "[vm]") {
  TempDir dir("skiff-vm-cpio");
  vm::Initramfs root;
  root.add_bytes("/skiff/vm.conf", "arg /bin/true\n");
  root.add_symlink("/bin/sh", "/bin/busybox");
  root.add_directory("/tmp", 01777);
  CHECK_THROWS(root.add_bytes("/a/../etc/passwd", "x"));
  CHECK_THROWS(root.add_bytes("relative", "x"));
  root.write(dir.path() / "root.cpio");

  skiff::images::ArchiveReader in(archive_read_new());
  archive_read_support_format_cpio(in.get());
  REQUIRE(archive_read_open_filename(in.get(), (dir.path() / "root.cpio").c_str(), 4096) == ARCHIVE_OK);
  std::vector<std::string> names;
  std::map<std::string, archive_entry*> seen;
  archive_entry* e = nullptr;
  std::string conf, link;
  mode_t tmp_mode = 0;
  while (archive_read_next_header(in.get(), &e) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(e);
    names.push_back(name);
    if (name == "skiff/vm.conf") {
      conf.resize(static_cast<size_t>(archive_entry_size(e)));
      archive_read_data(in.get(), conf.data(), conf.size());
    }
    if (name == "bin/sh") link = archive_entry_symlink(e);
    if (name == "tmp") tmp_mode = archive_entry_mode(e);
  }
  CHECK(std::string(archive_format_name(in.get())) == "ASCII cpio (SVR4 with no CRC)");  // newc
  CHECK(names == std::vector<std::string>{"bin", "bin/sh", "skiff", "skiff/vm.conf", "tmp"});
  CHECK(conf == "arg /bin/true\n");
  CHECK(link == "/bin/busybox");
  CHECK(tmp_mode == (S_IFDIR | 01777));
}

TEST_CASE("QEMU's command line: microvm, the debug-exit port, the TSC, skiff's init", "[vm]") {
  vm::Machine m;
  m.vmlinux = "/cache/vmlinux";
  m.initramfs = "/tmp/root.cpio";
  m.memory_mib = 512;
  auto cmd = vm::qemu_command(m, 2100000);
  auto has = [&](const std::string& a, const std::string& b) {
    for (size_t i = 0; i + 1 < cmd.size(); ++i)
      if (cmd[i] == a && cmd[i + 1] == b) return true;
    return false;
  };
  CHECK(has("-M", "microvm"));
  CHECK(has("-accel", "tcg"));
  CHECK(has("-m", "512M"));
  CHECK(has("-device", "isa-debug-exit,iobase=0xf4,iosize=4"));
  CHECK(has("-kernel", "/cache/vmlinux"));
  CHECK(has("-initrd", "/tmp/root.cpio"));
  CHECK_THAT(cmd.back(), Catch::Contains("tsc_early_khz=2100000 tsc=reliable") && Catch::Contains("rdinit=/skiff/init") &&
                             Catch::Contains("console=ttyS0"));
  m.accel = vm::Accel::kvm;
  auto kvm = vm::qemu_command(m, 0);
  CHECK(std::find(kvm.begin(), kvm.end(), "kvm") != kvm.end());
  CHECK(kvm.back().find("tsc_early_khz") == std::string::npos);
  CHECK(kvm.back().find("tsc=reliable") == std::string::npos);
}
