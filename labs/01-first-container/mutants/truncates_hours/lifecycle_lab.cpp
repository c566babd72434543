// labs/01-first-container/mutants/truncates_hours/lifecycle_lab.cpp — the solution, but
// hours rounded down, like minutes.
#include "lifecycle_lab.hpp"

#include <stdexcept>

namespace lab {

namespace {

unsigned char key_code(const std::string& key) {
  if (key.size() == 1) return static_cast<unsigned char>(key[0]);
  if (key.size() == 6 && key.rfind("ctrl-", 0) == 0) {
    const char c = key[5];
    if (c >= 'a' && c <= 'z') return static_cast<unsigned char>(c - 'a' + 1);
    if (c == '@') return 0;
    if (c >= '[' && c <= '_') return static_cast<unsigned char>(c - '[' + 0x1b);
  }
  throw std::invalid_argument("invalid detach key '" + key + "'");
}

std::string n(long value, const char* unit) { return std::to_string(value) + " " + unit; }

}  // namespace

std::vector<unsigned char> parse_keys(const std::string& spec) {
  std::vector<unsigned char> keys;
  size_t start = 0;
  for (;;) {
    const size_t comma = spec.find(',', start);
    keys.push_back(key_code(spec.substr(start, comma - start)));
    if (comma == std::string::npos) return keys;
    start = comma + 1;
  }
}

std::string feed(Detacher& d, std::string_view typed) {
  std::string out;
  for (char ch : typed) {
    const auto c = static_cast<unsigned char>(ch);
    if (d.held < d.keys.size() && c == d.keys[d.held]) {
      if (++d.held == d.keys.size()) {
        d.detached = true;
        return out;
      }
      continue;
    }
    // The sequence broke off: what was held back was meant for the container.
    out.append(d.keys.begin(), d.keys.begin() + static_cast<long>(d.held));
    d.held = 0;
    if (!d.keys.empty() && c == d.keys[0])
      d.held = 1;
    else
      out += ch;
  }
  return out;
}

std::string human_duration(double seconds) {
  const long s = static_cast<long>(seconds);
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return n(s, "seconds");
  const long minutes = static_cast<long>(seconds / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return n(minutes, "minutes");
  const long hours = static_cast<long>(seconds / 3600);  // MUTANT: rounded down
  if (hours == 1) return "About an hour";
  if (hours < 48) return n(hours, "hours");
  if (hours < 24 * 7 * 2) return n(hours / 24, "days");
  if (hours < 24 * 30 * 2) return n(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return n(hours / 24 / 30, "months");
  return n(static_cast<long>(seconds / 3600) / 24 / 365, "years");
}

std::string status_cell(State state, double seconds, int exit_code) {
  switch (state) {
    case State::created: return "Created";
    case State::running: return "Up " + human_duration(seconds);
    case State::paused: return "Up " + human_duration(seconds) + " (Paused)";
    case State::exited:
      return "Exited (" + std::to_string(exit_code) + ") " + human_duration(seconds) + " ago";
  }
  return "";
}

}  // namespace lab
