// 12-vm/initramfs.cpp — see initramfs.hpp.
#include "12-vm/initramfs.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>
#include <sstream>

#include "05-images/archive_owner.hpp"
#include "12-vm/host_tools.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::vm {

using images::ArchiveWriter;
using images::check_archive;

namespace {

void check_guest_path(const std::string& path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/' ||
      path.find("//") != std::string::npos || path.find("/../") != std::string::npos ||
      path.find("/./") != std::string::npos || path.ends_with("/..") || path.ends_with("/."))
    throw core::Error("guest path \"" + path + "\" must be absolute and plain");
}

bool is_elf(const std::string& content) {
  return content.size() >= sizeof(Elf64_Ehdr) && std::memcmp(content.data(), ELFMAG, SELFMAG) == 0;
}

bool is_dynamic_elf(const std::string& content) {
  if (!is_elf(content)) return false;
  Elf64_Ehdr h;
  std::memcpy(&h, content.data(), sizeof h);
  if (h.e_ident[EI_CLASS] != ELFCLASS64 || h.e_phentsize != sizeof(Elf64_Phdr)) return false;
  for (unsigned i = 0; i < h.e_phnum; ++i) {
    size_t at = h.e_phoff + i * sizeof(Elf64_Phdr);
    if (at + sizeof(Elf64_Phdr) > content.size()) return false;
    Elf64_Phdr ph;
    std::memcpy(&ph, content.data() + at, sizeof ph);
    if (ph.p_type == PT_DYNAMIC) return true;
  }
  return false;
}

bool has_debug_sections(const std::string& elf) {
  return elf.find(".debug_info") != std::string::npos;  // in the section-name table
}

// objcopy --strip-debug into a temporary file beside nothing of the user's.
std::string stripped(const stdfs::path& host) {
  char tmpl[] = "/tmp/skiff-vm-strip-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) throw core::SystemError(errno, "mkstemp");
  ::close(fd);
  std::string out;
  try {
    run_tool_checked({"objcopy", "--strip-debug", host.string(), tmpl},
                     "stripping " + host.string() + " for the guest");
    out = core::fs::read_file(tmpl);
  } catch (...) {
    ::unlink(tmpl);
    throw;
  }
  ::unlink(tmpl);
  return out;
}

}  // namespace

