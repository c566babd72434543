// 05-images/reference.cpp — image names: "busybox" is docker.io/library/busybox:latest.
//
// Lesson: lessons/05-images ("what's in a name"). A short name is expanded
// by Docker's rules (github.com/distribution/reference, normalize.go):
//   - the first component is a registry only if it contains '.' or ':', is
//     "localhost", or has upper case (so "user/app" is a Docker Hub user);
//   - Docker Hub's official images live under "library/";
//   - no tag means ":latest", unless a digest pins the exact manifest.
// Runs in: the CLI. Privilege: none. Pure, unit-tested in test_images.cpp.
#include <regex>

#include "05-images/images.hpp"
#include "05-images/oci.hpp"
#include "core/error.hpp"

namespace skiff::images {

namespace {

constexpr const char* kDefaultRegistry = "docker.io";
constexpr const char* kInvalid = "invalid reference format";

// The grammar of reference/regexp.go. The registry part keeps its regular
// expression; the parts every `run` checks are matched by hand, because
// compiling a std::regex costs a fifth of a millisecond in each process.
const std::regex& domain_re() {
  static const std::regex re(
      "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
      "(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?");
  return re;
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_word(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*  — "busybox", "my-app", "a__b".
bool is_path_component(std::string_view s) {
  size_t i = 0;
  auto run_of_alnum = [&] {
    size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    return i > start;
  };
  if (!run_of_alnum()) return false;
  while (i < s.size()) {
    if (s[i] == '.') ++i;
    else if (s[i] == '_') i += s.substr(i, 2) == "__" ? 2 : 1;
    else if (s[i] == '-') while (i < s.size() && s[i] == '-') ++i;
    else return false;
    if (!run_of_alnum()) return false;
  }
  return true;
}

// [\w][\w.-]{0,127}  — "latest", "1.36.1", "v2-rc".
bool is_tag(std::string_view s) {
  if (s.empty() || s.size() > 128 || !is_word(s[0])) return false;
  for (char c : s.substr(1))
    if (!is_word(c) && c != '.' && c != '-') return false;
  return true;
}

bool has_upper(const std::string& s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

// "reg.io/a/b:t" → {"reg.io", "a/b:t"}; "user/app" → {"docker.io", "user/app"}.
std::pair<std::string, std::string> split_registry(const std::string& text) {
  auto slash = text.find('/');
  std::string first = text.substr(0, slash);
  bool is_registry = slash != std::string::npos &&
                     (first.find_first_of(".:") != std::string::npos ||
                      first == "localhost" || has_upper(first));
  if (!is_registry) return {kDefaultRegistry, text};
  if (first == "index.docker.io") first = kDefaultRegistry;  // Docker's old alias
  return {first, text.substr(slash + 1)};
}

void check_repository(const std::string& repository) {
  if (repository.empty()) throw core::Error(kInvalid);
  size_t start = 0;
  for (;;) {
    size_t slash = repository.find('/', start);
    std::string part = repository.substr(start, slash - start);
    if (!is_path_component(part)) throw core::Error(kInvalid);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

// Splits "name[:tag][@digest]" of the remainder into REF's fields.
void split_tag_and_digest(std::string rest, Reference& ref) {
  if (auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest.resize(at);
    if (!oci::is_sha256_digest(ref.digest)) throw core::Error(kInvalid);
  }
  // A ':' after the last '/' starts the tag ("localhost:5000/x" has none).
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    ref.tag = rest.substr(colon + 1);
    rest.resize(colon);
    if (!is_tag(ref.tag)) throw core::Error(kInvalid);
  }
  ref.repository = rest;
}

}  // namespace

Reference parse_reference(const std::string& text) {
  if (text.size() == 64 && oci::is_hex(text))
    throw core::Error("invalid repository name (" + text +
                      "), cannot specify 64-byte hexadecimal strings");
  Reference ref;
  auto [registry, rest] = split_registry(text);
  ref.registry = registry;
  if (registry == kDefaultRegistry && rest.find('/') == std::string::npos) rest = "library/" + rest;
  // Docker checks case before the full grammar, to give this kinder message.
  std::string name = rest.substr(0, rest.find_first_of(":@"));
  if (has_upper(name))
    throw core::Error("invalid reference format: repository name (" + name + ") must be lowercase");
  split_tag_and_digest(rest, ref);
  check_repository(ref.repository);
  if (ref.registry != kDefaultRegistry && !std::regex_match(ref.registry, domain_re()))
    throw core::Error(kInvalid);
  if (ref.registry.size() + 1 + ref.repository.size() > 255)
    throw core::Error("invalid reference format: repository name must not be more than 255 characters");
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string Reference::full() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::familiar_repository() const {
  if (registry != kDefaultRegistry) return registry + "/" + repository;
  constexpr std::string_view kLibrary = "library/";
  // Only official images lose "library/": "library/a/b" keeps it, as in Docker.
  if (repository.starts_with(kLibrary) && repository.find('/', kLibrary.size()) == std::string::npos)
    return repository.substr(kLibrary.size());
  return repository;
}

std::string Reference::familiar() const {
  std::string out = familiar_repository();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

}  // namespace skiff::images
