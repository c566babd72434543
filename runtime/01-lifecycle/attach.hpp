// 01-lifecycle/attach.hpp — a terminal connected to a running container.
//
// `skiff attach` (and `run -it`) connect to the monitor's socket: what the
// container writes comes back, what the user types goes to the container's
// pty, the window size follows the user's terminal (SIGWINCH), and a detach
// sequence (Ctrl-p Ctrl-q unless --detach-keys says otherwise) leaves the
// container running. The user's terminal is put in raw mode meanwhile, so
// that Ctrl-C, arrows and tab reach the container's shell, not this CLI.
// Man pages: pty(7), termios(3) (cfmakeraw), tty_ioctl(4) TIOCSWINSZ.
// Runs in: the CLI. Lesson: lessons/01-first-container.
#pragma once

#include <string>
#include <vector>

namespace skiff::lifecycle {

struct AttachOptions {
  bool forward_stdin = true;                 // -i (or a tty)
  std::string detach_keys = "ctrl-p,ctrl-q";
};

enum class AttachEnd { ended, detached };

// "ctrl-p,ctrl-q" → {0x10, 0x11}; "a,ctrl-@"… Docker's syntax. Throws
// core::Error on anything else. Pure.
std::vector<unsigned char> parse_detach_keys(const std::string& text);

// Watches typed bytes for the detach sequence. Bytes that only began the
// sequence are held back, and forwarded if the sequence breaks off. Pure.
class DetachMatcher {
 public:
  explicit DetachMatcher(std::vector<unsigned char> keys) : keys_(std::move(keys)) {}
  // Returns the bytes to forward; sets detached when the sequence completed.
  std::string feed(const char* data, size_t size, bool& detached);

 private:
  std::vector<unsigned char> keys_;
  size_t matched_ = 0;
};

// `exec -t`: relays this terminal (raw) and the window size to MASTER, the
// pty of a process started here, until that side closes.
void relay_terminal(int master);

// Connects to SOCKET_PATH and relays until the container ends or the user
// detaches. TTY: the container has a pty (raw mode, window size).
AttachEnd attach(const std::string& socket_path, bool tty, const AttachOptions& options);

}  // namespace skiff::lifecycle
