// cli/parse.hpp — turning what the user typed into values, Docker's way.
//
// Pure functions, unit-tested without root. Each throws core::Error with the
// message Docker prints for the same mistake, so a student who knows one
// tool's errors can read the other's.
// Lesson: lessons/01-first-container (flags), lessons/04-cgroups (limits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace skiff::cli {

// "64m", "1g", "512k", "1.5GiB", "100000" (bytes) → bytes; binary units as
// Docker's RAMInBytes. Throws "invalid size: 'x'".
int64_t parse_size(const std::string& text);

// "0.5", "2", "1.25" → nano-CPUs (×10⁹). Throws on anything else.
int64_t parse_cpus(const std::string& text);

// "100", "-1", "0" → the pids limit; 0 or negative means unlimited (0).
int64_t parse_pids_limit(const std::string& text);

// One -e: "K=V" is kept; "K" takes K's value from LOOKUP (the host's
// environment), and is dropped when the host has no K.
using EnvLookup = std::optional<std::string> (*)(const std::string&);
std::optional<std::string> parse_env_arg(const std::string& text, EnvLookup lookup);

// An --env-file's content: one variable a line, '#' comments and blank lines
// skipped, "K" lines looked up as for -e.
std::vector<std::string> parse_env_file(const std::string& content, EnvLookup lookup);

// Later entries replace earlier ones with the same name; order kept.
std::vector<std::string> merge_env(const std::vector<std::string>& base,
                                   const std::vector<std::string>& overrides);

// "KILL", "SIGKILL", "kill", "9" → 9. Throws "invalid signal: X".
int parse_signal(const std::string& text);

// "10s", "5m", "2h" ago, or an RFC 3339 time → nanoseconds since the epoch
// (NOW_NS is "now"). Throws on anything else.
int64_t parse_since(const std::string& text, int64_t now_ns);

// The host's environment, as an EnvLookup.
std::optional<std::string> host_env(const std::string& name);

}  // namespace skiff::cli
