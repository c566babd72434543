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

// runtime/ folders and lessons/ folders share their numbers; only a few
// names differ (the module is named for what it does, the lesson for what
// the student meets).
std::string lesson_for(std::string_view module) {
  if (module == "01-lifecycle") return "01-first-container";
  if (module == "07-network") return "07-none-and-host";
  if (module == "09-ports") return "09-port-mapping";
  if (module == "12-vm") return "12-vm-isolation";
  return std::string(module);
}
}  // namespace

void enable(bool on) { g_enabled = on; }
bool enabled() { return g_enabled; }

void call(std::string_view text) {
  if (!g_enabled) return;
  emit("        " + std::string(text) + "\n");
}

Step::Step(std::string_view module, std::string_view what) : Step(module, what, lesson_for(module)) {}

Step::Step(std::string_view module, std::string_view what, std::string_view lesson) {
  g_module = module;
  g_step = what;
  if (!g_enabled) return;
  emit("skiff: [" + std::string(module) + "] " + std::string(what) + "   (lessons/" + std::string(lesson) + ")\n");
}

Step::~Step() {}

std::string_view current_module() { return g_module; }
std::string_view current_step() { return g_step; }

}  // namespace skiff::core::trace
