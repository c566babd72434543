// tests/integration/test_terminal.cpp — `run -t`/`-it`, detach keys and
// `attach`, driven the way a user drives them: from a real terminal. Each
// `skiff` here runs in a pseudo-terminal of its own (forkpty(3)), so it
// sees a tty on stdin, puts it in raw mode and follows its window size.
// Lesson: 01-first-container. Needs root.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"

using it::contains;
using it::lines;

namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr const char* kPrompt = "# ";  // busybox sh's, as root
constexpr const char* kDetach = "\x10\x11";  // Ctrl-p Ctrl-q

// `skiff ARGS` in a terminal of its own, ROWS×COLS, with the Sandbox's store.
// What it writes accumulates in output(); expect() waits for text in what
// came after the previous expect(). The destructor kills and reaps it.
class Terminal {
 public:
  Terminal(it::Sandbox& box, const std::vector<std::string>& args, unsigned short rows = 24,
           unsigned short cols = 80) {
    struct winsize ws {};
    ws.ws_row = rows;
    ws.ws_col = cols;
    int master = -1;
    pid_ = ::forkpty(&master, nullptr, nullptr, &ws);
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::signal(SIGPIPE, SIG_DFL);  // ignored in the harness
      ::setenv("SKIFF_ROOT", box.root().c_str(), 1);
      std::vector<char*> argv{const_cast<char*>(SKIFF_BIN)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(SKIFF_BIN, argv.data());
      std::perror("exec " SKIFF_BIN);
      ::_exit(127);
    }
    master_ = master;
    ::fcntl(master_, F_SETFL, ::fcntl(master_, F_GETFL) | O_NONBLOCK);
    ::fcntl(master_, F_SETFD, FD_CLOEXEC);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;
  ~Terminal() {
    if (status_ < 0 && pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }

  void type(const std::string& keys) {
    size_t done = 0;
    while (done < keys.size()) {
      ssize_t n = ::write(master_, keys.data() + done, keys.size() - done);
      if (n < 0 && errno == EAGAIN) {
        pump(Seconds(0.01));
        continue;
      }
      REQUIRE(n > 0);
      done += static_cast<size_t>(n);
    }
  }

  // Waits up to TIMEOUT for TEXT in the output since the last expect(); on
  // success the next expect() looks after it.
  bool expect(const std::string& text, Seconds timeout = Seconds(10)) {
    auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    for (;;) {
      auto at = output_.find(text, seen_);
      if (at != std::string::npos) {
        seen_ = at + text.size();
        return true;
      }
      if (Clock::now() >= end) return missing(text);
      if (!pump(Seconds(0.05)) && finished()) {  // nothing more can come
        at = output_.find(text, seen_);
        if (at == std::string::npos) return missing(text);
        seen_ = at + text.size();
        return true;
      }
    }
  }

  // Waits for the shell's prompt. Only what the container writes after
  // skiff has connected comes through, so a first prompt may go unseen:
  // an empty line asks for another.
  bool prompt() {
    for (int i = 0; i < 30; ++i) {
      if (expect(kPrompt, Seconds(0.3))) return true;
      type("\r");
    }
    return missing(kPrompt);
  }

  // Everything it wrote so far; seen() is where the last expect() matched.
  const std::string& output() const { return output_; }
  size_t seen() const { return seen_; }

  // Resizes the terminal: the kernel sends SIGWINCH to its foreground
  // process group, here skiff.
  void resize(unsigned short rows, unsigned short cols) {
    struct winsize ws {};
    ws.ws_row = rows;
    ws.ws_col = cols;
    REQUIRE(::ioctl(master_, TIOCSWINSZ, &ws) == 0);
  }

  bool finished() {
    if (status_ >= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    status_ = status;
    while (pump(Seconds(0))) {  // what it wrote last
    }
    return true;
  }

  // Waits for skiff to end (FAILs after TIMEOUT); its exit code.
  int wait(Seconds timeout = Seconds(30)) {
    auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    while (!finished()) {
      if (Clock::now() >= end) {
        FAIL("skiff did not exit within " << timeout.count() << " s; it wrote:\n" << output_);
      }
      pump(Seconds(0.05));
    }
    UNSCOPED_INFO("skiff wrote:\n" << output_);  // shown if the next check fails
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return -1;
  }

 private:
  bool missing(const std::string& text) {
    UNSCOPED_INFO("no \"" << text << "\" after position " << seen_ << " of:\n" << output_);
    return false;
  }

  // Reads what is there, waiting up to TIMEOUT for something. False when
  // nothing came (or the terminal has no more writers).
  bool pump(Seconds timeout) {
    struct pollfd p = {master_, POLLIN, 0};
    int ms = static_cast<int>(timeout.count() * 1000);
    if (::poll(&p, 1, ms) <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n <= 0) return false;  // EIO: every slave side closed
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int master_ = -1;
  int status_ = -1;
  std::string output_;
  size_t seen_ = 0;
};

std::string row_of(it::Sandbox& box, const std::vector<std::string>& ps_args,
                   const std::string& name) {
  for (const auto& line : lines(box.run(ps_args).out))
    if (contains(line, name)) return line;
  return "";
}

// The row of `ps -a` once it no longer says "Up" (it may take a moment to
// record the end after the attached CLI returned).
std::string exited_row(it::Sandbox& box, const std::string& name) {
  auto row = row_of(box, {"ps", "-a"}, name);
  for (int i = 0; i < 200 && !contains(row, "Exited ("); ++i) {
    ::usleep(20000);
    row = row_of(box, {"ps", "-a"}, name);
  }
  return row;
}

}  // namespace

TEST_CASE("run -it: a shell in a terminal of the user's size, and its exit code", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  Terminal t(box, {"run", "-it", "--rm", "busybox", "sh"}, 31, 97);
  REQUIRE(t.prompt());
  // The typed line comes back echoed as typed: look for what only its
  // result holds.
  t.type("echo A$((6*7))Z; tty; stty size; echo END$((1+1))\r");
  REQUIRE(t.expect("A42Z"));
  auto from = t.seen();
  REQUIRE(t.expect("END2"));
  auto between = t.output().substr(from, t.seen() - from);
  CHECK_THAT(between, Catch::Contains("/dev/"));  // a terminal's name, not "not a tty"
  CHECK_THAT(between, !Catch::Contains("not a tty"));
  CHECK_THAT(between, Catch::Contains("31 97"));
  // The terminal line discipline (ONLCR) ends lines with \r\n.
  CHECK_THAT(between, Catch::Contains("\r\n"));

  t.resize(40, 120);
  ::usleep(200000);  // SIGWINCH → skiff → the monitor → the container's pty
  t.type("stty size; echo END$((2+1))\r");
  from = t.seen();
  REQUIRE(t.expect("END3"));
  CHECK_THAT(t.output().substr(from), Catch::Contains("40 120"));

  t.type("exit 3\r");
  CHECK(t.wait() == 3);
  CHECK(box.run({"ps", "-a", "-q"}).out.empty());  // --rm
}

TEST_CASE("run -it: Ctrl-C interrupts the shell's foreground job, not the container") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("ctrlc");
  Terminal t(box, {"run", "-it", "--name", name, "busybox", "sh"});
  REQUIRE(t.prompt());
  t.type("sleep 30\r");
  REQUIRE(t.expect("sleep 30"));  // echoed: the shell has read the line
  ::usleep(300000);               // and started sleep
  auto sent = Clock::now();
  t.type("\x03");
  REQUIRE(t.expect(kPrompt, Seconds(2)));
  CHECK(Clock::now() - sent < std::chrono::seconds(2));
  CHECK_FALSE(t.finished());
  CHECK(contains(row_of(box, {"ps"}, name), "Up "));
  t.type("echo B$((5+5))\r");
  CHECK(t.expect("B10"));
  t.type("exit\r");
  CHECK(t.wait() == 0);
}

TEST_CASE("run -it: Ctrl-p Ctrl-q detaches, attach comes back and returns the exit code") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("detach");
  {
    Terminal t(box, {"run", "-it", "--name", name, "busybox", "sh"});
    REQUIRE(t.prompt());
    t.type("echo C$((3*3))\r");
    REQUIRE(t.expect("C9"));
    t.type(kDetach);
    CHECK(t.wait() == 0);
    CHECK_THAT(t.output(), Catch::Contains("detached"));
  }
  CHECK(contains(row_of(box, {"ps"}, name), "Up "));

  Terminal a(box, {"attach", name}, 30, 100);
  // attach shows what comes from now on: no prompt to wait for.
  a.type("echo back$((2*2))\r");
  REQUIRE(a.expect("back4"));
  a.type("stty size; echo END$((1+2))\r");
  auto from = a.seen();
  REQUIRE(a.expect("END3"));
  CHECK_THAT(a.output().substr(from), Catch::Contains("30 100"));  // the new terminal's size
  a.type("exit 4\r");
  CHECK(a.wait() == 4);
  CHECK(contains(exited_row(box, name), "Exited (4)"));
}

TEST_CASE("attach: two clients at once both see the container's output") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("twoclients");
  REQUIRE(box.run({"run", "-d", "-it", "--name", name, "busybox", "sh"}).code == 0);
  box.wait_running(name);
  Terminal a(box, {"attach", name});
  Terminal b(box, {"attach", name});
  // Both connected once what is typed in A shows in B.
  bool both = false;
  for (int i = 0; i < 50 && !both; ++i) {
    a.type("echo P$((" + std::to_string(i) + "+1000))\r");
    both = b.expect("P" + std::to_string(i + 1000), Seconds(0.2));
  }
  REQUIRE(both);
  a.type("echo D$((7*6))\r");
  CHECK(a.expect("D42"));
  CHECK(b.expect("D42"));
  b.type("echo E$((7*7))\r");
  CHECK(a.expect("E49"));
  CHECK(b.expect("E49"));
  // One detaches: the other stays.
  a.type(kDetach);
  CHECK(a.wait() == 0);
  b.type("echo F$((8*8))\r");
  CHECK(b.expect("F64"));
  b.type("exit 5\r");
  CHECK(b.wait() == 5);
  CHECK(contains(exited_row(box, name), "Exited (5)"));
}

