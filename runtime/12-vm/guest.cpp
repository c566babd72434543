// 12-vm/guest.cpp — see guest.hpp.
#include "12-vm/guest.hpp"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <random>
#include <sstream>

#include "12-vm/host_tools.hpp"
#include "12-vm/machine.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::vm {

namespace {

constexpr const char* kBusybox = "/bin/busybox";  // Debian's busybox-static
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string config_line(const std::string& key, const std::string& value) {
  if (value.find('\n') != std::string::npos)
    throw core::Error("the micro-VM's " + key + " \"" + value + "\" holds a newline");
  return key + " " + value + "\n";
}

void add_busybox(Initramfs& root) {
  root.add_file(kBusybox, kBusybox);
  auto applets = run_tool_checked({kBusybox, "--list-full"}, "listing busybox's applets");
  std::istringstream in(applets);
  for (std::string applet; std::getline(in, applet);) {
    if (applet.empty()) continue;
    std::string path = "/" + applet;
    if (path != kBusybox && !root.contains(path)) root.add_symlink(path, kBusybox);
  }
}

void add_base_files(Initramfs& root) {
  root.add_directory("/newroot");
  for (const char* d : {"/proc", "/sys", "/dev", "/run", "/tmp", "/root", "/var/tmp"})
    root.add_directory(d, std::string(d) == "/tmp" || std::string(d) == "/var/tmp" ? 01777 : 0755);
  root.add_bytes("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
  root.add_bytes("/etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
  root.add_bytes("/etc/hosts", "127.0.0.1\tlocalhost skiff-vm\n::1\tlocalhost\n");
}

void add_tree(Initramfs& root, const std::string& guest, const stdfs::path& host) {
  if (!stdfs::is_directory(host)) {
    root.add_file(guest, host);
    return;
  }
  root.add_directory(guest);
  for (const auto& e : stdfs::recursive_directory_iterator(host)) {
    std::string path = guest + "/" + e.path().lexically_relative(host).string();
    if (e.is_symlink()) root.add_symlink(path, stdfs::read_symlink(e.path()).string());
    else if (e.is_directory()) root.add_directory(path);
    else if (e.is_regular_file()) root.add_file(path, e.path());
  }
}

std::string add_modules(Initramfs& root, const GuestSpec& spec, const Kernel& kernel) {
  if (spec.modules.empty()) return "";
  if (kernel.modules_dir.empty())
    throw core::Error("kernel " + kernel.release + " comes without modules; cannot load " + spec.modules[0]);
  // "brd rd_nr=1": the module's name, then its parameters, which apply to
  // that module only (not to what it needs).
  std::vector<std::string> names;
  std::map<std::string, std::string> params;
  for (const auto& m : spec.modules) {
    auto space = m.find(' ');
    names.push_back(m.substr(0, space));
    if (space != std::string::npos) params[module_name(names.back())] = m.substr(space + 1);
  }
  std::string lines;
  for (const auto& rel : module_load_order(kernel.modules_dir, names)) {
    std::string content = core::fs::read_file(kernel.modules_dir / rel);
    std::string plain = rel.substr(0, rel.find(".ko") + 3);
    if (plain != rel) content = decompress(content, rel);
    std::string guest = "/lib/modules/" + kernel.release + "/" + plain;
    root.add_bytes(guest, std::move(content));
    auto p = params.find(module_name(rel));
    lines += config_line("module", p == params.end() ? guest : guest + " " + p->second);
  }
  return lines;
}

std::string init_config(const GuestSpec& spec, const std::string& module_lines) {
  std::string conf = module_lines + config_line("cgroup", spec.cgroup) + config_line("cwd", spec.cwd);
  bool has_path = false, has_home = false, has_term = false;
  for (const auto& e : spec.env) {
    has_path |= e.rfind("PATH=", 0) == 0;
    has_home |= e.rfind("HOME=", 0) == 0;
    has_term |= e.rfind("TERM=", 0) == 0;
    conf += config_line("env", e);
  }
  if (!has_path) conf += config_line("env", std::string("PATH=") + kDefaultPath);
  if (!has_home) conf += config_line("env", "HOME=/root");
  if (!has_term) conf += config_line("env", spec.interactive ? "TERM=linux" : "TERM=dumb");
  for (const auto& a : spec.command) conf += config_line("arg", a);
  return conf;
}

}  // namespace

stdfs::path default_cache() {
  const char* env = std::getenv("SKIFF_VM_CACHE");
  return env != nullptr && *env != '\0' ? stdfs::path(env) : stdfs::path("/var/cache/skiff/vm");
}

Initramfs pack(const GuestSpec& spec, const Kernel& kernel) {
  if (spec.cgroup != "v2" && spec.cgroup != "hybrid")
    throw core::Error("--cgroup " + spec.cgroup + ": the micro-VM knows v2 and hybrid");
  Initramfs root;
  add_base_files(root);
  add_busybox(root);
  root.add_file("/skiff/init", spec.init);
  for (const auto& program : spec.programs) root.add_program(program);
  for (const auto& [guest, host] : spec.files) add_tree(root, guest, host);
  root.add_bytes("/skiff/vm.conf", init_config(spec, add_modules(root, spec, kernel)));
  return root;
}

int run_guest(const GuestSpec& spec) {
  Kernel kernel = obtain_kernel(spec.kernel, spec.cache.empty() ? default_cache() : spec.cache);
  Initramfs root = pack(spec, kernel);
  std::random_device rd;
  auto cpio = stdfs::temp_directory_path() / ("skiff-vm-" + std::to_string(rd()) + ".cpio");
  struct Remove {
    stdfs::path path;
    ~Remove() {
      std::error_code ec;
      stdfs::remove(path, ec);
    }
  } remove{cpio};
  root.write(cpio);
  Machine m;
  m.vmlinux = kernel.vmlinux;
  m.initramfs = cpio;
  m.memory_mib = spec.memory_mib;
  m.cpus = spec.cpus;
  m.interactive = spec.interactive;
  m.timeout = spec.timeout;
  m.accel = kvm_works() ? Accel::kvm : Accel::tcg;
  return boot(m);
}

}  // namespace skiff::vm
