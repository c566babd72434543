// cli/format.hpp — printing what Docker prints.
//
// Pure functions: human durations ("About a minute"), sizes ("4.26MB"),
// ps' COMMAND and STATUS cells, and the space-padded tables of `ps` and
// `images`. Unit-tested without root.
// Lesson: lessons/01-first-container.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace skiff::cli {

// Docker's HumanDuration: "Less than a second", "1 second", "5 seconds",
// "About a minute", "3 minutes", "About an hour", "5 hours", "3 days",
// "2 weeks", "4 months", "2 years".
std::string human_duration(double seconds);

// Docker's HumanSize: decimal units, three significant digits ("4.26MB").
std::string human_size(double bytes);

// The COMMAND cell: the command quoted, cut to 20 characters with "…".
std::string ps_command(const std::vector<std::string>& argv, bool no_trunc);

// Seconds between two RFC 3339 times, or from one to now (negative → 0).
double seconds_since(const std::string& rfc3339);
int64_t parse_rfc3339(const std::string& text);  // → nanoseconds since epoch

// Columns padded to the widest cell plus three spaces (minimum ten), the
// last column unpadded: Go's tabwriter as the Docker CLI sets it up.
std::string table(const std::vector<std::vector<std::string>>& rows);

}  // namespace skiff::cli
