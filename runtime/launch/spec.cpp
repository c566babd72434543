// launch/spec.cpp — see spec.hpp.
#include "launch/spec.hpp"

#include "core/error.hpp"

namespace skiff::launch {

Upto parse_upto(const std::string& module) {
  struct Name {
    const char* short_name;
    const char* folder;
    Upto upto;
  };
  static const Name names[] = {{"chroot", "02-chroot", Upto::chroot},
                               {"namespaces", "03-namespaces", Upto::namespaces},
                               {"cgroups", "04-cgroups", Upto::cgroups},
                               {"all", "all", Upto::all}};
  for (const auto& n : names)
    if (module == n.short_name || module == n.folder) return n.upto;
  throw core::Error("invalid argument \"" + module +
                    "\" for \"--upto\" flag: expected chroot, namespaces, cgroups or all");
}

std::string upto_name(Upto upto) {
  switch (upto) {
    case Upto::chroot: return "chroot";
    case Upto::namespaces: return "namespaces";
    case Upto::cgroups: return "cgroups";
    case Upto::all: return "all";
  }
  return "all";
}

}  // namespace skiff::launch
