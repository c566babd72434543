// 07-network/mode.cpp — see mode.hpp.
#include "07-network/mode.hpp"

#include <fcntl.h>
#include <sched.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/sys.hpp"
#include "engine/container.hpp"

namespace skiff::network {

Mode parse_mode(const std::string& text) {
  if (text == "none") return {Kind::none, ""};
  if (text == "host") return {Kind::host, ""};
  if (text.rfind("container:", 0) == 0) {
    auto name = text.substr(std::string("container:").size());
    if (name.empty()) throw core::Error("Invalid network mode: invalid container format container:<name|id>");
    return {Kind::container, name};
  }
  if (text == "bridge" || text == "default") return {Kind::bridge, ""};
  throw core::Error("network " + text + " not found");
}

std::string to_string(const Mode& mode) {
  switch (mode.kind) {
    case Kind::host: return "host";
    case Kind::container: return "container:" + mode.container;
    case Kind::bridge: return "bridge";
    case Kind::none: break;
  }
  return "none";
}

void join_namespace_of(pid_t pid, uint64_t start_time, const std::string& container) {
  auto path = "/proc/" + std::to_string(pid) + "/ns/net";
  core::Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  // Checked after the open: the descriptor holds the namespace from here
  // on, whatever happens to the pid.
  if (!ns.valid() || engine::process_start_time(pid) != start_time)
    throw core::Error("cannot join network of a non running container: " + container);
  core::sys::setns(ns.get(), CLONE_NEWNET, path);
}

}  // namespace skiff::network
