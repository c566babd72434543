// 05-images/registry.cpp — the pure parts of the registry client (see registry.hpp).
//
// Lesson: lessons/05-images ("talking to a registry"). Nothing here opens a
// connection: where a registry's API lives, which scheme it may use, what
// its 401 asks for, which manifest of an index fits this machine, and how
// Docker words a registry's error. Unit-tested in tests/unit/test_registry.cpp.
#include <algorithm>
#include <cctype>
#include <map>

#include "05-images/registry.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"

namespace skiff::images::registry {

using json = nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "127.0.0.1:5000" → "127.0.0.1"; "[::1]:5000" → "::1".
std::string without_port(const std::string& host) {
  if (host.starts_with("[")) return host.substr(1, host.find(']') - 1);
  if (std::count(host.begin(), host.end(), ':') > 1) return host;  // a bare IPv6 address
  return host.substr(0, host.find(':'));
}

// RFC 7230's "token" characters, as in a header's names and unquoted values.
bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/:").find(c) != std::string_view::npos;
}

// A cursor over a WWW-Authenticate header.
struct Cursor {
  const std::string& s;
  size_t i = 0;

  bool done() const { return i >= s.size(); }
  void skip_spaces() {
    while (!done() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  std::string token() {
    size_t start = i;
    while (!done() && is_token_char(s[i])) ++i;
    return s.substr(start, i - start);
  }
  // "quoted \"text\"" with its escapes undone, or a plain token.
  std::string value() {
    if (done() || s[i] != '"') return token();
    std::string out;
    for (++i; !done() && s[i] != '"'; ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out += s[i];
    }
    if (!done()) ++i;  // the closing quote
    return out;
  }
  // Is what follows "name=" (a parameter) rather than a new challenge?
  bool at_parameter() const {
    size_t j = i;
    while (j < s.size() && is_token_char(s[j]) && s[j] != '=') ++j;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    return j < s.size() && s[j] == '=' && j > i;
  }
};

// Percent-encodes a query parameter's value.
std::string url_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

const std::map<long, std::string>& reasons() {
  static const std::map<long, std::string> table = {
      {400, "Bad Request"},       {401, "Unauthorized"},          {403, "Forbidden"},
      {404, "Not Found"},         {405, "Method Not Allowed"},    {409, "Conflict"},
      {416, "Range Not Satisfiable"}, {429, "Too Many Requests"}, {500, "Internal Server Error"},
      {502, "Bad Gateway"},       {503, "Service Unavailable"},   {504, "Gateway Timeout"}};
  return table;
}

// The "arm64" variant "v8" is the default: an entry without one matches it.
std::string normal_variant(const std::string& architecture, const std::string& variant) {
  return architecture == "arm64" && variant.empty() ? "v8" : variant;
}

oci::Descriptor checked_descriptor(const json& j, const std::string& what) {
  oci::Descriptor d = oci::descriptor_from_json(j);
  if (!oci::is_sha256_digest(d.digest))
    throw core::Error("manifest: the " + what + " digest \"" + d.digest + "\" is not a sha256 digest");
  if (d.size < 0) throw core::Error("manifest: the " + what + " size is negative");
  return d;
}

}  // namespace

std::string accept_header() {
  return std::string("Accept: ") + oci::kIndexType + ", " + oci::kManifestType + ", " +
         kDockerListType + ", " + oci::kDockerManifestType;
}

bool is_index_type(const std::string& media_type) {
  return media_type == oci::kIndexType || media_type == kDockerListType;
}

bool is_image_manifest_type(const std::string& media_type) {
  return media_type == oci::kManifestType || media_type == oci::kDockerManifestType;
}

// ---- hosts ----------------------------------------------------------------

std::string api_host(const std::string& registry, const char* hub_override) {
  if (registry != kDockerHub) return registry;
  return hub_override && *hub_override ? hub_override : kDockerHubApiHost;
}

bool is_loopback(const std::string& host) {
  std::string name = without_port(host);
  bool ipv4 = !name.empty() && name.find_first_not_of("0123456789.") == std::string::npos;
  return name == "localhost" || name == "::1" || (ipv4 && name.starts_with("127."));
}

std::vector<std::string> base_urls(const std::string& host, const std::vector<std::string>& insecure) {
  bool listed = std::find(insecure.begin(), insecure.end(), host) != insecure.end();
  if (is_loopback(host) || listed) return {"https://" + host, "http://" + host};
  return {"https://" + host};
}

std::string normalize_server(const std::string& server) {
  std::string s = server;
  for (const char* scheme : {"https://", "http://"})
    if (s.starts_with(scheme)) s = s.substr(std::string_view(scheme).size());
  s = s.substr(0, s.find('/'));
  if (s == "index.docker.io" || s == kDockerHubApiHost) return kDockerHub;
  return s;
}

std::string auth_key(const std::string& registry) {
  return registry == kDockerHub ? kDockerHubAuthKey : registry;
}

// ---- challenges -------------------------------------------------------------

std::vector<Challenge> parse_www_authenticate(const std::string& header) {
  std::vector<Challenge> out;
  Cursor c{header};
  while (!c.done()) {
    c.skip_spaces();
    if (!c.done() && c.s[c.i] == ',') {
      ++c.i;
      continue;
    }
    std::string scheme = c.token();
    if (scheme.empty()) break;  // junk: stop rather than loop
    Challenge challenge{lower(scheme), {}};
    for (;;) {
      c.skip_spaces();
      if (!c.at_parameter()) break;
      std::string name = lower(c.token());
      c.skip_spaces();
      ++c.i;  // '='
      c.skip_spaces();
      challenge.params[name] = c.value();
      c.skip_spaces();
      if (c.done() || c.s[c.i] != ',') break;
      ++c.i;
    }
    out.push_back(std::move(challenge));
  }
  return out;
}

std::string token_url(const Challenge& bearer, const std::string& scope) {
  auto realm = bearer.params.find("realm");
  if (realm == bearer.params.end() || realm->second.empty())
    throw core::Error("the registry asks for a Bearer token but names no realm to get it from");
  std::string url = realm->second;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  if (auto service = bearer.params.find("service"); service != bearer.params.end()) {
    url += sep + std::string("service=") + url_encode(service->second);
    sep = '&';
  }
  if (!scope.empty()) url += sep + std::string("scope=") + url_encode(scope);
  return url;
}

// ---- platforms and manifests ---------------------------------------------------

std::string Platform::text() const {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Platform parse_platform(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t slash; (slash = text.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(text.substr(start, slash - start));
  parts.push_back(text.substr(start));
  for (const auto& p : parts)
    if (p.empty() || parts.size() > 3)
      throw core::Error("invalid platform \"" + text + "\": expected os/arch[/variant]");
  if (parts.size() == 1) return {"linux", lower(parts[0]), ""};
  Platform p{lower(parts[0]), lower(parts[1]), parts.size() == 3 ? lower(parts[2]) : ""};
  if (p.os != "linux")
    throw core::Error("platform \"" + text + "\" is not supported: skiff runs linux images only");
  return p;
}

Platform host_platform() { return {"linux", detail::oci_architecture(), ""}; }

oci::Descriptor choose_platform(const json& index, const Platform& want) {
  for (const auto& entry : index.value("manifests", json::array())) {
    json p = entry.value("platform", json::object());
    std::string arch = p.value("architecture", "");
    if (p.value("os", "") != want.os || arch != want.architecture) continue;
    if (!want.variant.empty() &&
        normal_variant(arch, p.value("variant", "")) != normal_variant(arch, want.variant))
      continue;
    return checked_descriptor(entry, "platform manifest");
  }
  throw core::Error("no matching manifest for " + want.text() + " in the manifest list entries");
}

ImageManifest parse_image_manifest(const std::string& bytes) {
  json m = oci::parse_json(bytes, "manifest");
  if (!m.is_object() || m.value("schemaVersion", 0) != 2 || !m.contains("config"))
    throw core::Error("manifest: not an image manifest of schema version 2");
  ImageManifest out;
  out.config = checked_descriptor(m.at("config"), "config");
  for (const auto& l : m.value("layers", json::array())) out.layers.push_back(checked_descriptor(l, "layer"));
  return out;
}

std::string manifest_media_type(const json& manifest, const std::string& content_type) {
  std::string type = manifest.is_object() ? manifest.value("mediaType", "") : "";
  if (!type.empty()) return type;
  return content_type.substr(0, content_type.find(';'));
}

// ---- errors -------------------------------------------------------------------

std::string error_text(const http::Response& response) {
  try {
    json body = json::parse(response.body);
    const json& e = body.at("errors").at(0);
    std::string code = lower(e.value("code", "unknown"));
    std::replace(code.begin(), code.end(), '_', ' ');
    return code + ": " + e.value("message", "");
  } catch (const json::exception&) {
    auto reason = reasons().find(response.status);
    return std::to_string(response.status) + (reason == reasons().end() ? "" : " " + reason->second);
  }
}

std::string daemon_error(const std::string& text) { return "Error response from daemon: " + text; }

}  // namespace skiff::images::registry
