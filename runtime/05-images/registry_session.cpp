// 05-images/registry_session.cpp — one conversation with a registry, and the
// credentials it asks for (see registry.hpp, Session).
//
// Lesson: lessons/05-images ("who may pull"). A registry says how to log in
// only when refused: GET /v2/ answers 401 with a challenge.
//   WWW-Authenticate: Basic realm="…"      → send "Authorization: Basic base64(user:pass)"
//   WWW-Authenticate: Bearer realm="https://auth…/token",service="…"
//                                          → GET realm?service=…&scope=repository:NAME:pull
//                                            (with the user's Basic credentials, if any),
//                                            then send "Authorization: Bearer <token>"
// Docker Hub uses the second: even an anonymous pull first fetches a token.
#include <chrono>
#include <cstdlib>
#include <thread>

#include "05-images/registry.hpp"
#include "core/error.hpp"

namespace skiff::images::registry {

using json = nlohmann::json;

namespace {

std::string scope_of(const Session::Target& t) {
  return t.repository.empty() ? "" : "repository:" + t.repository + ":" + t.actions;
}

const Challenge* find_scheme(const std::vector<Challenge>& challenges, const std::string& scheme) {
  for (const auto& c : challenges)
    if (c.scheme == scheme) return &c;
  return nullptr;
}

// Every request's Authorization header, when there is one.
void add_authorization(http::Request& request, const std::string& authorization) {
  if (!authorization.empty()) request.headers.push_back("Authorization: " + authorization);
}

}  // namespace

Session::Session(Target target, std::optional<Credentials> credentials)
    : target_(std::move(target)), credentials_(std::move(credentials)) {}

void Session::ping() {
  std::string last_error = "no registry address to try";
  auto pause = std::chrono::milliseconds(200);
  // Each base URL once per round (https, then http where allowed); a round
  // is repeated when none answered, as a connection may fail briefly.
  for (int round = 0; round < 4; ++round) {
    for (const auto& base : target_.base_urls) {
      http::Response r;
      try {
        r = http::perform({.url = base + "/v2/", .verify_tls = target_.verify_tls});
      } catch (const http::TransportError& e) {
        last_error = e.what();
        continue;
      }
      if (r.status >= 500) {
        last_error = "Get \"" + base + "/v2/\": " + error_text(r);
        continue;
      }
      base_ = base;
      if (r.status == 401) authenticate(parse_www_authenticate(r.header("www-authenticate")), scope_of(target_));
      return;
    }
    if (round < 3) std::this_thread::sleep_for(pause), pause *= 2;
  }
  throw core::Error(daemon_error(last_error));
}

void Session::authenticate(const std::vector<Challenge>& challenges, const std::string& scope) {
  std::string authorization;
  if (const Challenge* bearer = find_scheme(challenges, "bearer")) {
    authorization = "Bearer " + fetch_token(*bearer, scope);
  } else if (find_scheme(challenges, "basic")) {
    if (credentials_) authorization = "Basic " + encode_auth(*credentials_);
  } else {
    throw core::Error(daemon_error("the registry at " + base_ +
                                   " asks for an authentication scheme skiff does not speak"));
  }
  std::lock_guard lock(mutex_);
  authorization_ = authorization;
}

std::string Session::fetch_token(const Challenge& bearer, const std::string& scope) {
  http::Request request{.url = token_url(bearer, scope), .verify_tls = target_.verify_tls};
  if (credentials_) add_authorization(request, "Basic " + encode_auth(*credentials_));
  http::Response r = http::perform_with_retries(request);
  if (r.status == 401)
    throw core::Error(daemon_error("Get \"" + base_ + "/v2/\": unauthorized: incorrect username or password"));
  if (r.status != 200)
    throw core::Error(daemon_error("Get \"" + request.url + "\": " + error_text(r)));
  try {
    json body = json::parse(r.body);
    std::string token = body.value("token", "");
    if (token.empty()) token = body.value("access_token", "");
    if (!token.empty()) return token;
  } catch (const json::exception&) {
  }
  throw core::Error(daemon_error("the token server " + bearer.params.at("realm") + " sent no token"));
}

std::string Session::authorization() {
  std::lock_guard lock(mutex_);
  return authorization_;
}

http::Response Session::send(http::Request request, const std::string& path_or_url) {
  if (base_.empty()) ping();
  request.url = path_or_url.starts_with("http") ? path_or_url : base_ + path_or_url;
  request.verify_tls = target_.verify_tls;
  http::Request authorized = request;
  add_authorization(authorized, authorization());
  http::Response r = http::perform_with_retries(authorized);
  if (r.status != 401) return r;
  // The token expired, or this request needs more: ask again, once.
  authenticate(parse_www_authenticate(r.header("www-authenticate")), scope_of(target_));
  add_authorization(request, authorization());
  return http::perform_with_retries(request);
}

void Session::check_login() {
  ping();
  if (authorization().empty() && !credentials_) return;
  http::Response r = send({}, "/v2/");
  if (r.status == 401)
    throw core::Error(daemon_error("login attempt to " + base_ + "/v2/ failed with status: 401 Unauthorized"));
  if (r.status != 200) throw core::Error(daemon_error("Get \"" + base_ + "/v2/\": " + error_text(r)));
}

Session::Target target_for(const std::string& registry, const std::string& repository,
                           const std::string& actions, const ClientConfig& config) {
  std::string host = api_host(registry, std::getenv(kDockerHubEnv));
  bool insecure = is_loopback(host) || std::find(config.insecure.begin(), config.insecure.end(),
                                                 host) != config.insecure.end();
  return {base_urls(host, config.insecure), !insecure, repository, actions};
}

Session::Target mirror_target(const std::string& mirror_url, const std::string& repository,
                              const ClientConfig& config) {
  std::string base = mirror_url;
  while (base.ends_with("/")) base.pop_back();
  std::string host = normalize_server(base);
  bool insecure = is_loopback(host) || std::find(config.insecure.begin(), config.insecure.end(),
                                                 host) != config.insecure.end();
  if (!base.starts_with("http://") && !base.starts_with("https://")) base = "https://" + base;
  return {{base}, !insecure, repository, "pull"};
}

void check_login(const std::string& registry, const Credentials& credentials, const ClientConfig& config) {
  Session session(target_for(registry, "", "", config), credentials);
  session.check_login();
}

}  // namespace skiff::images::registry
