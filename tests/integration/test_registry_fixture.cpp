// tests/integration/test_registry_fixture.cpp — the loopback registry, token
// server and helpers of tests/registry/fixture.hpp (no test cases here).
// Lesson: lessons/05-images.
#include "../registry/fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace regtest {

namespace {

using Clock = std::chrono::steady_clock;

const stdfs::path kScripts = stdfs::path(SKIFF_SOURCE_DIR) / "tests" / "registry";

void write_text(const stdfs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Can a TCP connection to 127.0.0.1:PORT be made?
bool accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string registry_config(const stdfs::path& dir, int port, bool basic_auth) {
  std::string yml = "version: 0.1\n"
                    "log:\n  level: info\n"
                    "storage:\n  filesystem:\n    rootdirectory: " + (dir / "storage").string() + "\n"
                    "  delete:\n    enabled: true\n"
                    "http:\n  addr: 127.0.0.1:" + std::to_string(port) + "\n  secret: skiff-test\n";
  if (basic_auth)
    yml += "auth:\n  htpasswd:\n    realm: skiff-test\n    path: " + (dir / "htpasswd").string() + "\n";
  return yml;
}

// "user:$2b$…": bcrypt, the only hash docker-registry's htpasswd accepts.
std::string htpasswd_line(const std::string& user, const std::string& password) {
  auto r = run_tool({"python3", "-W", "ignore", "-c",
                     "import crypt, sys; print(sys.argv[1] + ':' + "
                     "crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
                     user, password});
  REQUIRE(r.code == 0);
  return r.output;
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) FAIL("mkdtemp: " << std::strerror(errno));
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  stdfs::remove_all(path_, ec);
}

EnvVar::EnvVar(std::string name, const std::string& value) : name_(std::move(name)) {
  if (const char* v = ::getenv(name_.c_str())) before_ = v;
  ::setenv(name_.c_str(), value.c_str(), 1);
}

EnvVar::~EnvVar() {
  if (before_) ::setenv(name_.c_str(), before_->c_str(), 1);
  else ::unsetenv(name_.c_str());
}

Server::Server(const std::vector<std::string>& argv, const stdfs::path& log) {
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ > 0) return;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives a crashed test
  int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int in = ::open("/dev/null", O_RDONLY);
  ::dup2(in, 0), ::dup2(out, 1), ::dup2(out, 2);
  ::signal(SIGPIPE, SIG_DFL);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

bool Server::running() {
  return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0;
}

Server::~Server() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

ToolResult run_tool(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1), ::dup2(pipe_fds[1], 2);
    ::signal(SIGPIPE, SIG_DFL);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  ToolResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) != 0;)
    if (n > 0) r.output.append(buf, static_cast<size_t>(n));
    else if (errno != EINTR) break;
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

LocalRegistry::LocalRegistry(const Options& options) : dir_("skiff-registry"), auth_(options.basic_auth) {
  if (auth_) write_text(dir_.path() / "htpasswd", htpasswd_line(auth_->first, auth_->second));
  // The free port may be taken between bind and the registry's own bind:
  // then the registry exits, and another port is tried.
  for (int attempt = 0; attempt < 3 && address_.empty(); ++attempt) {
    int port = free_port();
    write_text(dir_.path() / "config.yml", registry_config(dir_.path(), port, auth_.has_value()));
    server_.reset();
    server_.emplace(std::vector<std::string>{"/usr/bin/docker-registry", "serve",
                                             (dir_.path() / "config.yml").string()},
                    dir_.path() / "log");
    for (auto end = Clock::now() + std::chrono::seconds(15); Clock::now() < end && server_->running();) {
      if (accepts(port)) {
        address_ = "127.0.0.1:" + std::to_string(port);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  INFO("registry log: " << log());
  REQUIRE(!address_.empty());
}

std::string LocalRegistry::log() const { return it::read_file(dir_.path() / "log"); }

stdfs::path LocalRegistry::blob_data(const std::string& digest) const {
  std::string hex = digest.substr(7);
  return storage() / "docker" / "registry" / "v2" / "blobs" / "sha256" / hex.substr(0, 2) / hex / "data";
}

void LocalRegistry::seed_busybox(it::Sandbox& box, const std::string& name) const {
  REQUIRE(box.run({"images"}).code == 0);  // makes the built-in busybox
  std::vector<std::string> argv{"skopeo", "copy", "-q", "--dest-tls-verify=false"};
  if (auth_) argv.insert(argv.end(), {"--dest-creds", auth_->first + ":" + auth_->second});
  argv.push_back("oci:" + (box.root() / "images").string() + ":docker.io/library/busybox:latest");
  argv.push_back("docker://" + address_ + "/" + name + ":latest");
  auto r = run_tool(argv);
  INFO(r.output);
  REQUIRE(r.code == 0);
}

void LocalRegistry::make_images(const std::string& what) const {
  TempDir work("skiff-reg-images");
  auto r = run_tool({(kScripts / "make-images.sh").string(), address_, work.path().string(), what});
  INFO(r.output);
  REQUIRE(r.code == 0);
}

TokenServer::TokenServer(const LocalRegistry& backend, const std::string& user_colon_password)
    : dir_("skiff-tokens") {
  auto port_file = dir_.path() / "port";
  server_.emplace(std::vector<std::string>{"python3", (kScripts / "token_server.py").string(),
                                           backend.address(), port_file.string(), user_colon_password},
                  dir_.path() / "log");
  for (auto end = Clock::now() + std::chrono::seconds(15); Clock::now() < end && server_->running();) {
    std::string port = it::read_file(port_file);
    if (!port.empty() && accepts(std::stoi(port))) {
      address_ = "127.0.0.1:" + port;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO("token server log: " << log());
  REQUIRE(!address_.empty());
}

std::string TokenServer::log() const { return it::read_file(dir_.path() / "log"); }

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

std::vector<std::string> store_files(const it::Sandbox& box) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(box.root() / "images", ec);
       it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == "lock") continue;
    std::string size = it->is_regular_file() ? " " + std::to_string(it->file_size()) : "";
    out.push_back(it->path().string() + size);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace regtest
