// labs/01-first-container/starter/lifecycle_lab.cpp — your part of lifecycle-lab.
//
// Read lifecycle_lab.hpp first: it says what each function must return, with
// examples. Try it by hand (after one `make grade`, the program is built):
//   build/labs-grade/01-first-container/bin/lifecycle-lab detach ctrl-p,ctrl-q 6c73 10 11
//   build/labs-grade/01-first-container/bin/lifecycle-lab status exited 300 137
// Build and grade:   make grade LAB=01 SRC=path/to/your/folder
#include "lifecycle_lab.hpp"

#include <stdexcept>

namespace lab {

std::vector<unsigned char> parse_keys(const std::string& spec) {
  // TODO(part 1): split SPEC at every ',' and turn each key into its byte
  // (the table is in the header). Throw std::invalid_argument naming a key
  // you do not know — an empty one included.
  (void)spec;
  return {};
}

std::string feed(Detacher& d, std::string_view typed) {
  // TODO(part 1): for each byte typed — is it keys[d.held]? Then hold it
  // (d.held grows; all of keys: d.detached, return). Otherwise the held
  // bytes go out first, then this byte — or it starts a new sequence.
  // d.held lives in D, not here: the next read goes on where this one stopped.
  (void)d;
  return std::string(typed);
}

std::string human_duration(double seconds) {
  // TODO(part 2): Docker's rules, top to bottom as in the header. Minutes
  // are rounded down, hours to the nearest.
  (void)seconds;
  return "";
}

std::string status_cell(State state, double seconds, int exit_code) {
  // TODO(part 2): "Created", "Up …", "Up … (Paused)", "Exited (N) … ago".
  (void)state, (void)seconds, (void)exit_code;
  return "";
}

}  // namespace lab
