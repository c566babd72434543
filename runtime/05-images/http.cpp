// 05-images/http.cpp — HTTP through a libcurl loaded at first use (see http.hpp).
//
// Lesson: lessons/05-images ("talking to a registry"). One libcurl "easy"
// handle per request: a pull downloads a few layers at once from threads, and
// an easy handle must not be shared between threads.
#include "05-images/http.hpp"

#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "core/library.hpp"

namespace skiff::images::http {

namespace {

// The libcurl functions skiff calls, resolved from libcurl.so.4.
struct Curl {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

constexpr const char* kLibcurl = "libcurl.so.4";

Curl load_curl() {
  // The handle is never closed: curl keeps global state.
  core::Library lib(kLibcurl, "talking to a registry needs libcurl", "libcurl4");
  Curl c{};
  lib.resolve("curl_global_init", c.global_init);
  lib.resolve("curl_easy_init", c.easy_init);
  lib.resolve("curl_easy_setopt", c.easy_setopt);
  lib.resolve("curl_easy_perform", c.easy_perform);
  lib.resolve("curl_easy_getinfo", c.easy_getinfo);
  lib.resolve("curl_easy_cleanup", c.easy_cleanup);
  lib.resolve("curl_easy_strerror", c.easy_strerror);
  lib.resolve("curl_slist_append", c.slist_append);
  lib.resolve("curl_slist_free_all", c.slist_free_all);
  // Not thread-safe, so done once, before any download thread uses curl.
  if (c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw core::Error("libcurl: global init failed");
  return c;
}

const Curl& curl() {
  // A function-local static is initialised once, thread-safely, and, unlike
  // std::call_once, an exception from load_curl() reaches the caller as
  // skiff's error line: through glibc's pthread_once it aborted instead
  // (found in the micro-VM, where libcurl's libraries were missing).
  static const Curl loaded = load_curl();
  return loaded;
}

// What the callbacks write into while one request runs.
struct Transfer {
  const Request* request;
  CURL* handle;
  Response response;
  std::FILE* file = nullptr;  // request->save_to, opened for this attempt
  bool to_file = false;       // decided on the first byte: only a 2xx goes to the file
  bool decided = false;
};

size_t on_body(char* data, size_t, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->decided) {
    long status = 0;
    curl().easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
    // An error's body (the registry's JSON) is kept to explain the error.
    t->to_file = t->file && status >= 200 && status < 300;
    t->decided = true;
  }
  if (t->to_file) return std::fwrite(data, 1, n, t->file);
  t->response.body.append(data, n);
  return n;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

size_t on_header(char* data, size_t, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, n);
  // A new status line: a redirect's headers are replaced by the next response's.
  if (line.starts_with("HTTP/")) t->response.headers.clear();
  if (auto colon = line.find(':'); colon != std::string::npos)
    t->response.headers[lower(trimmed(line.substr(0, colon)))] = trimmed(line.substr(colon + 1));
  return n;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->progress && t->decided && t->to_file) t->request->progress(now, total);
  return 0;
}

struct EasyDeleter {
  void operator()(CURL* h) const { curl().easy_cleanup(h); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl().slist_free_all(l); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// "GET" → "Get", as Go's net/http (and so Docker) writes it in errors.
std::string method_word(const std::string& method) {
  return method.substr(0, 1) + lower(method.substr(1));
}

void set_method_and_body(const Curl& c, CURL* h, const Request& r, std::FILE* upload) {
  if (r.method == "HEAD") {
    c.easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (upload) {
    c.easy_setopt(h, CURLOPT_UPLOAD, 1L);  // a PUT of the file's bytes
    c.easy_setopt(h, CURLOPT_READDATA, upload);
    c.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(stdfs::file_size(r.body_file)));
    if (r.method != "PUT") c.easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    c.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    c.easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    if (r.method != "POST") c.easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else if (r.method != "GET") {
    c.easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
}

}  // namespace

std::string Response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

Response perform(const Request& request) {
  const Curl& c = curl();
  std::unique_ptr<CURL, EasyDeleter> h(c.easy_init());
  if (!h) throw core::Error("libcurl: cannot make a request handle");
  std::unique_ptr<curl_slist, ListDeleter> headers;
  // "Expect:" turns off curl's wait for "100 Continue" before an upload.
  for (const auto& line : request.headers) headers.reset(c.slist_append(headers.release(), line.c_str()));
  headers.reset(c.slist_append(headers.release(), "Expect:"));
  std::unique_ptr<std::FILE, FileCloser> upload, download;
  if (!request.body_file.empty()) upload.reset(std::fopen(request.body_file.c_str(), "rb"));
  if (!request.save_to.empty()) download.reset(std::fopen(request.save_to.c_str(), "wb"));
  if ((!request.body_file.empty() && !upload) || (!request.save_to.empty() && !download))
    throw core::SystemError(errno, "open(" + (upload ? request.save_to : request.body_file).string() + ")");

  Transfer t{&request, h.get(), {}, download.get()};
  char error[CURL_ERROR_SIZE] = "";
  CURL* e = h.get();
  c.easy_setopt(e, CURLOPT_URL, request.url.c_str());
  c.easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  c.easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  c.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  c.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  c.easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  c.easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
  c.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled transfer fails after a minute
  c.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  c.easy_setopt(e, CURLOPT_USERAGENT, "skiff/" SKIFF_VERSION);
  c.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  c.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  c.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  c.easy_setopt(e, CURLOPT_WRITEDATA, &t);
  c.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  c.easy_setopt(e, CURLOPT_HEADERDATA, &t);
  c.easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  c.easy_setopt(e, CURLOPT_XFERINFODATA, &t);
  c.easy_setopt(e, CURLOPT_NOPROGRESS, request.progress ? 0L : 1L);
  set_method_and_body(c, e, request, upload.get());

  CURLcode code = c.easy_perform(e);
  if (code != CURLE_OK)
    throw TransportError(method_word(request.method) + " \"" + request.url + "\": " +
                         (error[0] ? error : c.easy_strerror(code)));
  c.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t.response.status);
  if (download && std::fflush(download.get()) != 0)
    throw core::SystemError(errno, "write(" + request.save_to.string() + ")");
  return std::move(t.response);
}

Response perform_with_retries(const Request& request, int retries) {
  auto pause = std::chrono::milliseconds(200);
  for (int attempt = 0;; ++attempt) {
    try {
      Response r = perform(request);
      if (r.status < 500 || attempt == retries) return r;
    } catch (const TransportError&) {
      if (attempt == retries) throw;
    }
    std::this_thread::sleep_for(pause);
    pause *= 2;
  }
}

}  // namespace skiff::images::http
