// core/trace.cpp — see trace.hpp.
#include "core/trace.hpp"

#include <unistd.h>

#include <string>

namespace skiff::core::trace {
namespace {
bool g_enabled = false;
std::string_view g_module;
std::string_view g_step;

// One write(2) per line, so lines from the parent and the child of a clone
// never interleave mid-line.
void emit(const std::string& line) {
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}
}  // namespace

void enable(bool on) { g_enabled = on; }
bool enabled() { return g_enabled; }

void call(std::string_view text) {
  if (!g_enabled) return;
  emit("        " + std::string(text) + "\n");
}

Step::Step(std::string_view module, std::string_view what) {
  g_module = module;
  g_step = what;
  if (!g_enabled) return;
  emit("skiff: [" + std::string(module) + "] " + std::string(what) +
       "   (lessons/" + std::string(module) + ")\n");
}

Step::~Step() {}

std::string_view current_module() { return g_module; }
std::string_view current_step() { return g_step; }

}  // namespace skiff::core::trace
