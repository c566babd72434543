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

// The grammar, one regular expression per part (reference/regexp.go).
const std::regex& path_component_re() {
  // lowercase letters and digits, joined by '.', '_', '__' or runs of '-'.
  static const std::regex re("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  return re;
}
const std::regex& domain_re() {
  static const std::regex re(
      "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
      "(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?");
  return re;
}
const std::regex& tag_re() {
  static const std::regex re("[\\w][\\w.-]{0,127}");
  return re;
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
    if (!std::regex_match(part, path_component_re())) throw core::Error(kInvalid);
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
    if (!std::regex_match(ref.tag, tag_re())) throw core::Error(kInvalid);
  }
  ref.repository = rest;
}

}  // namespace

Reference parse_reference(const std::string& text) {
  static const std::regex id_re("[a-f0-9]{64}");
  if (std::regex_match(text, id_re))
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
  if (!std::regex_match(ref.registry, domain_re())) throw core::Error(kInvalid);
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
