// core/trace.hpp — the narration behind `skiff --explain`.
//
// Lesson: every lesson's "how skiff does it" section shows this output.
// Each pipeline step opens a `Step` (module, what it does, the lesson that
// explains it); every checked system call made inside it is printed under
// it. When --explain is off, nothing is formatted: the cost is one branch.
#pragma once

#include <string>
#include <string_view>

namespace skiff::core::trace {

void enable(bool on);
bool enabled();

// Prints one narrated line under the current step ("mount(…)", "write …").
void call(std::string_view text);

// A named step of the pipeline. Prints its header when --explain is on.
class Step {
 public:
  Step(std::string_view module, std::string_view what);
  // A step of MODULE taught by another lesson than the module's first one
  // (07-network's bridge steps: lesson 08-bridge).
  Step(std::string_view module, std::string_view what, std::string_view lesson);
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;
  ~Step();
};

// The module of the innermost open step ("" outside any step): the child
// names it when it reports a failure to the parent.
std::string_view current_module();
std::string_view current_step();

}  // namespace skiff::core::trace
