// core/library.hpp — a shared library loaded only when a command needs it.
//
// skiff is linked statically so that `run` starts fast (runtime/CMakeLists
// .txt); the two libraries it would otherwise drag in for everyone are
// opened with dlopen(3) by the commands that use them: libcurl (pull, push)
// and libnftables (the bridge's NAT). A missing library or symbol is one
// clear error line naming the Debian package, never a crash.
// Man pages: dlopen(3), dlsym(3).
#pragma once

#include <dlfcn.h>

#include <string>

#include "core/error.hpp"

namespace skiff::core {

class Library {
 public:
  // WHY names the need ("talking to a registry needs libcurl"), PACKAGE
  // the Debian package that brings FILE. RTLD_LOCAL: the library's own
  // dependencies stay out of skiff's symbol space. Never closed.
  Library(const char* file, std::string why, std::string package)
      : file_(file), why_(std::move(why)), package_(std::move(package)) {
    handle_ = ::dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!handle_)
      throw Error(why_ + ", which cannot be loaded (" + ::dlerror() + "): install Debian's " + package_);
  }

  // FN = the symbol NAME, or an Error saying the library lacks it.
  template <typename Fn>
  void resolve(const char* name, Fn& fn) const {
    void* symbol = ::dlsym(handle_, name);
    if (!symbol)
      throw Error(why_ + ": " + file_ + " has no " + name + " (install Debian's " + package_ + ")");
    fn = reinterpret_cast<Fn>(symbol);
  }

 private:
  const char* file_;
  std::string why_, package_;
  void* handle_ = nullptr;
};

}  // namespace skiff::core