TEST_CASE("run -it --detach-keys: another sequence, and Ctrl-p Ctrl-q reach the shell") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("keys");
  Terminal t(box, {"run", "-it", "--detach-keys", "ctrl-a", "--name", name, "busybox", "sh"});
  REQUIRE(t.prompt());
  // A raw terminal inside (no XON/XOFF): read the next two bytes as hex.
  t.type("stty raw; head -c 2 | od -An -tx1; stty sane; echo END$((1+1))\r");
  REQUIRE(t.expect("stty sane"));  // the echo of the line
  ::usleep(300000);
  t.type(kDetach);
  auto from = t.seen();
  REQUIRE(t.expect("END2"));
  CHECK_THAT(t.output().substr(from), Catch::Contains("10 11"));
  CHECK_FALSE(t.finished());
  t.type("\x01");
  CHECK(t.wait() == 0);
  CHECK_THAT(t.output(), Catch::Contains("detached"));
  CHECK(contains(row_of(box, {"ps"}, name), "Up "));
}

TEST_CASE("run -d -it, then attach") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("dit");
  auto r = box.run({"run", "-d", "-it", "--name", name, "busybox", "sh"});
  REQUIRE(r.code == 0);
  CHECK(r.out.size() == 65);  // the id and a newline, nothing of the terminal
  box.wait_running(name);
  ::usleep(300000);  // sh is up: not required, but PID 1 should be waiting
  CHECK(contains(row_of(box, {"ps"}, name), "Up "));
  Terminal a(box, {"attach", name});
  a.type("echo G$((9*9))\r");
  REQUIRE(a.expect("G81"));
  a.type("exit 6\r");
  CHECK(a.wait() == 6);
  CHECK(contains(exited_row(box, name), "Exited (6)"));
}

