// 12-vm/vm_main.cpp — `skiff-vm`: boot a micro-VM on a chosen Debian kernel
// and run one command in it (or a shell).
//
//   skiff-vm [--kernel debian-6.1|debian-6.12|PACKAGE|FILE.deb|VMLINUZ]
//            [--cgroup v2|hybrid] [--module NAME]... [--program PATH]...
//            [--file GUEST=HOST]... [--env K=V]... [--cwd DIR]
//            [--memory MIB] [--cpus N] [--timeout SECONDS] [--cache DIR]
//            [-- COMMAND [ARG...]]
//
// The exit status is the command's (126 for 126 and above), 125 for
// skiff-vm's own errors. This is how skiff's `vm` tests prove it on the
// kernels its users have (tests/vm), and a way to try a kernel by hand:
//   skiff-vm --kernel debian-6.12 --program build/bin/skiff -- build/bin/skiff info
// Lesson: lessons/12-vm-isolation.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <iostream>

#include "12-vm/guest.hpp"
#include "12-vm/kernel.hpp"
#include "core/error.hpp"

namespace po = boost::program_options;
using namespace skiff;

namespace {

std::filesystem::path beside_me(const std::string& name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return self.parent_path() / name;
}

vm::GuestSpec parse(int argc, char** argv, bool& print_kernel) {
  vm::GuestSpec spec;
  std::vector<std::string> modules, programs, files, command;
  std::string cache, init;
  unsigned timeout = 600;
  po::options_description opts("skiff-vm options");
  opts.add_options()
      ("help,h", "this help")
      ("kernel", po::value(&spec.kernel)->default_value(spec.kernel), "kernel: debian-6.1, debian-6.12, a package, a .deb or a vmlinuz")
      ("cgroup", po::value(&spec.cgroup)->default_value(spec.cgroup), "cgroup layout in the guest: v2 or hybrid")
      ("module", po::value(&modules), "load this kernel module (and what it needs): \"NAME [PARAM=V...]\"; overlay always")
      ("program", po::value(&programs), "include this host program at its path, with its libraries")
      ("file", po::value(&files), "GUEST=HOST: include a host file or folder")
      ("env", po::value(&spec.env), "K=V for the command")
      ("cwd", po::value(&spec.cwd)->default_value(spec.cwd), "the command's working folder")
      ("memory", po::value(&spec.memory_mib)->default_value(spec.memory_mib), "guest memory, MiB")
      ("cpus", po::value(&spec.cpus)->default_value(spec.cpus), "virtual CPUs")
      ("timeout", po::value(&timeout)->default_value(timeout), "kill the VM after this many seconds")
      ("cache", po::value(&cache), "where kernels are kept (default $SKIFF_VM_CACHE or /var/cache/skiff/vm)")
      ("init", po::value(&init), "the guest's init (default: skiff-vm-init beside skiff-vm)")
      ("print-kernel", "obtain the kernel, print its release and vmlinux, and stop")
      ("command", po::value(&command), "");
  po::positional_options_description pos;
  pos.add("command", -1);
  po::variables_map vars;
  po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vars);
  po::notify(vars);
  if (vars.count("help")) {
    std::cout << "Usage: skiff-vm [OPTIONS] [-- COMMAND [ARG...]]\n" << opts;
    std::exit(0);
  }
  print_kernel = vars.count("print-kernel") != 0;
  for (const auto& m : modules) spec.modules.push_back(m);
  for (const auto& p : programs) spec.programs.emplace_back(p);
  for (const auto& f : files) {
    auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0) throw core::Error("--file " + f + ": expected GUEST=HOST");
    spec.files.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  spec.command = command;
  spec.cache = cache.empty() ? vm::default_cache() : std::filesystem::path(cache);
  spec.init = init.empty() ? beside_me("skiff-vm-init") : std::filesystem::path(init);
  spec.interactive = command.empty() && ::isatty(0);
  spec.timeout = std::chrono::seconds(timeout);
  if (command.empty() && !spec.interactive && !print_kernel)
    throw core::Error("no command given and stdin is not a terminal: nothing to run");
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool print_kernel = false;
    auto spec = parse(argc, argv, print_kernel);
    if (print_kernel) {
      auto k = vm::obtain_kernel(spec.kernel, spec.cache);
      std::cout << k.release << " " << k.vmlinux.string() << "\n";
      return 0;
    }
    return vm::run_guest(spec);
  } catch (const po::error& e) {
    std::cerr << "skiff-vm: " << e.what() << "\n";
    return 125;
  } catch (const std::exception& e) {
    std::cerr << "skiff-vm: " << e.what() << "\n";
    return 125;
  }
}
