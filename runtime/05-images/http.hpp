// 05-images/http.hpp — HTTP requests through libcurl, loaded only when needed.
//
// Concept: a registry speaks plain HTTP(S) (the distribution spec's API v2);
//   this is the one place skiff opens a connection to another machine.
// Why dlopen: `skiff` is linked statically so that `run` starts in a few
//   milliseconds (runtime/CMakeLists.txt). libcurl, linked the usual way,
//   would bring in some thirty shared libraries (OpenSSL, nghttp2, libssh2,
//   Kerberos, LDAP, …) that the dynamic loader would map and relocate on
//   every start of every container, although only pull, push and login need
//   them. So skiff compiles against <curl/curl.h> for the types and calls
//   dlopen("libcurl.so.4") the first time a registry is contacted, then
//   resolves the nine functions it uses. A machine without libcurl can still
//   run containers; pull says clearly what is missing.
// Man pages: dlopen(3), libcurl-easy(3), curl_easy_setopt(3).
// Runs in: the CLI (pull, push, login, run of a missing image).
// Privilege: none.
// Lesson: lessons/05-images ("talking to a registry").
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace skiff::images::http {

namespace stdfs = std::filesystem;

struct Request {
  std::string method = "GET";  // GET, HEAD, POST, PUT
  std::string url;
  std::vector<std::string> headers;  // "Accept: …", "Authorization: …"
  std::string body;                  // sent by POST and PUT…
  stdfs::path body_file;             // …unless this names a file to upload
  stdfs::path save_to;               // the response body goes here instead of Response::body
  bool verify_tls = true;            // off only for insecure registries
  // Called as bytes arrive: (received, expected or 0 when unknown).
  std::function<void(int64_t, int64_t)> progress;
};

struct Response {
  long status = 0;
  std::string body;                            // empty when saved to a file
  std::map<std::string, std::string> headers;  // names in lower case; the last of each
  std::string header(const std::string& lower_name) const;
};

// The connection itself failed (refused, name unknown, TLS, reset): no HTTP
// status to report. Its text is curl's, e.g. "Couldn't connect to server".
class TransportError : public core::Error {
 public:
  using core::Error::Error;
};

// One request, no retry. Redirects are followed (blobs are often served from
// another host; curl then drops the Authorization header, as it should).
// Throws TransportError, or core::Error when libcurl cannot be loaded.
Response perform(const Request& request);

// perform(), tried up to 1 + RETRIES times while the connection fails or the
// server answers 5xx, waiting 0.2 s, 0.4 s, 0.8 s… in between. A body saved
// to a file starts again from the first byte.
Response perform_with_retries(const Request& request, int retries = 3);

}  // namespace skiff::images::http
