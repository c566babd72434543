// cli/parse.cpp — see parse.hpp.
#include "cli/parse.hpp"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <sstream>

#include "core/error.hpp"

namespace skiff::cli {

int64_t parse_size(const std::string& text) {
  static const std::regex size(R"(^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$)");
  std::smatch m;
  if (!std::regex_match(text, m, size)) throw core::Error("invalid size: '" + text + "'");
  // The pattern lets "1.2.3" through; Docker's float parse then refuses it.
  if (std::count(text.begin(), text.end(), '.') > 1) throw core::Error("invalid size: '" + text + "'");
  double value = std::stod(m[1].str());
  static const std::string units = "kmgtp";
  if (m[3].matched) {
    auto power = units.find(static_cast<char>(std::tolower(m[3].str()[0]))) + 1;
    value *= std::pow(1024.0, static_cast<double>(power));
  }
  return static_cast<int64_t>(value);
}

int64_t parse_cpus(const std::string& text) {
  static const std::regex rational(R"(^\d+(\.\d+)?$|^\.\d+$)");
  if (!std::regex_match(text, rational))
    throw core::Error("failed to parse " + text + " as a rational number");
  double cpus = std::stod(text);
  return static_cast<int64_t>(std::llround(cpus * 1e9));
}

int64_t parse_pids_limit(const std::string& text) {
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  // strtoll skips leading blanks; Go's ParseInt, which Docker uses, does not.
  if (text.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(text[0])))
    throw core::Error("strconv.ParseInt: parsing \"" + text + "\": invalid syntax");
  return value > 0 ? value : 0;
}

std::optional<std::string> parse_env_arg(const std::string& text, EnvLookup lookup) {
  // Like Docker, -e checks only that there is a name: "a b=1" is allowed.
  auto eq = text.find('=');
  std::string name = text.substr(0, eq);
  if (name.empty()) throw core::Error("invalid environment variable: " + text);
  if (eq != std::string::npos) return text;
  if (auto value = lookup(name)) return name + "=" + *value;
  return std::nullopt;
}

std::vector<std::string> parse_env_file(const std::string& content, EnvLookup lookup) {
  std::vector<std::string> env;
  // Files saved by some editors start with a UTF-8 byte-order mark.
  std::istringstream in(content.rfind("\xEF\xBB\xBF", 0) == 0 ? content.substr(3) : content);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    std::string name = line.substr(0, line.find('='));
    if (name.empty())
      throw core::Error("poorly formatted environment: no variable name on line '" + line + "'");
    if (name.find_first_of(" \t") != std::string::npos)
      throw core::Error("poorly formatted environment: variable '" + name +
                        "' contains whitespaces");
    if (auto kv = parse_env_arg(line, lookup)) env.push_back(*kv);
  }
  return env;
}

std::vector<std::string> merge_env(const std::vector<std::string>& base,
                                   const std::vector<std::string>& overrides) {
  std::vector<std::string> out = base;
  for (const auto& kv : overrides) {
    auto name = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (auto& existing : out)
      if (existing.substr(0, existing.find('=')) == name) existing = kv, replaced = true;
    if (!replaced) out.push_back(kv);
  }
  return out;
}

int parse_signal(const std::string& text) {
  static const std::pair<const char*, int> names[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP},
      {"CONT", SIGCONT}, {"ALRM", SIGALRM}, {"CHLD", SIGCHLD}, {"PIPE", SIGPIPE},
      {"WINCH", SIGWINCH}};
  std::string name = text;
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const auto& [n, number] : names)
    if (name == n) return number;
  char* end = nullptr;
  long number = std::strtol(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0' && number > 0 && number < 65) return static_cast<int>(number);
  throw core::Error("invalid signal: " + text);
}

int64_t parse_since(const std::string& text, int64_t now_ns) {
  static const std::regex duration(R"(^(\d+)(s|m|h)$)");
  std::smatch m;
  if (std::regex_match(text, m, duration)) {
    int64_t unit = m[2] == "s" ? 1 : m[2] == "m" ? 60 : 3600;
    return now_ns - std::stoll(m[1].str()) * unit * 1'000'000'000;
  }
  struct tm tm {};
  if (::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr) {
    auto secs = static_cast<int64_t>(::timegm(&tm));  // past 2262, ns overflow int64
    return secs >= INT64_MAX / 1'000'000'000 ? INT64_MAX : secs * 1'000'000'000;
  }
  throw core::Error("invalid value for \"since\": " + text);
}

std::optional<std::string> host_env(const std::string& name) {
  if (const char* v = std::getenv(name.c_str())) return std::string(v);
  return std::nullopt;
}

}  // namespace skiff::cli
