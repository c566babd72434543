// cli/format.cpp — see format.hpp.
#include "cli/format.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace skiff::cli {

std::string human_duration(double secs) {
  auto n = [](long v, const char* unit) { return std::to_string(v) + " " + unit; };
  long seconds = static_cast<long>(secs);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return n(seconds, "seconds");
  long minutes = static_cast<long>(secs / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return n(minutes, "minutes");
  long hours = static_cast<long>(secs / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return n(hours, "hours");
  if (hours < 24 * 7 * 2) return n(hours / 24, "days");
  if (hours < 24 * 30 * 2) return n(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return n(hours / 24 / 30, "months");
  return n(static_cast<long>(secs / 3600) / 24 / 365, "years");
}

std::string human_size(double bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int unit = 0;
  while (bytes >= 1000.0 && unit < 5) bytes /= 1000.0, ++unit;
  char out[32];
  std::snprintf(out, sizeof out, "%.3g%s", bytes, units[unit]);
  return out;
}

namespace {

// Go's strconv.Quote for the characters a command line holds: quotes and
// backslashes escaped, control characters as \n, \t or \xNN.
std::string go_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

}  // namespace

std::string ps_command(const std::vector<std::string>& argv, bool no_trunc) {
  // Docker's daemon joins the arguments, wrapping those with a space in '…'.
  std::string command;
  for (const auto& a : argv) {
    if (!command.empty()) command += ' ';
    command += a.find(' ') != std::string::npos && &a != &argv.front() ? "'" + a + "'" : a;
  }
  if (!no_trunc) {
    // Count characters, not bytes: cut on a UTF-8 boundary.
    size_t chars = 0, cut = command.size();
    for (size_t i = 0; i < command.size(); ++i) {
      if ((command[i] & 0xC0) == 0x80) continue;
      if (++chars == 20) cut = i;
    }
    if (chars > 20) command = command.substr(0, cut) + "…";
  }
  return go_quote(command);
}

int64_t parse_rfc3339(const std::string& text) {
  struct tm tm {};
  const char* rest = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  // Docker's "0001-01-01T00:00:00Z" means "never"; it is 0 here too.
  if (!rest || tm.tm_year < 70) return 0;
  int64_t nanos = 0;
  if (*rest == '.') {
    int64_t scale = 100000000;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10) nanos += (*rest - '0') * scale;
  }
  auto secs = static_cast<int64_t>(::timegm(&tm));
  // Past 2262 nanoseconds overflow int64: later than anything, then.
  if (secs >= INT64_MAX / 1000000000) return INT64_MAX;
  return secs * 1000000000 + nanos;
}

double seconds_since(const std::string& rfc3339) {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t now_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  return std::max<double>(0, static_cast<double>(now_ns - parse_rfc3339(rfc3339)) / 1e9);
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  auto length = [](const std::string& s) {  // characters, for "…"
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
      return (c & 0xC0) != 0x80;
    }));
  };
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], length(row[i]));
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(std::max<size_t>(width[i] + 3, 10) - length(row[i]), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace skiff::cli