TEST_CASE("run -t without -i: output through a terminal, and the exit code") {
  it::require_root();
  it::Sandbox box;
  Terminal t(box, {"run", "-t", "--rm", "busybox", "echo", "hi"});
  CHECK(t.wait(Seconds(10)) == 0);
  // No -i: skiff leaves the user's terminal cooked, which adds its own \r.
  CHECK_THAT(t.output(), Catch::Contains("hi\r"));
  Terminal code(box, {"run", "-t", "--rm", "busybox", "sh", "-c", "exit 7"});
  CHECK(code.wait(Seconds(10)) == 7);
  // Without a terminal around skiff too (a pipe): the output still comes.
  auto piped = box.run({"run", "-t", "--rm", "busybox", "echo", "hi"});
  CHECK(piped.code == 0);
  CHECK_THAT(piped.out, Catch::Contains("hi"));
  CHECK(box.run({"ps", "-a", "-q"}).out.empty());
}

TEST_CASE("logs of a terminal container: its lines without a carriage return") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("ttylogs");
  // (The sleep: skiff has attached by then, see "run -t without -i".)
  Terminal t(box, {"run", "-t", "--name", name, "busybox", "sh", "-c",
                   "sleep 0.5; echo one; echo two"});
  CHECK(t.wait() == 0);
  CHECK_THAT(t.output(), Catch::Contains("one\r") && Catch::Contains("two\r"));
  auto logs = box.run({"logs", name});
  CHECK(logs.code == 0);
  CHECK(logs.out == "one\ntwo\n");
  CHECK_FALSE(contains(logs.out + logs.err, "\r"));
}

