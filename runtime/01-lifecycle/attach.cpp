// 01-lifecycle/attach.cpp — see attach.hpp.
#include "01-lifecycle/attach.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "01-lifecycle/attach_protocol.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::lifecycle {
namespace {

// Raw mode for as long as we are attached: every key goes to the
// container, unechoed and unbuffered. Restored even when we throw.
class RawTerminal {
 public:
  explicit RawTerminal(bool on) {
    if (!on || ::tcgetattr(STDIN_FILENO, &saved_) < 0) return;
    struct termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  struct termios saved_ {};
  bool active_ = false;
};

volatile sig_atomic_t g_window_changed = 1;  // 1: send the size once at start
void on_winch(int) { g_window_changed = 1; }

bool send_frame(int fd, char type, const void* data, unsigned size) {
  unsigned char header[attach::kHeaderSize] = {static_cast<unsigned char>(type),
                                               static_cast<unsigned char>(size),
                                               static_cast<unsigned char>(size >> 8),
                                               static_cast<unsigned char>(size >> 16),
                                               static_cast<unsigned char>(size >> 24)};
  return ::write(fd, header, sizeof header) == sizeof header &&
         (size == 0 || ::write(fd, data, size) == static_cast<ssize_t>(size));
}

void send_window_size(int fd) {
  struct winsize ws {};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0) return;
  unsigned char size[4] = {static_cast<unsigned char>(ws.ws_row),
                           static_cast<unsigned char>(ws.ws_row >> 8),
                           static_cast<unsigned char>(ws.ws_col),
                           static_cast<unsigned char>(ws.ws_col >> 8)};
  send_frame(fd, attach::kWindowSize, size, sizeof size);
}

core::Fd connect_to(const std::string& path) {
  core::Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (!sock.valid() || ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throw core::Error("cannot attach: nothing listens on " + path +
                          " (only containers started with -d, -t or start can be attached)",
                      1);
  return sock;
}

unsigned char key_code(std::string key) {
  if (key.size() == 1) return static_cast<unsigned char>(key[0]);
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // CTRL-P
  if (key.rfind("ctrl-", 0) == 0 && key.size() == 6) {
    char c = key[5];
    if (c >= 'a' && c <= 'z') return static_cast<unsigned char>(c - 'a' + 1);
    if (c == '@') return 0;
    if (c >= '[' && c <= '_') return static_cast<unsigned char>(c - '[' + 27);
  }
  throw core::Error("Invalid detach keys (" + key + ") provided");
}

}  // namespace

std::vector<unsigned char> parse_detach_keys(const std::string& text) {
  std::vector<unsigned char> keys;
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    keys.push_back(key_code(text.substr(start, comma - start)));
    if (comma == std::string::npos) return keys;
    start = comma + 1;
  }
}

std::string DetachMatcher::feed(const char* data, size_t size, bool& detached) {
  std::string out;
  detached = false;
  for (size_t i = 0; i < size; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    if (matched_ < keys_.size() && c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        detached = true;
        return out;
      }
      continue;
    }
    // The sequence broke off: what was held back was meant for the container.
    out.append(keys_.begin(), keys_.begin() + static_cast<long>(matched_));
    matched_ = 0;
    if (!keys_.empty() && c == keys_[0])
      matched_ = 1;
    else
      out += static_cast<char>(c);
  }
  return out;
}

void relay_terminal(int master) {
  RawTerminal raw(::isatty(STDIN_FILENO));
  struct sigaction sa {};
  sa.sa_handler = on_winch;
  ::sigaction(SIGWINCH, &sa, nullptr);
  g_window_changed = 1;
  bool typing = true;
  char buf[4096];
  for (;;) {
    if (g_window_changed) {
      g_window_changed = 0;
      struct winsize ws {};
      if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
    }
    struct pollfd fds[2] = {{master, POLLIN, 0}, {typing ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) return;  // EIO: every holder of the slave side is gone
      (void)!::write(STDOUT_FILENO, buf, static_cast<size_t>(n));
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0)
        typing = false;
      else
        (void)!::write(master, buf, static_cast<size_t>(n));
    }
  }
}

AttachEnd attach(const std::string& socket_path, bool tty, const AttachOptions& options) {
  DetachMatcher detach(parse_detach_keys(options.detach_keys));  // bad keys: before connecting
  auto sock = connect_to(socket_path);
  bool typing = options.forward_stdin && tty;
  RawTerminal raw(typing && ::isatty(STDIN_FILENO));
  struct sigaction sa {};
  sa.sa_handler = on_winch;
  ::sigaction(SIGWINCH, &sa, nullptr);
  char buf[4096];
  for (;;) {
    if (tty && g_window_changed) {
      g_window_changed = 0;
      send_window_size(sock.get());
    }
    struct pollfd fds[2] = {{sock.get(), POLLIN, 0}, {typing ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw core::SystemError(errno, "poll");
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(sock.get(), buf, sizeof buf);
      if (n <= 0) return AttachEnd::ended;  // the monitor closed: the container ended
      (void)!::write(STDOUT_FILENO, buf, static_cast<size_t>(n));
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) {
        typing = false;  // our input ended; the container's output goes on
        continue;
      }
      bool detached = false;
      auto forward = detach.feed(buf, static_cast<size_t>(n), detached);
      if (!forward.empty()) send_frame(sock.get(), attach::kData, forward.data(), static_cast<unsigned>(forward.size()));
      if (detached) return AttachEnd::detached;
    }
  }
}

}  // namespace skiff::lifecycle