void Initramfs::add_parents(const std::string& path) {
  for (auto slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
    entries_.try_emplace(path.substr(0, slash), Entry{S_IFDIR | 0755, {}});
}

void Initramfs::add_directory(const std::string& path, mode_t mode) {
  check_guest_path(path);
  add_parents(path);
  entries_[path] = Entry{S_IFDIR | (mode & 07777), {}};
}

void Initramfs::add_bytes(const std::string& path, std::string content, mode_t mode) {
  check_guest_path(path);
  add_parents(path);
  entries_[path] = Entry{S_IFREG | (mode & 07777), std::move(content)};
}

void Initramfs::add_symlink(const std::string& path, const std::string& target) {
  check_guest_path(path);
  add_parents(path);
  entries_[path] = Entry{S_IFLNK | 0777, target};
}

void Initramfs::add_file(const std::string& path, const stdfs::path& host) {
  struct stat st;
  if (::stat(host.c_str(), &st) != 0) throw core::SystemError(errno, "stat " + host.string());
  if (!S_ISREG(st.st_mode)) throw core::Error(host.string() + " is not a regular file");
  std::string content = core::fs::read_file(host);
  if (is_elf(content) && has_debug_sections(content)) content = stripped(host);
  add_bytes(path, std::move(content), st.st_mode);
}

void Initramfs::add_program(const stdfs::path& host) {
  auto absolute = stdfs::absolute(host).lexically_normal();
  add_file(absolute.string(), absolute);
  for (const auto& lib : shared_libraries(absolute))
    if (!contains(lib.string())) add_file(lib.string(), lib);
}

void Initramfs::write(const stdfs::path& out) const {
  ArchiveWriter a(archive_write_new());
  check_archive(a.get(), archive_write_set_format_cpio_newc(a.get()), "cpio format");
  check_archive(a.get(), archive_write_add_filter_none(a.get()), "cpio filter");
  check_archive(a.get(), archive_write_open_filename(a.get(), out.c_str()), "creating " + out.string());
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  la_int64_t inode = 1;
  for (const auto& [path, entry] : entries_) {
    archive_entry_clear(e.get());
    archive_entry_set_pathname(e.get(), path.c_str() + 1);
    archive_entry_set_mode(e.get(), entry.mode);
    archive_entry_set_ino(e.get(), inode++);
    archive_entry_set_nlink(e.get(), S_ISDIR(entry.mode) ? 2 : 1);
    if (S_ISLNK(entry.mode)) archive_entry_set_symlink(e.get(), entry.content.c_str());
    archive_entry_set_size(e.get(), S_ISREG(entry.mode) ? static_cast<la_int64_t>(entry.content.size()) : 0);
    check_archive(a.get(), archive_write_header(a.get(), e.get()), "writing " + path + " to the initramfs");
    if (S_ISREG(entry.mode) &&
        archive_write_data(a.get(), entry.content.data(), entry.content.size()) !=
            static_cast<la_ssize_t>(entry.content.size()))
      throw core::Error("writing " + path + " to the initramfs: " + images::archive_message(a.get()));
  }
  check_archive(a.get(), archive_write_close(a.get()), "finishing " + out.string());
}

std::vector<stdfs::path> shared_libraries(const stdfs::path& program) {
  // A static program has no PT_DYNAMIC, and nothing for the loader to list;
  // a program or a shared library with one, the loader lists.
  if (!is_dynamic_elf(core::fs::read_file(program))) return {};
  auto listing = run_tool({"/lib64/ld-linux-x86-64.so.2", "--list", program.string()});
  if (listing.code != 0) return {};
  std::vector<stdfs::path> out;
  std::istringstream in(listing.output);
  for (std::string line; std::getline(in, line);) {
    // "\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x…)" or
    // "\t/lib64/ld-linux-x86-64.so.2 (0x…)"; the vDSO has no file.
    auto arrow = line.find("=> ");
    auto start = arrow != std::string::npos ? arrow + 3 : line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] != '/') continue;
    out.emplace_back(line.substr(start, line.find(" (", start) - start));
  }
  return out;
}

std::string module_name(const std::string& file) {
  std::string name = stdfs::path(file).filename().string();
  name = name.substr(0, name.find(".ko"));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

std::vector<std::string> module_load_order(const stdfs::path& modules_dir,
                                           const std::vector<std::string>& names) {
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> dep;  // name → file, deps
  std::istringstream in(core::fs::read_file(modules_dir / "modules.dep"));
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream needs(line.substr(colon + 1));
    std::vector<std::string> deps;
    for (std::string d; needs >> d;) deps.push_back(d);
    dep[module_name(line.substr(0, colon))] = {line.substr(0, colon), deps};
  }
  std::set<std::string> builtin;
  if (auto text = core::fs::read_file_if_exists(modules_dir / "modules.builtin")) {
    std::istringstream b(*text);
    for (std::string line; std::getline(b, line);) builtin.insert(module_name(line));
  }
  std::vector<std::string> order;
  std::set<std::string> seen;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    if (!seen.insert(name).second) return;
    auto it = dep.find(name);
    if (it == dep.end()) {
      if (builtin.count(name)) return;
      throw core::Error("kernel module \"" + name + "\" is neither in " +
                        (modules_dir / "modules.dep").string() + " nor built in");
    }
    for (const auto& d : it->second.second) visit(module_name(d));
    order.push_back(it->second.first);
  };
  for (auto name : names) {
    std::replace(name.begin(), name.end(), '-', '_');
    visit(name);
  }
  return order;
}

}  // namespace skiff::vm