TEST_CASE("attach and detach keys: bad input") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("stopped");
  REQUIRE(box.run({"run", "--name", name, "busybox", "true"}).code == 0);
  auto stopped = box.run({"attach", name});
  CHECK(stopped.code == 1);
  CHECK(contains(stopped.err, "You cannot attach to a stopped container"));
  auto nosuch = box.run({"attach", "nosuch"});
  CHECK(nosuch.code == 1);
  CHECK(contains(nosuch.err, "No such container"));
  CHECK(box.run({"rm", name}).code == 0);

  Terminal t(box, {"run", "-it", "--detach-keys", "ctrl-", "busybox", "sh"});
  CHECK(t.wait() == 125);
  CHECK_THAT(t.output(), Catch::Contains("Invalid detach keys"));
  CHECK(box.run({"ps", "-a", "-q"}).out.empty());
  CHECK(box.container_entries().empty());
  auto attach_keys = box.run({"run", "-d", "-it", "--name", name, "busybox", "sh"});
  REQUIRE(attach_keys.code == 0);
  auto bad = box.run({"attach", "--detach-keys", "ctrlp", name});
  CHECK(bad.code != 0);
  CHECK(contains(bad.err, "Invalid detach keys"));
  CHECK(contains(row_of(box, {"ps"}, name), "Up "));
}

TEST_CASE("exec -it: a shell in the running container, on a pty of its own devpts", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("execit");
  REQUIRE(box.run({"run", "-d", "--name", name, "busybox", "sleep", "60"}).code == 0);
  Terminal t(box, {"exec", "-it", name, "sh"}, 27, 88);
  REQUIRE(t.prompt());
  t.type("tty; stty size; echo $TERM; echo END$((4+4))\r");
  auto from = t.seen();
  REQUIRE(t.expect("END8"));
  auto between = t.output().substr(from, t.seen() - from);
  CHECK_THAT(between, Catch::Contains("/dev/pts/0"));  // the container's own devpts
  CHECK_THAT(between, Catch::Contains("27 88"));
  CHECK_THAT(between, Catch::Contains("xterm"));
  t.type("exit 6\r");
  CHECK(t.wait() == 6);
  CHECK(contains(row_of(box, {"ps"}, name), "Up "));  // PID 1 goes on
}

TEST_CASE("exec -d starts a process in the container and returns at once") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("execd");
  REQUIRE(box.run({"run", "-d", "--name", name, "busybox", "sleep", "60"}).code == 0);
  auto started = Clock::now();
  REQUIRE(box.run({"exec", "-d", name, "sh", "-c", "sleep 1; echo ran > /tmp/mark"}).code == 0);
  CHECK(Clock::now() - started < std::chrono::milliseconds(900));
  CHECK(box.run({"exec", name, "cat", "/tmp/mark"}).code != 0);  // not yet
  ::usleep(1500000);
  CHECK(box.run({"exec", name, "cat", "/tmp/mark"}).out == "ran\n");
}

TEST_CASE("start -ai gives a -t container its terminal back") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("startai");
  {
    Terminal first(box, {"run", "-it", "--name", name, "busybox", "sh"});
    REQUIRE(first.prompt());
    first.type("echo one > /kept; exit 2\r");
    CHECK(first.wait() == 2);
  }
  Terminal again(box, {"start", "-ai", name});
  REQUIRE(again.prompt());
  again.type("cat /kept; echo E$((3*3))\r");
  REQUIRE(again.expect("E9"));
  CHECK_THAT(again.output(), Catch::Contains("one"));
  again.type("exit 4\r");
  CHECK(again.wait() == 4);
}
